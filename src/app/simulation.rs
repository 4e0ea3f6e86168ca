//! SimulatePlan (issue #18): a period replayed under a candidate plan as a
//! background job of the one registry (`jobs.rs`: admission, the memory
//! budget, cancellation at shutdown, a panic fails the job only). The
//! comparison (`engine::compensation::simulation`) stays in memory while
//! the registry keeps it: at most [`MAX_KEPT_SIMULATIONS`] finished ones,
//! the oldest forgotten first. Nothing is stored and nothing changes.

use super::job_budget::{JobMemory, NetworkSize};
use super::jobs::{Job, JobKind, JobResult, JobSpec, Outcome, Progress};
use super::{App, AppError, AppResult};
use crate::engine::{
    Comparison, EngineError, InputMemory, LevelTotals, Period, Plan, PlanDraft, RunProgress, SimPhase, SimRow,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Simulations computing at once: each holds two runs' worth of memory.
pub const MAX_RUNNING_SIMULATIONS: usize = 1;
/// Finished simulations kept for their listings; older ones are forgotten.
pub const MAX_KEPT_SIMULATIONS: usize = 4;
/// Bytes a partner of a kept comparison: its row and its place in the
/// order by difference.
const KEPT_PER_PARTNER: u64 = std::mem::size_of::<SimRow>() as u64 + 4;
/// Bytes a partner of the sort keys the comparison builds for a while (a
/// difference and an index, 32, twice while rayon gathers them), when every
/// partner's payable changes.
const SORT_KEY_PER_PARTNER: u64 = 64;
/// Bytes a partner of a capture at its peak: the order scan's sums 16, PV
/// and RV by partner 16, the layout's order and child starts 8, PV, RV and
/// activity by position 17.
const CAPTURE_PER_PARTNER: u64 = 16 + 16 + 8 + 17;
/// Bytes a partner of the captured inputs (PV 8, RV 8, activity 1) and the
/// layout's order and child starts (8), which the budget counts too.
const INPUT_PER_PARTNER: u64 = 17 + 8;
/// Bytes a partner of a rollup besides its profiles: GV 8, active
/// frontline 4, and the ranking's best codes 1 while a side ranks.
const ROLLUP_PER_PARTNER: u64 = 8 + 4 + 1;
/// Bytes a partner of one side's result: paid-as rank 1, payable 8, its
/// position map 4.
const SIDE_PER_PARTNER: u64 = 1 + 8 + 4;

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

/// The largest of a simulation's phases, for either path (the shared
/// rollup is the smaller): the candidate's own capture beside the
/// baseline's inputs; the candidate's own rollup beside both inputs and
/// the baseline's side; the comparison beside both sides (the inputs and
/// rollups freed). It keeps its rows and their order.
fn simulation_memory(size: &NetworkSize) -> JobMemory {
    let per = |bytes: u64| size.partners.saturating_mul(bytes);
    let profile = size.levels.saturating_mul(std::mem::size_of::<LevelTotals>() as u64);
    let captures = per(INPUT_PER_PARTNER + CAPTURE_PER_PARTNER);
    let rollups = per(2 * INPUT_PER_PARTNER + ROLLUP_PER_PARTNER + 2 * SIDE_PER_PARTNER).saturating_add(per(profile));
    let compare = per(2 * SIDE_PER_PARTNER + KEPT_PER_PARTNER + SORT_KEY_PER_PARTNER);
    JobMemory { peak_bytes: captures.max(rollups).max(compare), kept_bytes: per(KEPT_PER_PARTNER) }
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

/// The body, on a job thread: the captures on an O(chunks) snapshot taken
/// under the read lock (on the kept layout when it still fits), then both
/// sides and the comparison with no lock held.
fn run_simulation(app: &App, job: &Job, candidate: Arc<Plan>, top_n: usize) -> Outcome {
    let Progress::Steps { done, .. } = &job.progress else {
        return Outcome::Failed(EngineError::Internal("a simulation counts in steps".into()));
    };
    let started = Instant::now();
    job.set_phase("snapshot");
    let network = app.network.read().inputs_snapshot(None);
    let snapshot_ms = started.elapsed().as_millis() as u64;
    let memory = InputMemory::keeping(app.kept_layout.get());
    let inputs = network.simulation_inputs_with(job.period, candidate, memory);
    drop(network);
    let capture_ms = started.elapsed().as_millis() as u64 - snapshot_ms;
    let mut inputs = match inputs {
        Ok(inputs) => inputs,
        Err(err) => return Outcome::Failed(err),
    };
    let layout_reused = app.kept_layout.keep(inputs.layout());
    if job.cancel.is_cancelled() {
        return Outcome::Cancelled;
    }
    inputs.watch(Arc::clone(&job.cancel));
    let (partners, rollup_shared) = (inputs.partners() as u64, inputs.rollup_shared());
    job.total.store(partners, Ordering::Release);
    let mut phases = PhaseClock::default();
    let comparison = inputs.run_phases(&RunProgress::default(), top_n, |phase| {
        if phase == SimPhase::Candidate {
            done.store(partners, Ordering::Release);
        }
        job.set_phase(phase.name());
        phases.enter(phase);
    });
    let Some(comparison) = comparison else {
        return Outcome::Cancelled;
    };
    let [baseline_ms, candidate_ms, compare_ms] = phases.durations_ms();
    tracing::info!(
        simulation_id = %job.id,
        partners = comparison.rows.len(),
        winners = comparison.winners,
        losers = comparison.losers,
        baseline_payable_cents = %comparison.baseline.payable_cents,
        candidate_payable_cents = %comparison.candidate.payable_cents,
        rollup_shared,
        layout_reused,
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

/// When each phase of a simulation started, for its log line.
#[derive(Default)]
struct PhaseClock {
    /// Baseline, candidate, compare (in [`SimPhase`] order).
    started: [Option<Instant>; 3],
}

impl PhaseClock {
    fn enter(&mut self, phase: SimPhase) {
        let slot = match phase {
            SimPhase::Baseline => 0,
            SimPhase::Candidate => 1,
            SimPhase::Compare => 2,
        };
        self.started[slot] = Some(Instant::now());
    }

    /// Each phase's duration, ms: until the next phase started (the last
    /// one until now); 0 for a phase never entered.
    fn durations_ms(&self) -> [u64; 3] {
        let now = Instant::now();
        std::array::from_fn(|i| {
            let end = self.started[i + 1..].iter().flatten().next().copied().unwrap_or(now);
            self.started[i].map_or(0, |start| end.saturating_duration_since(start).as_millis() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_covers_the_largest_phase_and_keeps_the_rows() {
        let size = |partners| NetworkSize { partners, levels: 7, period_volume_bytes: 0 };
        let m = simulation_memory(&size(1_000_000));
        // 7 levels: the candidate's own rollup (2 inputs 50, rollup 13, two
        // sides 26, profiles 112) outweighs the comparison (26 + 28 + 64).
        assert_eq!(m.peak_bytes, 1_000_000 * (50 + 13 + 26 + 112));
        assert_eq!(m.kept_bytes, 1_000_000 * 28, "a row (24) and its place in the order (4)");
        // One level: the comparison is the largest phase.
        let one = simulation_memory(&NetworkSize { levels: 1, ..size(1000) });
        assert_eq!(one.peak_bytes, 1000 * (26 + 28 + 64));
        let huge = simulation_memory(&size(u64::MAX));
        assert_eq!(huge.peak_bytes, u64::MAX, "saturates, never wraps");
    }
}
