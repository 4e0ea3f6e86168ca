//! The one registry of background jobs: recalculations and commission
//! runs. Workers update a job's progress from rayon threads while the API
//! reads it from async tasks: a concurrent map of shared jobs, so neither
//! ever waits for the other.
//!
//! Every job has the same lifecycle: it starts (unless the server is
//! shutting down, its kind has too many running, or its memory estimate
//! does not fit the one budget, `job_budget.rs`), reports a phase and
//! progress, and finishes with a result, a failure or a cancellation; the
//! oldest finished jobs of a kind are forgotten. Jobs are not persisted: a
//! restart forgets them, and their work is repeatable (a closed period's
//! official run is kept on disk by the close, not here).
//!
//! A new kind of job (an export, a simulation) registers here: a
//! [`JobKind`] with its limits, a [`JobSpec`] with its memory estimate, and
//! a body for `App::spawn_job` (`job_spawn.rs`) that watches
//! [`Job::cancel`] between chunks and returns its [`Outcome`].

use super::error::AppError;
use super::job_budget::{human_bytes, JobMemory, MemoryBudget, OverBudget, Reservation};
use super::now_unix_ms;
use super::recalc::RecalcSummary;
use crate::engine::{Cancel, EngineError, Period};
use crate::engine::{RunProgress, RunResult};
use crate::metrics::histogram::{AtomicHistogram, JOB_BOUNDS_US, MICROS};
use dashmap::DashMap;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use super::job_kind::Retention;
pub use super::job_kind::{JobKind, MAX_KEPT_RUNS, MAX_RUNNING_RECALCULATIONS, MAX_RUNNING_RUNS};
/// How far a job got.
pub enum Progress {
    /// A recalculation: a named phase and partners done.
    Steps {
        /// The phase: queued, snapshot, rollup, done.
        phase: Mutex<&'static str>,
        /// Partners done; the worker adds to it.
        done: AtomicU64,
    },
    /// A commission run: the engine follows its own phases.
    Run(RunProgress),
}

/// What a finished job produced.
#[derive(Clone)]
pub enum JobResult {
    /// A recalculation's findings.
    Recalculation(RecalcSummary),
    /// A commission run's statements and totals.
    CommissionRun(Arc<RunResult>),
    /// A simulation's comparison.
    Simulation(Arc<crate::engine::Comparison>),
}

/// How a job ended, or that it has not yet.
#[derive(Clone)]
pub enum Outcome {
    /// Still running.
    Running,
    /// Done.
    Succeeded(JobResult),
    /// Failed, with the reason.
    Failed(EngineError),
    /// Cancelled at shutdown: it produced nothing.
    Cancelled,
}

/// What a new job is: its kind, period and memory estimate.
#[derive(Debug, Clone, Copy)]
pub struct JobSpec {
    /// What it does.
    pub kind: JobKind,
    /// The period it works on.
    pub period: Period,
    /// Whether it is a preview (commission runs).
    pub dry_run: bool,
    /// What it reserves from the budget (`job_budget.rs`).
    pub memory: JobMemory,
}

/// One job.
pub struct Job {
    /// Its id (a recalculation's operation name, or a run id).
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// The period it works on.
    pub period: Period,
    /// Whether it is a preview (commission runs).
    pub dry_run: bool,
    /// Start order within its kind (a larger number started later).
    pub seq: u64,
    /// When it started, Unix milliseconds.
    pub start_ms: i64,
    end_ms: AtomicI64,
    /// How far it got.
    pub progress: Progress,
    /// Units of work in all (partners), once known.
    pub total: AtomicU64,
    /// Set to stop it at its next chunk (shutdown); its loops read it.
    pub cancel: Arc<Cancel>,
    /// What it needs and keeps from the budget.
    pub memory: JobMemory,
    /// Its share of the budget: `memory.peak_bytes` while it runs, then
    /// `memory.kept_bytes` after a success, none after anything else.
    reservation: Mutex<Option<Reservation>>,
    outcome: Mutex<Outcome>,
    /// Where its run time goes when it ends (`None` for a run restored
    /// from the store: it did not run in this process).
    pub(super) duration: Option<AtomicHistogram>,
}

impl Job {
    /// Enters a named phase (recalculations).
    pub fn set_phase(&self, phase: &'static str) {
        if let Progress::Steps { phase: current, .. } = &self.progress {
            *current.lock() = phase;
        }
    }

    /// Ends the job: a success keeps `memory.kept_bytes` of its
    /// reservation (its result stays in memory while it is remembered),
    /// anything else gives it all back.
    pub fn finish(&self, outcome: Outcome) {
        self.set_phase("done");
        let kept = match &outcome {
            Outcome::Succeeded(_) => self.memory.kept_bytes,
            Outcome::Running | Outcome::Failed(_) | Outcome::Cancelled => 0,
        };
        let mut reservation = self.reservation.lock();
        match (kept, reservation.as_mut()) {
            (0, _) => *reservation = None,
            (bytes, Some(held)) => held.shrink_to(bytes),
            (_, None) => {}
        }
        drop(reservation);
        *self.outcome.lock() = outcome;
        let end_ms = now_unix_ms();
        // Only the first end counts (a job that failed to store ends once).
        if self.end_ms.swap(end_ms, Ordering::AcqRel) == 0 {
            let elapsed_us = end_ms.saturating_sub(self.start_ms).max(0) as u64 * 1_000;
            self.duration.iter().for_each(|histogram| histogram.observe(elapsed_us));
        }
    }

    /// The bytes of the budget it holds now.
    pub fn reserved_bytes(&self) -> u64 {
        self.reservation.lock().as_ref().map_or(0, Reservation::bytes)
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(&*self.outcome.lock(), Outcome::Cancelled)
    }

    /// How it ended, or that it has not yet.
    pub fn outcome(&self) -> Outcome {
        self.outcome.lock().clone()
    }

    /// When it ended, Unix milliseconds; 0 while it runs.
    pub fn end_ms(&self) -> i64 {
        self.end_ms.load(Ordering::Acquire)
    }

    /// A commission run's progress, as the engine reports it.
    pub fn run_progress(&self) -> Option<&RunProgress> {
        match &self.progress {
            Progress::Run(progress) => Some(progress),
            Progress::Steps { .. } => None,
        }
    }

    /// The run's result, once it succeeded.
    pub fn run_result(&self) -> Option<Arc<RunResult>> {
        match &*self.outcome.lock() {
            Outcome::Succeeded(JobResult::CommissionRun(result)) => Some(Arc::clone(result)),
            _ => None,
        }
    }

    /// The failure, if it failed.
    pub fn failure(&self) -> Option<EngineError> {
        match &*self.outcome.lock() {
            Outcome::Failed(reason) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Whether it is still running.
    pub fn is_running(&self) -> bool {
        matches!(&*self.outcome.lock(), Outcome::Running)
    }
}

/// Every job of this server's life.
pub struct Jobs {
    by_id: DashMap<String, Arc<Job>>,
    /// The last start number of each kind.
    next: [AtomicU64; 3],
    /// Distinguishes this server's run ids from those of earlier lives.
    boot: String,
    /// Serialises "count the running ones, then start one".
    starting: Mutex<()>,
    /// The one memory budget of every job.
    budget: Arc<MemoryBudget>,
    /// Cleared at shutdown: no job starts any more.
    admitting: AtomicBool,
    /// Woken whenever a job ends (the shutdown waits on it).
    pub(super) ended: tokio::sync::Notify,
    /// Runs forgotten since the store last heard of it: their stored
    /// records go too (`App::drop_forgotten_runs`).
    forgotten_runs: Mutex<Vec<String>>,
    /// The run times of each kind's jobs, by `JobKind::index`.
    durations: [AtomicHistogram; 3],
}

impl Default for Jobs {
    /// A registry with an unlimited budget (tests).
    fn default() -> Jobs {
        Jobs::new(u64::MAX)
    }
}

impl Jobs {
    /// A registry whose jobs share `budget_bytes` of memory.
    pub fn new(budget_bytes: u64) -> Jobs {
        let boot = format!("{:08x}", rand::random::<u32>());
        Jobs {
            by_id: DashMap::new(),
            next: Default::default(),
            boot,
            starting: Mutex::new(()),
            budget: MemoryBudget::new(budget_bytes),
            admitting: AtomicBool::new(true),
            ended: tokio::sync::Notify::new(),
            forgotten_runs: Mutex::new(Vec::new()),
            durations: JobKind::ALL.map(|_| AtomicHistogram::new(JOB_BOUNDS_US, MICROS)),
        }
    }

    /// Registers a new job, unless the server is shutting down
    /// (UNAVAILABLE), its kind's running limit is reached or its memory
    /// does not fit the budget (both RESOURCE_EXHAUSTED, naming `period`).
    /// A recalculation is named `operations/recalculate-{period}-{n}`, a
    /// run `{period}-{boot}-{n}`.
    pub fn start(&self, spec: JobSpec) -> Result<Arc<Job>, AppError> {
        let JobSpec { kind, period, dry_run, memory } = spec;
        let _guard = self.starting.lock();
        if !self.admitting.load(Ordering::Acquire) {
            return Err(AppError::JobsStopped { kind: kind.name() });
        }
        let retention = kind.retention();
        if self.by_id.iter().filter(|j| j.kind == kind && j.is_running()).count() >= retention.max_running {
            return Err(AppError::Busy { field: "period", message: kind.busy_message() });
        }
        // Short of room: the kept runs no close needs go first (else a
        // budget full of kept runs would refuse every job for good).
        let reservation = match self.budget.reserve(memory.peak_bytes) {
            Ok(reservation) => reservation,
            Err(_) => {
                self.forget_for_room();
                self.budget.reserve(memory.peak_bytes).map_err(|over| self.over_budget(kind, over))?
            }
        };
        let seq = self.next[kind.index()].fetch_add(1, Ordering::AcqRel) + 1;
        let (id, progress) = match kind {
            JobKind::Recalculation => (
                format!("operations/recalculate-{period}-{seq}"),
                Progress::Steps { phase: Mutex::new("queued"), done: AtomicU64::new(0) },
            ),
            JobKind::CommissionRun => (format!("{period}-{}-{seq}", self.boot), Progress::Run(RunProgress::default())),
            JobKind::Simulation => (
                format!("simulation-{period}-{}-{seq}", self.boot),
                Progress::Steps { phase: Mutex::new("queued"), done: AtomicU64::new(0) },
            ),
        };
        let job = Arc::new(Job {
            id,
            kind,
            period,
            dry_run,
            seq,
            start_ms: now_unix_ms(),
            end_ms: AtomicI64::new(0),
            progress,
            total: AtomicU64::new(0),
            cancel: Arc::new(Cancel::new()),
            memory,
            reservation: Mutex::new(Some(reservation)),
            outcome: Mutex::new(Outcome::Running),
            duration: Some(self.durations[kind.index()].clone()),
        });
        self.by_id.insert(job.id.clone(), Arc::clone(&job));
        self.forget_old(kind, &retention);
        Ok(job)
    }

    /// The refusal of a job that does not fit: the budget, what holds it
    /// (running jobs, finished runs kept for their statements) and what the
    /// job needs.
    fn over_budget(&self, kind: JobKind, over: OverBudget) -> AppError {
        let (mut running, mut kept) = (0usize, 0usize);
        for job in self.by_id.iter().filter(|j| j.reserved_bytes() > 0) {
            if job.is_running() {
                running += 1;
            } else {
                kept += 1;
            }
        }
        AppError::OverBudget {
            field: "period",
            message: format!(
                "this {} needs {} of the job memory budget of {} (--job-memory-mb), and {} of it are in use \
                 ({running} running jobs, {kept} finished runs kept for their statements); retry when a job \
                 ends or an old run is forgotten, or raise --job-memory-mb",
                kind.name(),
                human_bytes(over.needed_bytes),
                human_bytes(over.limit_bytes),
                human_bytes(over.in_use_bytes),
            ),
        }
    }

    /// Forgets every finished job holding budget but each period's latest
    /// successful real run (its close needs it). A forgotten job's share
    /// comes back once no request holds it any more.
    fn forget_for_room(&self) {
        let holding: Vec<Arc<Job>> =
            self.by_id.iter().filter(|j| !j.is_running() && j.reserved_bytes() > 0).map(|j| Arc::clone(&j)).collect();
        let needed_by_close = |job: &Job| {
            !job.dry_run
                && !holding.iter().any(|other| !other.dry_run && other.period == job.period && other.seq > job.seq)
        };
        for job in holding.iter().filter(|job| !needed_by_close(job)) {
            tracing::info!(job = %job.id, bytes = job.reserved_bytes(), "forgotten early: the job memory budget is short");
            self.forget(&job.id);
        }
    }

    /// The run times of the jobs of `kind` that ended (`/metrics`).
    pub fn durations(&self, kind: JobKind) -> AtomicHistogram {
        self.durations[kind.index()].clone()
    }

    /// The budget's limit and what is reserved from it now.
    pub fn budget_bytes(&self) -> (u64, u64) {
        (self.budget.limit_bytes(), self.budget.in_use_bytes())
    }

    /// Sets the budget's limit (tests size it to a job they measured).
    #[doc(hidden)]
    pub fn set_budget_bytes(&self, bytes: u64) {
        self.budget.set_limit_bytes(bytes);
    }

    /// Stops admitting jobs (shutdown): every later start is refused.
    pub fn stop_admitting(&self) {
        let _guard = self.starting.lock();
        self.admitting.store(false, Ordering::Release);
    }

    /// The jobs still running.
    pub fn running(&self) -> Vec<Arc<Job>> {
        self.by_id.iter().filter(|j| j.is_running()).map(|j| Arc::clone(j.value())).collect()
    }

    /// The job of a kind and an id.
    pub fn get(&self, kind: JobKind, id: &str) -> Option<Arc<Job>> {
        self.by_id.get(id).filter(|j| j.kind == kind).map(|j| Arc::clone(j.value()))
    }

    /// The latest job of a kind on a period (by start), among those `keep`
    /// accepts.
    pub fn latest(&self, kind: JobKind, period: Period, keep: impl Fn(&Job) -> bool) -> Option<Arc<Job>> {
        let jobs = self.by_id.iter().filter(|j| j.kind == kind && j.period == period && keep(j));
        jobs.max_by_key(|j| j.seq).map(|j| Arc::clone(j.value()))
    }

    /// Forgets the oldest finished jobs of a kind beyond what it keeps.
    fn forget_old(&self, kind: JobKind, retention: &Retention) {
        let mut finished: Vec<(u64, String, Period, bool)> = self
            .by_id
            .iter()
            .filter(|j| j.kind == kind && !j.is_running())
            .map(|j| (j.seq, j.id.clone(), j.period, j.dry_run))
            .collect();
        if finished.len() <= retention.kept_finished {
            return;
        }
        finished.sort_unstable_by_key(|j| std::cmp::Reverse(j.0));
        let mut spared_periods = Vec::new();
        let mut kept = 0;
        for (_, id, period, dry_run) in finished {
            let latest_real = retention.spare_latest_real && !dry_run && !spared_periods.contains(&period);
            if latest_real {
                spared_periods.push(period);
            }
            if latest_real || kept < retention.kept_finished {
                kept += 1;
                continue;
            }
            self.forget(&id);
        }
    }

    /// Forgets a job; a commission run's id is kept for the store.
    fn forget(&self, id: &str) {
        if let Some((_, job)) = self.by_id.remove(id) {
            if job.kind == JobKind::CommissionRun {
                self.forgotten_runs.lock().push(job.id.clone());
            }
        }
    }

    /// The runs forgotten since the last call.
    pub fn take_forgotten_runs(&self) -> Vec<String> {
        std::mem::take(&mut *self.forgotten_runs.lock())
    }

    /// Removes a finished job at once (DeleteCommissionRun, a close); its
    /// share of the budget comes back once no request holds it.
    pub fn remove(&self, id: &str) -> Option<Arc<Job>> {
        self.by_id.remove(id).map(|(_, job)| job)
    }
}

#[path = "jobs_list.rs"]
mod list;
#[path = "jobs_restore.rs"]
mod restore;

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod tests;
