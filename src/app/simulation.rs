//! SimulatePlan (issue #18): a period replayed under a candidate plan as a
//! background job of the one registry (`jobs.rs`: admission, the memory
//! budget, cancellation at shutdown, a panic fails the job only). The
//! comparison (`engine::compensation::simulation`) stays in memory while
//! the registry keeps it: at most [`MAX_KEPT_SIMULATIONS`] finished ones,
//! the oldest forgotten first. Nothing is stored and nothing changes.

use super::job_budget::{self, JobMemory, NetworkSize};
use super::jobs::{Job, JobKind, JobResult, JobSpec, Outcome, Progress};
use super::{App, AppError, AppResult};
use crate::engine::{Comparison, EngineError, Period, Plan, PlanDraft, RunProgress};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Simulations computing at once: each holds two runs' worth of memory.
pub const MAX_RUNNING_SIMULATIONS: usize = 1;
/// Finished simulations kept for their listings; older ones are forgotten.
pub const MAX_KEPT_SIMULATIONS: usize = 4;
/// Bytes a partner of a kept comparison: its row (16) and its place in the
/// order by difference (4), rounded up.
const KEPT_PER_PARTNER: u64 = 24;
/// Bytes a partner of the sort keys the comparison builds for a while (a
/// difference and an index), when every partner's payable changes.
const SORT_KEY_PER_PARTNER: u64 = 32;

impl App {
    /// Starts a simulation of `period` under the candidate `draft`, which
    /// is validated as UpdatePlan validates (INVALID_ARGUMENT naming the
    /// field); NOT_FOUND for a period neither closed nor with orders.
    pub fn start_simulation(self: &Arc<Self>, period: Period, draft: &PlanDraft, top_n: usize) -> AppResult<Arc<Job>> {
        let (candidate, size) = self.read(|net| {
            let candidate = net.validate_candidate(draft)?;
            if !net.is_closed(period) {
                net.period(period)?;
            }
            Ok::<_, AppError>((Arc::new(candidate), NetworkSize::of(net, None)))
        })?;
        let memory = simulation_memory(&size);
        // A preview: `dry_run` lets the budget forget it for room.
        let spec = JobSpec { kind: JobKind::Simulation, period, dry_run: true, memory };
        let job = self.spawn_job(spec, move |app, job| run_simulation(app, job, candidate, top_n))?;
        tracing::info!(simulation_id = %job.id, %period, top_n, "simulation started");
        Ok(job)
    }

    /// The simulation of an id; NOT_FOUND (also once forgotten).
    pub fn simulation(&self, id: &str) -> AppResult<Arc<Job>> {
        if id.is_empty() || id.len() > 100 {
            return Err(super::invalid(
                "simulation_id",
                "must be a simulation id such as simulation-2026-11-1a2b3c4d-1",
            ));
        }
        self.jobs.get(JobKind::Simulation, id).ok_or_else(|| {
            AppError::NotFound(format!(
                "simulation_id: simulation '{id}' not found (unknown, or forgotten among older simulations)"
            ))
        })
    }
}

/// Two commission runs, one after the other, then the comparison kept.
fn simulation_memory(size: &NetworkSize) -> JobMemory {
    let run = job_budget::commission_run(size);
    let kept = size.partners.saturating_mul(KEPT_PER_PARTNER);
    let keys = size.partners.saturating_mul(SORT_KEY_PER_PARTNER);
    let peak = run.peak_bytes.saturating_add(run.kept_bytes).saturating_add(kept).saturating_add(keys);
    JobMemory { peak_bytes: peak, kept_bytes: kept }
}

/// A finished simulation's comparison; FAILED_PRECONDITION otherwise.
pub fn finished_comparison(job: &Job) -> AppResult<Arc<Comparison>> {
    let message = match job.outcome() {
        Outcome::Succeeded(JobResult::Simulation(comparison)) => return Ok(comparison),
        Outcome::Failed(reason) => format!("simulation '{}' failed: {reason}", job.id),
        Outcome::Cancelled => format!("simulation '{}' was cancelled at a shutdown: start a new one", job.id),
        _ => format!("simulation '{}' is still running", job.id),
    };
    Err(AppError::NotReady { field: "simulation_id", message })
}

/// The body, on a job thread: both captures on an O(chunks) snapshot
/// taken under the read lock, then both runs and the comparison with no
/// lock held.
fn run_simulation(app: &App, job: &Job, candidate: Arc<Plan>, top_n: usize) -> Outcome {
    let Progress::Steps { done, .. } = &job.progress else {
        return Outcome::Failed(EngineError::Internal("a simulation counts in steps".into()));
    };
    let started = Instant::now();
    job.set_phase("snapshot");
    let network = app.network.read().inputs_snapshot(None);
    let snapshot_ms = started.elapsed().as_millis() as u64;
    let inputs = network.simulation_inputs(job.period, candidate);
    drop(network);
    let capture_ms = started.elapsed().as_millis() as u64 - snapshot_ms;
    let mut inputs = match inputs {
        Ok(inputs) => inputs,
        Err(err) => return Outcome::Failed(err),
    };
    if job.cancel.is_cancelled() {
        return Outcome::Cancelled;
    }
    inputs.baseline.watch(Arc::clone(&job.cancel));
    inputs.candidate.watch(Arc::clone(&job.cancel));
    job.total.store(inputs.baseline.partners() as u64, Ordering::Release);
    let official = inputs.official.take();
    job.set_phase("baseline");
    let phase = Instant::now();
    let baseline = inputs.baseline.run(&RunProgress::default());
    let baseline_ms = phase.elapsed().as_millis() as u64;
    done.store(baseline.partners() as u64, Ordering::Release);
    job.set_phase("candidate");
    let phase = Instant::now();
    let candidate = inputs.candidate.run(&RunProgress::default());
    let candidate_ms = phase.elapsed().as_millis() as u64;
    if job.cancel.is_cancelled() {
        return Outcome::Cancelled;
    }
    job.set_phase("compare");
    let phase = Instant::now();
    let comparison = crate::engine::compensation::compare(&baseline, &candidate, official.as_ref(), top_n);
    let compare_ms = phase.elapsed().as_millis() as u64;
    tracing::info!(
        simulation_id = %job.id,
        partners = comparison.rows.len(),
        winners = comparison.winners,
        losers = comparison.losers,
        baseline_payable_cents = %comparison.baseline.payable_cents,
        candidate_payable_cents = %comparison.candidate.payable_cents,
        snapshot_ms,
        capture_ms,
        baseline_ms,
        candidate_ms,
        compare_ms,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "simulation done"
    );
    Outcome::Succeeded(JobResult::Simulation(Arc::new(comparison)))
}
