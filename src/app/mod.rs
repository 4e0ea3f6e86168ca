//! The application between the transport and the engine: the shared
//! state, its read and write paths, the background jobs (recalculations
//! and commission runs), the close of a period, the limits and the
//! recovery at start-up. No tonic, no proto: the service maps requests to
//! these calls and [`AppError`] to statuses.

pub mod close;
pub mod error;
pub mod export;
pub mod job_budget;
pub mod job_kind;
pub mod job_pool;
pub mod job_spawn;
pub mod jobs;
mod kept_layout;
mod layout_job;
pub mod limits;
mod plan_change;
pub mod recalc;
pub mod recovery;
mod run_store;
pub mod runs;
pub mod simulation;
pub mod team_progress;
mod write_steps;

pub use error::{AppError, AppResult};

use crate::engine::{ChangeSet, EngineError, EngineResult, GenealogyEvent, Network, PartnerIx, Period, VolumeView};
use crate::store::Store;
use jobs::Jobs;
use limits::Limits;
use parking_lot::RwLock;
use std::sync::Arc;

/// The shared state of a running server.
pub struct App {
    /// The network. Writers hold the write lock while they apply a change
    /// and stage it in the store, so the store sees changes in engine order.
    pub network: RwLock<Network>,
    /// The durable store.
    pub store: Store,
    /// Background jobs: recalculations and commission runs, under one
    /// memory budget (`limits.job_memory_bytes`).
    pub jobs: Jobs,
    /// The jobs' test hooks (see `job_spawn`).
    job_hooks: job_spawn::JobHooks,
    /// Page size and listing depth limits (the guard applies the others).
    pub limits: Limits,
    /// Serialises closes (see `close`).
    closing: tokio::sync::Mutex<()>,
    /// Serialises plan changes (see `plan_change`).
    plan_changes: tokio::sync::Mutex<()>,
    /// The turns of GetTeamProgress's large passes (see `team_progress`).
    large_team_passes: team_progress::LargePasses,
    /// The turns of the bulk exports (see `export`).
    exports: export::ExportSlots,
    /// The breadth-first layout the last job captured (see `kept_layout`).
    kept_layout: kept_layout::KeptLayout,
}

impl App {
    /// The state of a server over an opened store and its genealogy.
    /// Its stale team layouts are rebuilt off the lock (`layout_job`).
    pub fn new(store: Store, mut network: Network, limits: Limits) -> Arc<App> {
        network.set_background_layout_rebuilds(true);
        Arc::new(App {
            network: RwLock::new(network),
            store,
            jobs: Jobs::new(limits.job_memory_bytes),
            job_hooks: job_spawn::JobHooks::default(),
            limits,
            closing: tokio::sync::Mutex::new(()),
            plan_changes: tokio::sync::Mutex::new(()),
            large_team_passes: team_progress::LargePasses::default(),
            exports: export::ExportSlots::default(),
            kept_layout: kept_layout::KeptLayout::default(),
        })
    }

    /// The page size of a list request under this server's limit (which
    /// also caps the default).
    pub fn page_size(&self, field_value: i32, default: usize) -> AppResult<usize> {
        let max = self.limits.max_page_size;
        limits::page_size(field_value, default.min(max), max)
    }

    /// The key that signs this server's page tokens (kept in the store;
    /// the signing itself is the transport's).
    pub fn token_key(&self) -> [u8; 16] {
        self.store.token_key()
    }

    /// Runs a write: `op` applies it to the genealogy under the write lock
    /// (on a blocking thread: a move can touch millions of partners), the
    /// change is staged in the store under the same lock, and the answer
    /// waits for the flush that makes it durable. A write that changed
    /// nothing (a retry) still waits until everything it could have seen is
    /// durable, so a retry is never acknowledged before its original.
    ///
    /// **The only write path**, plan updates included (their change set
    /// carries the new plan version). The close is the one documented
    /// exception (see `close`).
    pub async fn write<T, F>(self: &Arc<Self>, op: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Network) -> EngineResult<(T, Option<ChangeSet>)> + Send + 'static,
    {
        let started = std::time::Instant::now();
        let (value, ticket, steps) = self.write_timed(op).await?;
        let staged = started.elapsed();
        self.wait_durable(ticket).await?;
        steps.log(staged, started.elapsed());
        Ok(value)
    }

    /// Like [`App::write`] but returns the ticket instead of waiting for
    /// it: a stream stages chunk after chunk and waits once, at the end.
    pub async fn write_staged<T, F>(self: &Arc<Self>, op: F) -> AppResult<(T, u64)>
    where
        T: Send + 'static,
        F: FnOnce(&mut Network) -> EngineResult<(T, Option<ChangeSet>)> + Send + 'static,
    {
        let (value, ticket, _) = self.write_timed(op).await?;
        Ok((value, ticket))
    }

    /// [`App::write_staged`], with how long each of its steps took.
    async fn write_timed<T, F>(self: &Arc<Self>, op: F) -> AppResult<(T, u64, write_steps::WriteSteps)>
    where
        T: Send + 'static,
        F: FnOnce(&mut Network) -> EngineResult<(T, Option<ChangeSet>)> + Send + 'static,
    {
        let mut steps = write_steps::WriteSteps::start();
        // A failed store refuses the staging (and the guard refuses every
        // request admitted after the failure): fail-stop.
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || -> AppResult<(T, u64, write_steps::WriteSteps)> {
            steps.mark(write_steps::Step::Scheduled);
            let mut network = app.network.write();
            steps.mark(write_steps::Step::Locked);
            let (value, change) = op(&mut network)?;
            steps.mark(write_steps::Step::Applied);
            // The write that found the team layout stale starts its
            // rebuild's snapshot under this lock (`layout_job`).
            let layout_job = network.take_team_layout_job();
            // Staging only reads the network: let readers in meanwhile. The
            // next writer still waits for this guard, so disk order stays
            // engine order.
            let network = parking_lot::RwLockWriteGuard::downgrade(network);
            let ticket = match change {
                Some(change) => app.store.stage(&change, &network),
                None => Ok(app.store.last_ticket()),
            };
            drop(network);
            steps.mark(write_steps::Step::Staged);
            if let Some(job) = layout_job {
                app.spawn_layout_rebuild(job);
            }
            Ok((value, ticket?, steps))
        })
        .await?
    }

    /// Waits until everything staged up to `ticket` is durable.
    pub async fn wait_durable(&self, ticket: u64) -> AppResult<()> {
        Ok(self.store.wait_durable(ticket).await?)
    }

    /// Runs a read under the read lock. Reads are bounded (pages, capped
    /// upline walks), so they run inline on the async thread. The error
    /// type is the caller's: anything an [`AppError`] converts into. Once
    /// the store failed the guard admits no read (fail-stop).
    pub fn read<T, E: From<AppError>>(&self, op: impl FnOnce(&Network) -> Result<T, E>) -> Result<T, E> {
        op(&self.network.read())
    }

    /// A closed period's figures of one partner, read from disk on a
    /// blocking thread (one small sled read); `None` if it was not in the
    /// period.
    pub async fn read_frozen(self: &Arc<Self>, period: Period, ix: PartnerIx) -> AppResult<Option<VolumeView>> {
        let app = Arc::clone(self);
        Ok(tokio::task::spawn_blocking(move || app.store.read_frozen(period, ix)).await??)
    }

    /// A page of audit events after `after_seq` (of one partner when
    /// given), read from sled on a blocking thread, and whether more follow.
    pub async fn list_events(
        self: &Arc<Self>,
        partner_ix: Option<PartnerIx>,
        after_seq: u64,
        size: usize,
    ) -> AppResult<(Vec<(u64, GenealogyEvent)>, bool)> {
        let app = Arc::clone(self);
        let page = tokio::task::spawn_blocking(move || {
            app.store.list_events(&app.network.read().genealogy, partner_ix, after_seq, size)
        });
        Ok(page.await??)
    }
}

/// Now, as Unix milliseconds.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Shorthand for the invalid-argument refusals of the application.
fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Engine(EngineError::invalid(field, message))
}
