//! The registry's unit tests: limits, numbering, retention, the budget and
//! the shutdown's refusal.

use super::super::job_spawn::run_caught;
use super::*;

fn period(text: &str) -> Period {
    Period::parse("period", text).expect("a period")
}

/// A job of `kind` on `period` needing `peak_bytes` and keeping `kept_bytes`.
fn spec(kind: JobKind, p: &str, dry_run: bool, memory: (u64, u64)) -> JobSpec {
    JobSpec { kind, period: period(p), dry_run, memory: JobMemory { peak_bytes: memory.0, kept_bytes: memory.1 } }
}

fn run(p: &str, dry_run: bool) -> JobSpec {
    spec(JobKind::CommissionRun, p, dry_run, (0, 0))
}

#[test]
fn a_panic_in_a_job_fails_that_job_only() {
    let jobs = Jobs::default();
    let job = jobs.start(run("2026-11", true)).expect("room for a run");
    let outcome = run_caught(&job, || panic!("boom"));
    job.finish(outcome);
    assert!(!job.is_running());
    let failure = job.failure().expect("a failure").to_string();
    assert!(failure.contains("failed inside the server: boom"), "{failure}");
    assert!(matches!(job.failure(), Some(EngineError::Internal(_))));
    // A body that returns gives its own outcome.
    let quiet = jobs.start(run("2026-11", true)).expect("room for a run");
    assert!(matches!(run_caught(&quiet, || Outcome::Cancelled), Outcome::Cancelled));
}

#[test]
fn each_kind_has_its_own_running_limit_and_numbering() {
    let jobs = Jobs::default();
    let recalc = || spec(JobKind::Recalculation, "2026-11", false, (0, 0));
    let recalcs: Vec<_> =
        (0..MAX_RUNNING_RECALCULATIONS).map(|_| jobs.start(recalc()).expect("room for a recalculation")).collect();
    assert!(matches!(jobs.start(recalc()), Err(AppError::Busy { .. })), "the recalculation limit holds");
    let run = jobs.start(run("2026-11", false)).expect("runs are limited on their own");
    assert_eq!(recalcs[0].id, "operations/recalculate-2026-11-1");
    assert!(run.id.starts_with("2026-11-") && run.id.ends_with("-1"), "{}", run.id);
    assert!(jobs.get(JobKind::CommissionRun, &recalcs[0].id).is_none(), "lookups keep to their kind");
    recalcs[0].finish(Outcome::Failed(EngineError::invalid("period", "x")));
    assert!(jobs.start(recalc()).is_ok(), "a finished job frees its place");
}

#[test]
fn finished_runs_are_forgotten_oldest_first_but_each_periods_latest_real_run_is_kept() {
    let jobs = Jobs::default();
    let finish = |job: Arc<Job>| {
        job.finish(Outcome::Failed(EngineError::invalid("period", "x")));
        job
    };
    let real = finish(jobs.start(run("2026-10", false)).expect("a run"));
    let dry: Vec<_> =
        (0..MAX_KEPT_RUNS + 2).map(|_| finish(jobs.start(run("2026-11", true)).expect("a run"))).collect();
    let kept = |job: &Job| jobs.get(JobKind::CommissionRun, &job.id).is_some();
    assert!(kept(&real), "the latest real run of 2026-10 is spared");
    // Pruned as each run starts: the 8th start found 8 finished runs.
    assert!(!kept(&dry[0]), "the oldest dry run is forgotten");
    assert!(dry[1..].iter().all(|job| kept(job)));
}

#[test]
fn the_budget_refuses_what_does_not_fit_and_a_kept_result_holds_its_share_until_forgotten() {
    let jobs = Jobs::new(1000);
    let big = || spec(JobKind::CommissionRun, "2026-11", true, (600, 300));
    let first = jobs.start(big()).expect("fits");
    let refused = jobs.start(big()).err().expect("over the budget").to_string();
    for needle in ["needs 1 KiB", "budget of 1 KiB (--job-memory-mb)", "1 KiB of it are in use", "1 running jobs"] {
        assert!(refused.contains(needle), "{refused}");
    }
    first.finish(Outcome::Cancelled);
    assert_eq!(jobs.budget_bytes(), (1000, 0), "a cancelled job gives everything back");
    let second = jobs.start(big()).expect("fits once the first ended");
    let recalc = spec(JobKind::Recalculation, "2026-11", false, (500, 0));
    assert!(jobs.start(recalc).is_err(), "600 + 500 > 1000");
    second.finish(Outcome::Succeeded(JobResult::Recalculation(summary())));
    assert_eq!(jobs.budget_bytes().1, 300, "a success keeps its result's share");
    let third = jobs.start(recalc).expect("300 + 500 fit");
    assert!(jobs.over_budget(JobKind::Recalculation, over()).to_string().contains("1 finished runs kept"));
    drop(third);
    // Forgotten (pruned as later runs start) and dropped: its share is back.
    for _ in 0..MAX_KEPT_RUNS + 1 {
        jobs.start(spec(JobKind::CommissionRun, "2026-11", true, (0, 0))).expect("free").finish(Outcome::Cancelled);
    }
    drop(second);
    assert_eq!(jobs.budget_bytes().1, 500, "only the running recalculation holds memory");
}

#[test]
fn a_stopped_registry_starts_nothing() {
    let jobs = Jobs::default();
    jobs.stop_admitting();
    let refused = jobs.start(run("2026-11", false)).err().expect("refused");
    assert!(matches!(refused, AppError::JobsStopped { kind: "commission run" }), "{refused}");
    assert!(refused.to_string().contains("shutting down"), "{refused}");
}

fn over() -> OverBudget {
    OverBudget { needed_bytes: 1, in_use_bytes: 1, limit_bytes: 1 }
}

fn summary() -> RecalcSummary {
    RecalcSummary {
        period: period("2026-11"),
        partners: 0,
        differences: 0,
        first_difference: String::new(),
        prepare_ms: 0,
        snapshot_ms: 0,
        rollup_ms: 0,
        ranks_ms: 0,
        compare_ms: 0,
    }
}

#[test]
fn a_budget_full_of_kept_runs_forgets_them_but_each_periods_latest_real_run() {
    let jobs = Jobs::new(1000);
    let kept = |p: &str, dry_run: bool| {
        let job = jobs.start(spec(JobKind::CommissionRun, p, dry_run, (400, 400))).expect("fits");
        job.finish(Outcome::Succeeded(JobResult::Recalculation(summary())));
        job.id.clone()
    };
    let (dry, real) = (kept("2026-11", true), kept("2026-10", false));
    assert_eq!(jobs.budget_bytes().1, 800);
    let running = jobs.start(spec(JobKind::Recalculation, "2026-11", false, (500, 0))).expect("room made");
    assert!(jobs.get(JobKind::CommissionRun, &dry).is_none(), "the dry run was forgotten for room");
    assert!(jobs.get(JobKind::CommissionRun, &real).is_some(), "the latest real run of 2026-10 stays");
    assert_eq!(jobs.budget_bytes().1, 900);
    assert!(jobs.start(spec(JobKind::Recalculation, "2026-11", false, (200, 0))).is_err(), "nothing more to free");
    drop(running);
}
