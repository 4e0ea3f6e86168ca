//! The gRPC services: they map proto messages to engine calls and back, and
//! nothing else. All state lives in [`App`].

pub mod access;
pub mod caller;
pub mod compensation;
pub mod compensation_convert;
pub mod compensation_runs;
pub mod convert;
pub mod genealogy;
pub mod guard;
pub use crate::app::jobs as operations;
pub use crate::app::limits;
pub mod page_token;
pub use crate::app::runs;
pub mod status;
pub mod team;
pub mod team_convert;
pub mod volume;

use crate::engine::{ChangeSet, EngineResult, Network};
use crate::store::Store;
use caller::Caller;
use limits::Limits;
use page_token::TokenSigner;
use parking_lot::RwLock;
use std::sync::Arc;
use tonic::{Request, Status};

/// The metadata key that names the caller in the audit trail.
pub const ACTOR_HEADER: &str = "x-downline-actor";
/// The longest actor name kept, in bytes.
const MAX_ACTOR_BYTES: usize = 128;

/// The shared state of a running server.
pub struct App {
    /// The network. Writers hold the write lock while they apply a change
    /// and stage it in the store, so the store sees changes in engine order.
    pub network: RwLock<Network>,
    /// The durable store.
    pub store: Store,
    /// Signs page tokens.
    pub tokens: TokenSigner,
    /// Long-running operations.
    pub operations: Arc<operations::Operations>,
    /// Commission runs.
    pub runs: runs::Runs,
    /// Page size and listing depth limits (the guard applies the others).
    pub limits: Limits,
}

impl App {
    /// The state of a server over an opened store and its genealogy.
    pub fn new(store: Store, network: Network, limits: Limits) -> Arc<App> {
        let tokens = TokenSigner::new(store.token_key());
        Arc::new(App {
            network: RwLock::new(network),
            store,
            tokens,
            operations: Arc::default(),
            runs: runs::Runs::default(),
            limits,
        })
    }

    /// The page size of a list request under this server's limit (which
    /// also caps the default).
    pub fn page_size(&self, field_value: i32, default: usize) -> Result<usize, Status> {
        let max = self.limits.max_page_size;
        page_size(field_value, default.min(max), max)
    }

    /// Refuses every request once the store failed (fail-stop).
    pub fn check_healthy(&self) -> Result<(), Status> {
        if self.store.has_failed() {
            return Err(Status::unavailable("the store failed to write to disk; this server serves nothing more"));
        }
        Ok(())
    }

    /// Runs a write: `op` applies it to the genealogy under the write lock
    /// (on a blocking thread: a move can touch millions of partners), the
    /// change is staged in the store under the same lock, and the answer
    /// waits for the flush that makes it durable. A write that changed
    /// nothing (a retry) still waits until everything it could have seen is
    /// durable, so a retry is never acknowledged before its original.
    pub async fn write<T, F>(self: &Arc<Self>, op: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&mut Network) -> EngineResult<(T, Option<ChangeSet>)> + Send + 'static,
    {
        let (value, ticket) = self.write_staged(op).await?;
        self.store.wait_durable(ticket).await.map_err(status::from_store)?;
        Ok(value)
    }

    /// Like [`App::write`] but returns the ticket instead of waiting for
    /// it: a stream stages chunk after chunk and waits once, at the end.
    pub async fn write_staged<T, F>(self: &Arc<Self>, op: F) -> Result<(T, u64), Status>
    where
        T: Send + 'static,
        F: FnOnce(&mut Network) -> EngineResult<(T, Option<ChangeSet>)> + Send + 'static,
    {
        self.check_healthy()?;
        let app = Arc::clone(self);
        let (value, ticket) = tokio::task::spawn_blocking(move || -> Result<(T, u64), Status> {
            let mut network = app.network.write();
            let (value, change) = op(&mut network)?;
            // Staging only reads the network: let readers in meanwhile. The
            // next writer still waits for this guard, so disk order stays
            // engine order.
            let network = parking_lot::RwLockWriteGuard::downgrade(network);
            let ticket = match change {
                Some(change) => app.store.stage(&change, &network).map_err(status::from_store)?,
                None => app.store.last_ticket(),
            };
            Ok((value, ticket))
        })
        .await
        .map_err(status::from_join)??;
        Ok((value, ticket))
    }

    /// Runs a read under the read lock. Reads are bounded (pages, capped
    /// upline walks), so they run inline on the async thread.
    pub fn read<T>(&self, op: impl FnOnce(&Network) -> Result<T, Status>) -> Result<T, Status> {
        self.check_healthy()?;
        op(&self.network.read())
    }
}

/// The caller's identity for the audit trail: an API key's name, followed
/// by `/` and the `x-downline-actor` metadata when the backend names the
/// person it acts for; in open development mode the metadata alone (or
/// "unknown"). Metadata that is not printable ASCII or too long is ignored.
pub fn actor<T>(request: &Request<T>) -> String {
    let named = request
        .metadata()
        .get(ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_ACTOR_BYTES);
    match (request.extensions().get::<Caller>(), named) {
        (Some(Caller::Key { name, .. }), Some(person)) => format!("{name}/{person}"),
        (Some(Caller::Key { name, .. }), None) => name.to_string(),
        (Some(Caller::Partner { id, .. }), _) => format!("partner:{id}"),
        (_, Some(person)) => person.to_owned(),
        (_, None) => "unknown".to_owned(),
    }
}

/// Now, as Unix milliseconds.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The page size of a list request (AIP-158): negative is INVALID_ARGUMENT,
/// 0 is the default, and anything above the maximum is coerced to it.
pub fn page_size(field_value: i32, default: usize, max: usize) -> Result<usize, Status> {
    match field_value {
        v if v < 0 => Err(status::invalid("page_size", format!("{v} is negative"))),
        0 => Ok(default),
        v => Ok((v as usize).min(max)),
    }
}
