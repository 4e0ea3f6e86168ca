//! Running the registry's jobs: [`App::spawn_job`] (admission, the budget's
//! reservation, the body on rayon with its panic caught), the shutdown of
//! the jobs ([`App::shut_down_jobs`]: no new job, the running ones get a
//! grace period, then they are cancelled), and the test hooks that hold or
//! panic the next job ([`JobHooks`], never reachable from a request).

use super::error::AppResult;
use super::jobs::{Job, JobKind, JobSpec, Outcome};
use super::App;
use crate::engine::EngineError;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::Duration;

/// How long cancelled jobs may take to reach their next chunk boundary
/// before the shutdown goes on without them. A job stores nothing, so one
/// left behind (still capturing its inputs, which has no chunk boundary)
/// loses nothing when the process exits.
pub const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// The body of a job, on a rayon thread: it watches `job.cancel` between
/// chunks and returns how the job ended (`spawn_job` also takes a closure,
/// which carries a job's own inputs, such as a simulation's plan).
pub type JobBody = fn(&App, &Job) -> Outcome;

impl App {
    /// Registers a job and runs `body` on a job thread (`job_pool`: a rayon
    /// pool at a lower priority). Refused while the server
    /// shuts down (UNAVAILABLE), when its kind's running limit is reached
    /// or when its memory estimate does not fit the budget (both
    /// RESOURCE_EXHAUSTED). A panic in `body` fails that job (INTERNAL,
    /// reported in its status), never the process: rayon would abort on
    /// it. A job whose cancel flag was set ends CANCELLED whatever its body
    /// returned (its result may be partial).
    pub fn spawn_job(
        self: &Arc<Self>,
        spec: JobSpec,
        body: impl FnOnce(&App, &Job) -> Outcome + Send + 'static,
    ) -> AppResult<Arc<Job>> {
        let job = self.jobs.start(spec)?;
        self.drop_forgotten_runs();
        if job.kind == JobKind::CommissionRun {
            if let Err(err) = self.run_started(&job) {
                job.finish(Outcome::Failed(EngineError::Internal(format!("run '{}' could not be stored", job.id))));
                self.jobs.remove(&job.id);
                return Err(err);
            }
        }
        let (app, worker) = (Arc::clone(self), Arc::clone(&job));
        super::job_pool::spawn_on_job_thread(move || {
            let outcome = run_caught(&worker, || {
                app.job_hooks().before_body(&worker);
                body(&app, &worker)
            });
            let outcome = if worker.cancel.is_cancelled() { Outcome::Cancelled } else { outcome };
            if matches!(outcome, Outcome::Cancelled) {
                tracing::warn!(job = %worker.id, "a background job was cancelled; it produced nothing");
            }
            if worker.kind == JobKind::CommissionRun {
                app.run_ended(&worker, &outcome);
            }
            worker.finish(outcome);
            app.jobs.ended.notify_waiters();
        });
        Ok(job)
    }

    /// The shutdown of the jobs: no job starts any more; the running ones
    /// get until `grace` to finish, then they are cancelled and get
    /// [`CANCEL_WAIT`] to stop. Returns how many were cancelled.
    pub async fn shut_down_jobs(&self, grace: Duration) -> usize {
        self.jobs.stop_admitting();
        let running = self.jobs.running().len();
        if running > 0 {
            tracing::info!(running, grace_ms = grace.as_millis() as u64, "waiting for background jobs");
        }
        if self.wait_for_jobs(grace).await {
            return 0;
        }
        let cancelled = self.jobs.running();
        for job in &cancelled {
            job.cancel.cancel();
        }
        tracing::warn!(jobs = cancelled.len(), "the job grace period (--job-grace-secs) passed: jobs cancelled");
        if !self.wait_for_jobs(CANCEL_WAIT).await {
            tracing::warn!("cancelled jobs still run; the shutdown goes on without them (they store nothing)");
        }
        cancelled.len()
    }

    /// Waits until no job runs, at most `limit`; whether none runs.
    async fn wait_for_jobs(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Enabled before the check, so an end between the two wakes it.
            let ended = self.jobs.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.jobs.running().is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return self.jobs.running().is_empty();
            }
        }
    }

    /// The test hooks of the jobs.
    #[doc(hidden)]
    pub fn job_hooks(&self) -> &JobHooks {
        &self.job_hooks
    }
}

/// Runs a job's body; a panic in it is the job's failure.
pub(super) fn run_caught(job: &Job, body: impl FnOnce() -> Outcome) -> Outcome {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let cause = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            tracing::error!(job = %job.id, %cause, "a background job panicked; it failed, the server goes on");
            Outcome::Failed(EngineError::Internal(format!("the job {} failed inside the server: {cause}", job.id)))
        }
    }
}

/// Test hooks: make the next job panic, or hold it before its body until
/// released (or cancelled), so a test can act while a job certainly runs.
/// Only tests arm them; a request cannot.
#[doc(hidden)]
#[derive(Default)]
pub struct JobHooks {
    state: Mutex<HookState>,
    changed: Condvar,
}

#[derive(Default)]
struct HookState {
    panic_next: bool,
    hold_next: bool,
    held: usize,
}

impl JobHooks {
    /// The next job to start panics before its body.
    pub fn panic_next_job(&self) {
        self.state.lock().panic_next = true;
    }

    /// The next job to start waits before its body until
    /// [`JobHooks::release_held_jobs`] or its cancellation.
    pub fn hold_next_job(&self) {
        self.state.lock().hold_next = true;
    }

    /// Lets every held job go on, and disarms the hold if no job took it
    /// yet (it may still wait for a rayon thread).
    pub fn release_held_jobs(&self) {
        let mut state = self.state.lock();
        (state.held, state.hold_next) = (0, false);
        self.changed.notify_all();
    }

    /// How many jobs wait in the hook now.
    pub fn held_jobs(&self) -> usize {
        self.state.lock().held
    }

    /// Called by each job before its body.
    fn before_body(&self, job: &Job) {
        let mut state = self.state.lock();
        if std::mem::take(&mut state.panic_next) {
            drop(state);
            panic!("a panic injected by a test hook");
        }
        if !std::mem::take(&mut state.hold_next) {
            return;
        }
        state.held += 1;
        // The cancel flag has no waker: look at it every few milliseconds.
        while state.held > 0 && !job.cancel.is_cancelled() {
            self.changed.wait_for(&mut state, Duration::from_millis(5));
        }
        state.held = state.held.saturating_sub(1);
    }
}
