//! The one registry of background jobs: recalculations and commission
//! runs. Workers update a job's progress from rayon threads while the API
//! reads it from async tasks: a concurrent map of shared jobs, so neither
//! ever waits for the other.
//!
//! Every job has the same lifecycle: it starts (unless its kind has too
//! many running), reports a phase and progress, and finishes with a result
//! or a failure; the oldest finished jobs of a kind are forgotten. Jobs are
//! not persisted: a restart forgets them, and their work is repeatable (a
//! closed period's official run is kept on disk by the close, not here).

use super::error::{AppError, AppResult};
use super::recalc::RecalcSummary;
use super::{now_unix_ms, App};
use crate::engine::{EngineError, Period};
use crate::engine::{RunProgress, RunResult};
use dashmap::DashMap;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// What a job does. Each kind has its own limits and id scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// RecalculateVolumes: recompute a period from scratch and compare.
    Recalculation,
    /// StartCommissionRun: compute a period's commissions.
    CommissionRun,
}

/// How many jobs of a kind may run at once, and how many finished ones
/// are kept.
struct Retention {
    /// Jobs computing at once (each holds a copy of a period).
    max_running: usize,
    /// Finished jobs kept; older ones are forgotten.
    kept_finished: usize,
    /// Whether each period's latest finished job that is not a dry run is
    /// kept beyond `kept_finished` (a close needs its run).
    spare_latest_real: bool,
}

/// Recalculations allowed to run at once.
pub const MAX_RUNNING_RECALCULATIONS: usize = 2;
/// Recalculations remembered, running ones included.
const MAX_REMEMBERED_RECALCULATIONS: usize = 1000;
/// Commission runs allowed to compute at once: each holds a copy of a period.
pub const MAX_RUNNING_RUNS: usize = 2;
/// Finished runs whose statements are kept; older ones are forgotten
/// (about 90 bytes per partner each). The latest run of each period that
/// is not a dry run is kept beyond this, until its period closes.
pub const MAX_KEPT_RUNS: usize = 6;

impl JobKind {
    fn retention(self) -> Retention {
        match self {
            JobKind::Recalculation => Retention {
                max_running: MAX_RUNNING_RECALCULATIONS,
                kept_finished: MAX_REMEMBERED_RECALCULATIONS - MAX_RUNNING_RECALCULATIONS,
                spare_latest_real: false,
            },
            JobKind::CommissionRun => {
                Retention { max_running: MAX_RUNNING_RUNS, kept_finished: MAX_KEPT_RUNS, spare_latest_real: true }
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Why a job of this kind cannot start now.
    fn busy_message(self) -> String {
        match self {
            JobKind::Recalculation => {
                format!("{MAX_RUNNING_RECALCULATIONS} recalculations are running; wait for one to finish")
            }
            JobKind::CommissionRun => {
                format!("{MAX_RUNNING_RUNS} commission runs are computing; wait for one to finish")
            }
        }
    }
}

impl App {
    /// Registers a job of `kind` and runs `body` on a job thread (see
    /// `job_pool`); RESOURCE_EXHAUSTED
    /// (naming `period`) when its kind's running limit is reached. A panic in
    /// `body` fails that job (INTERNAL, reported in its status), never the
    /// process: rayon would abort on it.
    pub(super) fn spawn_job(
        self: &Arc<Self>,
        kind: JobKind,
        period: Period,
        dry_run: bool,
        body: fn(&App, &Job),
    ) -> AppResult<Arc<Job>> {
        let job = self
            .jobs
            .start(kind, period, dry_run)
            .ok_or_else(|| AppError::Busy { field: "period", message: kind.busy_message() })?;
        let (app, worker) = (Arc::clone(self), Arc::clone(&job));
        super::job_pool::spawn_on_job_thread(move || run_caught(&worker, || body(&app, &worker)));
        Ok(job)
    }
}

/// Runs a job's body; a panic in it finishes the job as failed.
fn run_caught(job: &Job, body: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        let cause = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        tracing::error!(job = %job.id, %cause, "a background job panicked; it failed, the server goes on");
        job.finish(Outcome::Failed(EngineError::Internal(format!(
            "the job {} failed inside the server: {cause}",
            job.id
        ))));
    }
}

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
    outcome: Mutex<Outcome>,
}

impl Job {
    /// Enters a named phase (recalculations).
    pub fn set_phase(&self, phase: &'static str) {
        if let Progress::Steps { phase: current, .. } = &self.progress {
            *current.lock() = phase;
        }
    }

    /// Ends the job.
    pub fn finish(&self, outcome: Outcome) {
        self.set_phase("done");
        *self.outcome.lock() = outcome;
        self.end_ms.store(now_unix_ms(), Ordering::Release);
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
    next: [AtomicU64; 2],
    /// Distinguishes this server's run ids from those of earlier lives.
    boot: String,
    /// Serialises "count the running ones, then start one".
    starting: Mutex<()>,
}

impl Default for Jobs {
    fn default() -> Jobs {
        let boot = format!("{:08x}", rand::random::<u32>());
        Jobs { by_id: DashMap::new(), next: Default::default(), boot, starting: Mutex::new(()) }
    }
}

impl Jobs {
    /// Registers a new job of `kind` on `period`, unless its kind's
    /// running limit is reached (`None`). A recalculation is named
    /// `operations/recalculate-{period}-{n}`, a run `{period}-{boot}-{n}`.
    pub fn start(&self, kind: JobKind, period: Period, dry_run: bool) -> Option<Arc<Job>> {
        let _guard = self.starting.lock();
        let retention = kind.retention();
        if self.by_id.iter().filter(|j| j.kind == kind && j.is_running()).count() >= retention.max_running {
            return None;
        }
        let seq = self.next[kind.index()].fetch_add(1, Ordering::AcqRel) + 1;
        let (id, progress) = match kind {
            JobKind::Recalculation => (
                format!("operations/recalculate-{period}-{seq}"),
                Progress::Steps { phase: Mutex::new("queued"), done: AtomicU64::new(0) },
            ),
            JobKind::CommissionRun => (format!("{period}-{}-{seq}", self.boot), Progress::Run(RunProgress::default())),
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
            outcome: Mutex::new(Outcome::Running),
        });
        self.by_id.insert(job.id.clone(), Arc::clone(&job));
        self.forget_old(kind, &retention);
        Some(job)
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
            self.by_id.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(text: &str) -> Period {
        Period::parse("period", text).expect("a period")
    }

    #[test]
    fn a_panic_in_a_job_fails_that_job_only() {
        let jobs = Jobs::default();
        let job = jobs.start(JobKind::CommissionRun, period("2026-11"), true).expect("room for a run");
        run_caught(&job, || panic!("boom"));
        assert!(!job.is_running());
        let failure = job.failure().expect("a failure").to_string();
        assert!(failure.contains("failed inside the server: boom"), "{failure}");
        assert!(matches!(job.failure(), Some(EngineError::Internal(_))));
        // A body that returns leaves the outcome to the body.
        let quiet = jobs.start(JobKind::CommissionRun, period("2026-11"), true).expect("room for a run");
        run_caught(&quiet, || {});
        assert!(quiet.is_running());
    }

    #[test]
    fn each_kind_has_its_own_running_limit_and_numbering() {
        let jobs = Jobs::default();
        let p = period("2026-11");
        let recalcs: Vec<_> = (0..MAX_RUNNING_RECALCULATIONS)
            .map(|_| jobs.start(JobKind::Recalculation, p, false).expect("room for a recalculation"))
            .collect();
        assert!(jobs.start(JobKind::Recalculation, p, false).is_none(), "the recalculation limit holds");
        let run = jobs.start(JobKind::CommissionRun, p, false).expect("runs are limited on their own");
        assert_eq!(recalcs[0].id, "operations/recalculate-2026-11-1");
        assert!(run.id.starts_with("2026-11-") && run.id.ends_with("-1"), "{}", run.id);
        assert!(jobs.get(JobKind::CommissionRun, &recalcs[0].id).is_none(), "lookups keep to their kind");
        recalcs[0].finish(Outcome::Failed(EngineError::invalid("period", "x")));
        assert!(jobs.start(JobKind::Recalculation, p, false).is_some(), "a finished job frees its place");
    }

    #[test]
    fn finished_runs_are_forgotten_oldest_first_but_each_periods_latest_real_run_is_kept() {
        let jobs = Jobs::default();
        let finish = |job: Arc<Job>| {
            job.finish(Outcome::Failed(EngineError::invalid("period", "x")));
            job
        };
        let real = finish(jobs.start(JobKind::CommissionRun, period("2026-10"), false).expect("a run"));
        let dry: Vec<_> = (0..MAX_KEPT_RUNS + 2)
            .map(|_| finish(jobs.start(JobKind::CommissionRun, period("2026-11"), true).expect("a run")))
            .collect();
        let kept = |job: &Job| jobs.get(JobKind::CommissionRun, &job.id).is_some();
        assert!(kept(&real), "the latest real run of 2026-10 is spared");
        // Pruned as each run starts: the 8th start found 8 finished runs.
        assert!(!kept(&dry[0]), "the oldest dry run is forgotten");
        assert!(dry[1..].iter().all(|job| kept(job)));
    }
}
