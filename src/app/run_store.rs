//! Commission runs of open periods made durable (issue #17): the registry's
//! runs follow the store (`store/runs.rs`) through their life.
//!
//! - **Start.** `App::spawn_job` stages a run's STARTED head before its job
//!   runs, and StartCommissionRun answers once it is durable: a run the
//!   caller heard of is never lost, and one a crash cuts is FAILED after the
//!   restart ([`crate::store::runs::INTERRUPTED`]).
//! - **End.** A succeeded run writes its figures and flushes on its job
//!   thread before it is reported SUCCEEDED; a failed or cancelled one
//!   stages its ended head.
//! - **Forgotten.** A run the registry forgets (its retention, the budget,
//!   DeleteCommissionRun, the close that made it official) leaves the store
//!   too, so a restart brings back exactly the runs the server had.
//! - **Start-up.** [`App::restore_runs`] registers every stored run as a
//!   finished job, with its start number and its share of the budget.

use super::jobs::{Job, JobKind, JobResult, Outcome};
use super::{now_unix_ms, App, AppError, AppResult};
use crate::engine::{EngineError, RunResult};
use crate::store::runs::{RunMeta, StoredRunState};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl App {
    /// Stages the STARTED head of a run that is about to run (called by
    /// `spawn_job` before it hands the job to a thread).
    pub(super) fn run_started(&self, job: &Job) -> AppResult<()> {
        self.store.stage_run_head(&run_meta(job, StoredRunState::Started))?;
        Ok(())
    }

    /// Stores the end of a run that did not succeed (a failure, a
    /// cancellation, a panic): its head without figures. A store that
    /// cannot write is fail-stop already; the run stays STARTED on disk and
    /// reads FAILED after a restart.
    pub(super) fn run_ended(&self, job: &Job, outcome: &Outcome) {
        let state = match outcome {
            Outcome::Failed(reason) => StoredRunState::Failed(reason.to_string()),
            Outcome::Cancelled => StoredRunState::Cancelled,
            Outcome::Succeeded(_) | Outcome::Running => return,
        };
        if let Err(err) = self.store.stage_run_head(&run_meta(job, state)) {
            tracing::error!(run_id = %job.id, %err, "the end of a commission run could not be stored");
        }
    }

    /// Stores a succeeded run's figures and flushes (blocking, on its job
    /// thread); the run is FAILED if that fails.
    pub(super) fn store_run(&self, job: &Job, result: &RunResult) -> Result<(), EngineError> {
        let meta = run_meta(job, StoredRunState::Succeeded);
        self.store
            .write_run(&meta, result)
            .map_err(|err| EngineError::Internal(format!("run '{}' could not be stored: {err}", job.id)))
    }

    /// Deletes the stored records of the runs the registry forgot.
    pub(super) fn drop_forgotten_runs(&self) {
        for run_id in self.jobs.take_forgotten_runs() {
            if let Err(err) = self.store.forget_run(&run_id) {
                tracing::error!(%run_id, %err, "a forgotten commission run could not be deleted from the store");
            }
        }
    }

    /// The run a close made official is answered from the closed period
    /// from now on (its totals in the summary, every rank in the frozen
    /// figures): its job and its stored figures go, with its share of the
    /// budget, so the answers are the same before and after a restart.
    pub(super) fn official_run_closed(&self, run_id: &str) {
        self.jobs.remove(run_id);
        if let Err(err) = self.store.forget_run(run_id) {
            tracing::error!(%run_id, %err, "an official run's figures could not be deleted from the store");
        }
    }

    /// Registers every stored run as a finished job (start-up); returns
    /// how many.
    pub fn restore_runs(&self) -> AppResult<usize> {
        let loaded = self.read(|net| Ok::<_, AppError>(self.store.load_runs(net)?))?;
        let count = loaded.len();
        for run in loaded {
            // Made official by a close whose cleanup a crash cut short.
            if self.read(|net| Ok::<_, AppError>(net.official_by_id(&run.meta.run_id).is_some()))? {
                self.official_run_closed(&run.meta.run_id);
                continue;
            }
            let outcome = match (&run.meta.state, run.result) {
                (StoredRunState::Succeeded, Some(result)) => {
                    Outcome::Succeeded(JobResult::CommissionRun(Arc::new(result)))
                }
                (StoredRunState::Cancelled, _) => Outcome::Cancelled,
                (StoredRunState::Failed(reason), _) => Outcome::Failed(EngineError::Internal(reason.clone())),
                (state, _) => {
                    let reason = format!("a stored run in state {state:?} without its figures");
                    Outcome::Failed(EngineError::Internal(reason))
                }
            };
            self.jobs.restore(&run.meta, outcome);
        }
        self.drop_forgotten_runs();
        Ok(count)
    }

    /// DeleteCommissionRun: deletes a finished dry run (or a run that
    /// failed or was cancelled), its stored records and its share of the
    /// budget, and answers once that is durable. A running run, a closed
    /// period's official run and a succeeded run that is not a dry run (the
    /// one a close would make official) are FAILED_PRECONDITION; an unknown
    /// run NOT_FOUND.
    pub async fn delete_commission_run(self: &Arc<Self>, run_id: &str) -> AppResult<()> {
        let job = match super::runs::RunRef::find(self, run_id)? {
            super::runs::RunRef::Official(period, _) => return Err(official_refused(run_id, &period.to_string())),
            super::runs::RunRef::Live(job) => job,
        };
        if job.is_running() {
            return Err(precondition(format!("run '{run_id}' is still running: delete it once it ended")));
        }
        if run_is_official(self, &job) {
            return Err(official_refused(run_id, &job.period.to_string()));
        }
        if !job.dry_run && job.run_result().is_some() {
            return Err(precondition(format!(
                "run '{run_id}' is not a dry run: {} may close with it, so it is kept until then",
                job.period
            )));
        }
        self.jobs.remove(&job.id);
        let app = Arc::clone(self);
        let id = job.id.clone();
        tokio::task::spawn_blocking(move || app.store.delete_run(&id)).await??;
        tracing::info!(run_id = %job.id, "commission run deleted");
        Ok(())
    }
}

fn run_is_official(app: &App, job: &Job) -> bool {
    app.network.read().official_run(job.period).is_some_and(|o| o.run_id == job.id)
}

fn precondition(message: String) -> AppError {
    EngineError::precondition("run_id", message).into()
}

fn official_refused(run_id: &str, period: &str) -> AppError {
    precondition(format!("run '{run_id}' is the official run of {period}: an official run is never deleted"))
}

/// What the store keeps of a job's run in `state`.
fn run_meta(job: &Job, state: StoredRunState) -> RunMeta {
    debug_assert_eq!(job.kind, JobKind::CommissionRun);
    let (phase, partners_done) =
        job.run_progress().map_or((0, 0), |p| (p.phase() as u8, p.done.load(Ordering::Acquire)));
    let end_ms = if state == StoredRunState::Started { 0 } else { now_unix_ms() };
    RunMeta {
        run_id: job.id.clone(),
        period: job.period,
        dry_run: job.dry_run,
        seq: job.seq,
        start_ms: job.start_ms,
        end_ms,
        state,
        phase,
        partners_done,
        partners_total: job.total.load(Ordering::Acquire),
        kept_bytes: job.memory.kept_bytes,
    }
}
