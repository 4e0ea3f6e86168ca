//! The registry of long-running operations (AIP-151) and
//! `downline.v1.OperationsService`. Workers update an operation's progress
//! from rayon threads while GetOperation reads it from async tasks: a
//! concurrent map of shared states, so neither ever waits for the other.

use crate::proto::v1 as pb;
use crate::service::now_unix_ms;
use crate::service::status::invalid;
use dashmap::DashMap;
use parking_lot::Mutex;
use pb::operations_service_server::OperationsService;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// How many operations are remembered; the oldest finished ones are
/// forgotten beyond that.
const MAX_REMEMBERED: usize = 1000;

/// The live state of one operation.
pub struct OperationState {
    name: String,
    start_ms: i64,
    end_ms: AtomicI64,
    phase: Mutex<&'static str>,
    /// Units of work done; workers add to it.
    pub done: AtomicU64,
    /// Units of work in all.
    pub total: AtomicU64,
    result: Mutex<Option<pb::operation::Result>>,
}

impl OperationState {
    /// The operation's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Enters a phase.
    pub fn set_phase(&self, phase: &'static str) {
        *self.phase.lock() = phase;
    }

    /// Finishes with a result (or an error).
    pub fn finish(&self, result: pb::operation::Result) {
        self.set_phase("done");
        *self.result.lock() = Some(result);
        self.end_ms.store(now_unix_ms(), Ordering::Release);
    }

    /// Whether the operation finished.
    pub fn is_done(&self) -> bool {
        self.result.lock().is_some()
    }

    /// The proto view.
    pub fn to_proto(&self) -> pb::Operation {
        let result = self.result.lock().clone();
        pb::Operation {
            name: self.name.clone(),
            done: result.is_some(),
            progress: Some(pb::OperationProgress {
                phase: (*self.phase.lock()).to_owned(),
                done_count: self.done.load(Ordering::Acquire),
                total_count: self.total.load(Ordering::Acquire),
            }),
            start_time_unix_ms: self.start_ms,
            end_time_unix_ms: self.end_ms.load(Ordering::Acquire),
            result,
        }
    }
}

/// Every operation of this server's life (operations are not persisted:
/// a restart forgets them, and their work is repeatable).
#[derive(Default)]
pub struct Operations {
    ops: DashMap<String, Arc<OperationState>>,
    next: AtomicU64,
    /// Serialises "count the running ones, then start one".
    starting: Mutex<()>,
}

impl Operations {
    /// Starts tracking a new operation named `operations/{kind}-{subject}-{n}`,
    /// unless `max_running` operations of that kind are running (`None`).
    pub fn start_limited(&self, kind: &str, subject: &str, max_running: usize) -> Option<Arc<OperationState>> {
        let _guard = self.starting.lock();
        (self.running(kind) < max_running).then(|| self.start(&format!("{kind}-{subject}")))
    }

    /// Starts tracking a new operation named `operations/{kind}-{n}`.
    pub fn start(&self, kind: &str) -> Arc<OperationState> {
        let n = self.next.fetch_add(1, Ordering::AcqRel) + 1;
        let state = Arc::new(OperationState {
            name: format!("operations/{kind}-{n}"),
            start_ms: now_unix_ms(),
            end_ms: AtomicI64::new(0),
            phase: Mutex::new("queued"),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            result: Mutex::new(None),
        });
        self.forget_old();
        self.ops.insert(state.name.clone(), Arc::clone(&state));
        state
    }

    /// How many operations of a kind are still running.
    pub fn running(&self, kind: &str) -> usize {
        let prefix = format!("operations/{kind}-");
        self.ops.iter().filter(|op| op.key().starts_with(&prefix) && !op.is_done()).count()
    }

    fn forget_old(&self) {
        if self.ops.len() < MAX_REMEMBERED {
            return;
        }
        let mut finished: Vec<(i64, String)> =
            self.ops.iter().filter(|op| op.is_done()).map(|op| (op.start_ms, op.key().clone())).collect();
        finished.sort_unstable();
        for (_, name) in finished.into_iter().take(self.ops.len() + 1 - MAX_REMEMBERED) {
            self.ops.remove(&name);
        }
    }

    /// The operation of a name.
    pub fn get(&self, name: &str) -> Option<Arc<OperationState>> {
        self.ops.get(name).map(|op| Arc::clone(op.value()))
    }
}

/// The service over the registry.
pub struct OperationsApi {
    operations: Arc<Operations>,
}

impl OperationsApi {
    /// The service of a server.
    pub fn new(operations: Arc<Operations>) -> OperationsApi {
        OperationsApi { operations }
    }
}

#[tonic::async_trait]
impl OperationsService for OperationsApi {
    async fn get_operation(
        &self,
        request: Request<pb::GetOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let name = request.into_inner().name;
        if name.is_empty() || name.len() > 200 {
            return Err(invalid("name", "must be an operation name such as operations/recalculate-1"));
        }
        let op = self.operations.get(&name).ok_or_else(|| {
            Status::not_found(format!("name: operation '{name}' not found (operations are forgotten on restart)"))
        })?;
        Ok(Response::new(op.to_proto()))
    }
}
