//! The recalculation job (RecalculateVolumes): a period recomputed from
//! scratch on a rayon thread and compared with the live volumes.

use super::job_budget::{self, NetworkSize};
use super::jobs::{Job, JobKind, JobResult, JobSpec, Outcome, Progress};
use super::{App, AppError, AppResult};
use crate::engine::{Period, SnapshotMemory};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// What a recalculation found, and how long each step took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecalcSummary {
    /// The period.
    pub period: Period,
    /// Live partners recomputed.
    pub partners: u64,
    /// Values that differed from the live ones (there must be none).
    pub differences: u64,
    /// The first difference, described; empty if none.
    pub first_difference: String,
    /// Capturing the period from the snapshot (the private copy of the
    /// period's shared chunks, which are the live values it compares with,
    /// the order scan, the breadth-first layout), with no lock held.
    pub prepare_ms: u64,
    /// The network's copy-on-write snapshot, under the read lock: O(chunks).
    pub snapshot_ms: u64,
    /// The rollup and the comparison of its volumes.
    pub rollup_ms: u64,
    /// Ranking every partner from scratch.
    pub ranks_ms: u64,
    /// Comparing the ranks with the live ones.
    pub compare_ms: u64,
}

impl App {
    /// Starts recalculating a period on a rayon thread; NOT_FOUND for a
    /// period without orders, busy while [`MAX_RUNNING_RECALCULATIONS`](super::jobs::MAX_RUNNING_RECALCULATIONS)
    /// run or when its memory estimate does not fit the job budget.
    pub fn start_recalculation(self: &Arc<Self>, period: Period) -> AppResult<Arc<Job>> {
        let size = self.read(|net| {
            net.period(period)?;
            Ok::<_, AppError>(NetworkSize::of(net, Some(period)))
        })?;
        let memory = job_budget::recalculation(&size);
        let spec = JobSpec { kind: JobKind::Recalculation, period, dry_run: false, memory };
        self.spawn_job(spec, run_recalculation)
    }
}

/// The body of a recalculation, on a rayon thread.
fn run_recalculation(app: &App, job: &Job) -> Outcome {
    let period = job.period;
    let Progress::Steps { done, .. } = &job.progress else {
        debug_assert!(false, "a recalculation counts in steps");
        return Outcome::Failed(crate::engine::EngineError::Internal("a recalculation without steps".into()));
    };
    job.set_phase("snapshot");
    // The only step under the lock: an O(chunks) copy-on-write snapshot of
    // the inputs and of this period's live figures. Everything after it
    // reads the snapshot, and the live values compared are those as of the
    // snapshot.
    let locked = Instant::now();
    let mut network = app.network.read().inputs_snapshot(Some(period));
    let snapshot_ms = locked.elapsed().as_millis() as u64;
    // First thing, the job copies the period's shared chunks itself, so
    // the live writes stop copying them under their lock (the copy is the
    // job's cost now, about a memory bandwidth pass over the period).
    let started = Instant::now();
    network.unshare_period(period);
    let unshare_ms = started.elapsed().as_millis() as u64;
    let snapshot = network.recalc_snapshot_with(period, SnapshotMemory::keeping(app.kept_layout.get()));
    drop(network);
    let layout_reused = snapshot.as_ref().is_ok_and(|s| app.kept_layout.keep(s.layout()));
    let prepare_ms = started.elapsed().as_millis() as u64;
    match snapshot {
        Err(err) => Outcome::Failed(err),
        // Cancelled while it captured: nothing to compute.
        Ok(_) if job.cancel.is_cancelled() => Outcome::Cancelled,
        Ok(mut snapshot) => {
            snapshot.watch(Arc::clone(&job.cancel));
            job.total.store(snapshot.partners() as u64, Ordering::Release);
            job.set_phase("rollup");
            let report = snapshot.run(done);
            let [rollup_ms, ranks_ms, compare_ms] =
                [report.rollup, report.ranks, report.compare].map(|elapsed| elapsed.as_millis() as u64);
            if report.differences > 0 {
                tracing::error!(%period, differences = report.differences, first = ?report.first_difference, "live volumes differ from the recalculation");
            }
            tracing::info!(%period, partners = report.partners, prepare_ms, unshare_ms, snapshot_ms, layout_reused, rollup_ms, ranks_ms, compare_ms, differences = report.differences, "recalculation done");
            Outcome::Succeeded(JobResult::Recalculation(RecalcSummary {
                period,
                partners: report.partners,
                differences: report.differences,
                first_difference: report.first_difference.unwrap_or_default(),
                prepare_ms,
                snapshot_ms,
                rollup_ms,
                ranks_ms,
                compare_ms,
            }))
        }
    }
}
