//! Commission runs: the job that computes one, and the lookup of a run by
//! id or by period, live (a job of this server's life, see `jobs`) or
//! official (a closed period's run, on disk), with a partner's statement
//! from either.

use super::job_budget::{self, NetworkSize};
use super::jobs::{Job, JobKind, JobResult, JobSpec, Outcome, Progress};
use super::{invalid, App, AppError, AppResult};
use crate::engine::compensation::statement as build_statement;
use crate::engine::Statement;
use crate::engine::{EngineError, InputMemory, OfficialRun, PartnerIx, Period, Plan};
use crate::engine::{RunResult, RunTotals};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// A run the API can name.
pub enum RunRef {
    /// A run of this server's life.
    Live(Arc<Job>),
    /// A closed period's official run.
    Official(Period, Arc<OfficialRun>),
}

/// One partner's statement in a run, with what it needs to be shown.
pub struct RunStatement {
    /// The plan version the run used.
    pub plan: Arc<Plan>,
    /// The run's id.
    pub run_id: String,
    /// The run's period.
    pub period: Period,
    /// The partner's retail volume, units.
    pub rv_units: i64,
    /// The statement.
    pub statement: Statement,
}

impl App {
    /// Starts a commission run of an open period on a rayon thread. The
    /// cheap checks answer at once (the memory estimate among them); the
    /// snapshot is taken on the worker.
    /// Answers once the run's start is durable (`run_store.rs`), so a run
    /// the caller heard of is never lost by a crash.
    pub async fn start_commission_run(self: &Arc<Self>, period: Period, dry_run: bool) -> AppResult<Arc<Job>> {
        let size = self.read(|net| {
            if net.is_closed(period) {
                return Err(EngineError::precondition(
                    "period",
                    format!("period {period} is closed: runs are made on open periods only"),
                )
                .into());
            }
            net.period(period)?;
            Ok::<_, AppError>(NetworkSize::of(net, None))
        })?;
        let memory = job_budget::commission_run(&size);
        let job = self.spawn_job(JobSpec { kind: JobKind::CommissionRun, period, dry_run, memory }, run_commission)?;
        tracing::info!(run_id = %job.id, %period, dry_run, "commission run started");
        self.wait_durable(self.store.last_ticket()).await?;
        Ok(job)
    }
}

/// The body of a run, on a rayon thread: an O(chunks) copy-on-write
/// snapshot of the inputs under the read lock (the run recomputes every
/// volume from the orders, so the snapshot leaves out the live volumes
/// that every order rewrites), then everything else on it without any
/// lock.
fn run_commission(app: &App, job: &Job) -> Outcome {
    let Progress::Run(progress) = &job.progress else {
        debug_assert!(false, "a commission run follows the engine's phases");
        return Outcome::Failed(EngineError::Internal("a commission run without its progress".into()));
    };
    let locked = Instant::now();
    let network = app.network.read().inputs_snapshot(None);
    let snapshot_ms = locked.elapsed().as_millis() as u64;
    let started = Instant::now();
    let snapshot =
        network.commission_snapshot_with(&job.period.to_string(), InputMemory::keeping(app.kept_layout.get()));
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
            let result = snapshot.run(progress);
            if job.cancel.is_cancelled() {
                return Outcome::Cancelled;
            }
            // Durable before it is reported done (issue #17).
            let stored = Instant::now();
            if let Err(err) = app.store_run(job, &result) {
                return Outcome::Failed(err);
            }
            let store_ms = stored.elapsed().as_millis() as u64;
            tracing::info!(
                run_id = %job.id,
                partners = result.partners(),
                prepare_ms,
                snapshot_ms,
                layout_reused,
                run_ms = result.duration.as_millis() as u64,
                store_ms,
                payable_cents = %result.totals.payable_cents,
                "commission run done"
            );
            Outcome::Succeeded(JobResult::CommissionRun(Arc::new(result)))
        }
    }
}

impl RunRef {
    /// The run of an id: a live one, else an official one; NOT_FOUND.
    pub fn find(app: &App, run_id: &str) -> AppResult<RunRef> {
        if run_id.is_empty() || run_id.len() > 100 {
            return Err(invalid("run_id", "must be a run id such as 2026-11-1a2b3c4d-1"));
        }
        if let Some(job) = app.jobs.get(JobKind::CommissionRun, run_id) {
            return Ok(RunRef::Live(job));
        }
        let official =
            app.read(|net| Ok::<_, AppError>(net.official_by_id(run_id).map(|(p, o)| (p, Arc::clone(o)))))?;
        official.map(|(p, o)| RunRef::Official(p, o)).ok_or_else(|| {
            AppError::NotFound(format!(
                "run_id: commission run '{run_id}' not found (it was deleted, or forgotten among older runs)"
            ))
        })
    }

    /// The run a period's statements come from: the official run once
    /// closed; while open, its latest finished run that is not a dry run,
    /// else its latest finished dry run.
    pub fn of_period(app: &App, period: Period) -> AppResult<RunRef> {
        let (closed, official) =
            app.read(|net| Ok::<_, AppError>((net.is_closed(period), net.official_run(period).map(Arc::clone))))?;
        if closed {
            return official.map(|o| RunRef::Official(period, o)).ok_or_else(|| {
                AppError::NotFound(format!("period: {period} closed without a commission run: it has no statements"))
            });
        }
        let finished = |dry: bool| latest_finished(app, period, |r| r.dry_run == dry);
        finished(false).or_else(|| finished(true)).map(RunRef::Live).ok_or_else(|| {
            AppError::NotFound(format!("period: no finished commission run of {period}; start one first"))
        })
    }

    /// The run the compliance report of a period shows, if any: the
    /// official one, or the latest finished one that is not a dry run.
    pub fn for_compliance(app: &App, period: Period) -> AppResult<Option<RunRef>> {
        let official = app.read(|net| Ok::<_, AppError>(net.official_run(period).map(Arc::clone)))?;
        if let Some(o) = official {
            return Ok(Some(RunRef::Official(period, o)));
        }
        Ok(latest_finished(app, period, |r| !r.dry_run).map(RunRef::Live))
    }

    /// The run's id.
    pub fn id(&self) -> &str {
        match self {
            RunRef::Live(job) => &job.id,
            RunRef::Official(_, o) => &o.run_id,
        }
    }

    /// The totals of a finished run; FAILED_PRECONDITION otherwise.
    pub fn totals(&self) -> AppResult<RunTotals> {
        match self {
            RunRef::Official(_, o) => Ok(o.totals.clone()),
            RunRef::Live(job) => Ok(finished_result(job)?.totals.clone()),
        }
    }

    /// Whether it is its period's official run.
    pub fn is_official(&self, app: &App) -> bool {
        match self {
            RunRef::Official(..) => true,
            RunRef::Live(job) => app.network.read().official_run(job.period).is_some_and(|o| o.run_id == job.id),
        }
    }

    /// A partner's statement in the run; NOT_FOUND if the partner was not
    /// in it. An official run's statement is recomputed from the frozen
    /// figures (from disk once the period's figures left memory).
    pub fn statement(&self, app: &App, ix: PartnerIx, partner_id: &str) -> AppResult<RunStatement> {
        let not_in_run = || {
            AppError::NotFound(format!(
                "partner_id: partner '{partner_id}' is not in run '{}' (it was not live at its snapshot)",
                self.id()
            ))
        };
        match self {
            RunRef::Live(job) => {
                let result = finished_result(job)?;
                let pos = result.position_of(ix).ok_or_else(not_in_run)?;
                let f = result.figures_at(pos);
                let (plan, run_id) = (Arc::clone(&result.plan), job.id.clone());
                Ok(RunStatement { plan, run_id, period: job.period, rv_units: f.rv_units, statement: f.statement })
            }
            RunRef::Official(period, o) => {
                let (plan, inputs) = app.read(|net| {
                    Ok::<_, AppError>((
                        Arc::clone(net.plan_version(o.plan_version)?),
                        net.official_inputs(*period, ix)?,
                    ))
                })?;
                let (view, rank_entry) = match inputs {
                    Some(found) => found,
                    None => app.store.read_frozen_ranked(*period, ix)?.ok_or_else(not_in_run)?,
                };
                if rank_entry == 0 {
                    return Err(not_in_run());
                }
                let levels: Vec<i64> = view.levels.iter().map(|l| l.volume_units).collect();
                let statement =
                    build_statement(&plan, rank_entry - 1, view.active, view.rv_units, &levels, o.totals.factor);
                let run_id = o.run_id.clone();
                Ok(RunStatement { plan, run_id, period: *period, rv_units: view.rv_units, statement })
            }
        }
    }
}

/// The latest finished run of a period among those `keep` accepts.
fn latest_finished(app: &App, period: Period, keep: impl Fn(&Job) -> bool) -> Option<Arc<Job>> {
    app.jobs.latest(JobKind::CommissionRun, period, |r| keep(r) && r.run_result().is_some())
}

/// A live run's result; FAILED_PRECONDITION while it computes or once it
/// failed.
pub fn finished_result(job: &Job) -> AppResult<Arc<RunResult>> {
    if let Some(result) = job.run_result() {
        return Ok(result);
    }
    let message = match job.failure() {
        Some(reason) => format!("run '{}' failed: {reason}", job.id),
        None if job.is_cancelled() => format!("run '{}' was cancelled at a shutdown: start a new one", job.id),
        None => format!("run '{}' is still running", job.id),
    };
    Err(AppError::NotReady { field: "run_id", message })
}
