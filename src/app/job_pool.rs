//! The threads of the background jobs: a rayon pool of their own whose
//! threads run at a lower scheduling priority than the request path.
//!
//! Why: a recalculation or a commission run keeps every core busy for
//! seconds. On the rayon global pool at the same priority as the request
//! threads, the writes' hand-offs (the async worker, the blocking thread
//! that applies the write, the group commit's flusher) each queued behind
//! the jobs' time slices: on this 2-core machine writes waited 150-300 ms
//! at 1M while the recalculation's capture ran (docs/bench-log.md, "Job
//! threads at a lower priority"). At nice [`JOB_NICE`] a job thread has
//! about a tenth of a request thread's weight, so any request thread that
//! wakes up runs at once, and the jobs still have every core the requests
//! leave idle (almost all of them at night).
//!
//! Every `par_iter` inside a job runs on this pool, because the job's body
//! is spawned on it (rayon runs nested parallel work on the current pool).

use std::sync::OnceLock;

/// The nice value of the job threads (0 is the request path's; 19 the lowest).
pub const JOB_NICE: i32 = 10;

/// The pool, built on first use with one thread per core; `None` if no
/// pool could be built (no thread could be spawned), when the jobs share
/// rayon's global pool at the normal priority.
fn job_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let built = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("downline-job-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .build();
        built.map_err(|error| tracing::error!(%error, "no thread pool for the background jobs")).ok()
    })
    .as_ref()
}

/// Runs `work` on a job thread (see the module documentation).
pub fn spawn_on_job_thread(work: impl FnOnce() + Send + 'static) {
    match job_pool() {
        Some(pool) => pool.spawn(work),
        None => rayon::spawn(work),
    }
}

/// Runs `work` on the job pool and waits for it: for tests and tools that
/// need a job's threads.
pub fn install_on_job_threads<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match job_pool() {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Sets the calling thread's nice value to [`JOB_NICE`], or keeps its own
/// if that is lower already (on Linux the nice value is a property of each
/// thread). A refusal is logged and the thread runs at its priority:
/// slower writes during jobs, nothing worse.
fn lower_this_threads_priority() {
    let thread = rustix::thread::gettid();
    let own = rustix::process::getpriority_process(Some(thread)).unwrap_or(0);
    if let Err(error) = rustix::process::setpriority_process(Some(thread), JOB_NICE.max(own)) {
        tracing::warn!(%error, "a job thread keeps its priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_threads_run_at_the_job_priority_and_the_caller_keeps_its_own() {
        let own = rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("own priority");
        let seen = install_on_job_threads(|| {
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("job thread priority")
        });
        assert_eq!(seen, JOB_NICE.max(own));
        assert_eq!(rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("own"), own);
    }
}
