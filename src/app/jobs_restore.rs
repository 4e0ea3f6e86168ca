//! Commission runs read back from the store at start-up enter the
//! registry as finished jobs (see `run_store.rs`): a child of `jobs` so it
//! builds a [`Job`] from its parts.

use super::{Job, JobKind, JobMemory, Jobs, Outcome, Progress};
use crate::app::job_budget::Reservation;
use crate::engine::{Cancel, RunProgress};
use crate::store::runs::RunMeta;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

impl Job {
    /// A finished commission run read back from the store (see
    /// `run_store.rs`), holding `reservation` for its result.
    fn restored(meta: &RunMeta, outcome: Outcome, reservation: Option<Reservation>) -> Job {
        let kept_bytes = reservation.as_ref().map_or(0, Reservation::bytes);
        Job {
            id: meta.run_id.clone(),
            kind: JobKind::CommissionRun,
            period: meta.period,
            dry_run: meta.dry_run,
            seq: meta.seq,
            start_ms: meta.start_ms,
            end_ms: AtomicI64::new(meta.end_ms),
            progress: Progress::Run(RunProgress::restored(meta.phase, meta.partners_done)),
            total: AtomicU64::new(meta.partners_total),
            cancel: Arc::new(Cancel::new()),
            memory: JobMemory { peak_bytes: kept_bytes, kept_bytes },
            reservation: Mutex::new(reservation),
            outcome: Mutex::new(outcome),
            duration: None,
        }
    }
}

impl Jobs {
    /// Registers a run read back from the store (start-up): it keeps its
    /// start number, later runs start after it, and a succeeded one holds
    /// its share of the budget even beyond the limit (the next job to
    /// start makes room, `forget_for_room`). The retention applies at once.
    pub fn restore(&self, meta: &RunMeta, outcome: Outcome) {
        let reservation = match &outcome {
            Outcome::Succeeded(_) => Some(self.budget.reserve_anyway(meta.kept_bytes)),
            _ => None,
        };
        let kind = JobKind::CommissionRun;
        self.next[kind.index()].fetch_max(meta.seq, Ordering::AcqRel);
        self.by_id.insert(meta.run_id.clone(), Arc::new(Job::restored(meta, outcome, reservation)));
        self.forget_old(kind, &kind.retention());
    }
}
