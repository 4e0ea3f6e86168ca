//! The kinds of background job and their limits: how many may run at once
//! and how many finished ones the registry (`jobs.rs`) remembers.

/// What a job does. Each kind has its own limits and id scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// RecalculateVolumes: recompute a period from scratch and compare.
    Recalculation,
    /// StartCommissionRun: compute a period's commissions.
    CommissionRun,
    /// SimulatePlan: a period under a candidate plan (`simulation.rs`).
    Simulation,
}

/// How many jobs of a kind may run at once, and how many finished ones
/// are kept.
pub(super) struct Retention {
    /// Jobs computing at once (each holds a copy of a period).
    pub(super) max_running: usize,
    /// Finished jobs kept; older ones are forgotten.
    pub(super) kept_finished: usize,
    /// Whether each period's latest finished job that is not a dry run is
    /// kept beyond `kept_finished` (a close needs its run).
    pub(super) spare_latest_real: bool,
}

/// Recalculations allowed to run at once.
pub const MAX_RUNNING_RECALCULATIONS: usize = 2;
/// Recalculations remembered, running ones included.
const MAX_REMEMBERED_RECALCULATIONS: usize = 1000;
/// Commission runs allowed to compute at once: each holds a copy of a period.
pub const MAX_RUNNING_RUNS: usize = 2;
/// Finished runs whose statements are kept; older ones are forgotten
/// (each holds (46 + 16·L) bytes a partner of the job memory budget until
/// then, `job_budget::commission_run`). The latest run of each period that
/// is not a dry run is kept beyond this, until its period closes.
pub const MAX_KEPT_RUNS: usize = 6;

impl JobKind {
    /// Every kind, in index order.
    pub const ALL: [JobKind; 3] = [JobKind::Recalculation, JobKind::CommissionRun, JobKind::Simulation];

    /// The kind's label in metrics (`/metrics`, docs/metrics.md).
    pub fn label(self) -> &'static str {
        match self {
            JobKind::Recalculation => "recalculation",
            JobKind::CommissionRun => "commission_run",
            JobKind::Simulation => "simulation",
        }
    }

    pub(super) fn retention(self) -> Retention {
        match self {
            JobKind::Recalculation => Retention {
                max_running: MAX_RUNNING_RECALCULATIONS,
                kept_finished: MAX_REMEMBERED_RECALCULATIONS - MAX_RUNNING_RECALCULATIONS,
                spare_latest_real: false,
            },
            JobKind::CommissionRun => {
                Retention { max_running: MAX_RUNNING_RUNS, kept_finished: MAX_KEPT_RUNS, spare_latest_real: true }
            }
            JobKind::Simulation => Retention {
                max_running: super::simulation::MAX_RUNNING_SIMULATIONS,
                kept_finished: super::simulation::MAX_KEPT_SIMULATIONS,
                spare_latest_real: false,
            },
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// The kind's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Recalculation => "recalculation",
            JobKind::CommissionRun => "commission run",
            JobKind::Simulation => "simulation",
        }
    }

    /// Why a job of this kind cannot start now.
    pub(super) fn busy_message(self) -> String {
        match self {
            JobKind::Recalculation => {
                format!("{MAX_RUNNING_RECALCULATIONS} recalculations are running; wait for one to finish")
            }
            JobKind::CommissionRun => {
                format!("{MAX_RUNNING_RUNS} commission runs are computing; wait for one to finish")
            }
            JobKind::Simulation => "a simulation is computing; wait for it to finish".to_owned(),
        }
    }
}
