//! `downline-tools stall` against a real server holding the example network
//! (its 15 orders of 2026-11): each of the four jobs is started through the
//! API while the RecordOrder load runs, and the report has the job's
//! figures and both windows; a job the server refuses is an error, and bad
//! flags are refused by the real binary before anything is sent.

use crate::genealogy_support::get;
use crate::volume_support::{example_with_orders, EXAMPLE_PERIOD as P};
use downline_tools::stall::{measure, StallArgs, StallReport};
use downline_tools::stall_jobs::Job;

/// One second of warm-up and one of control at 200 writes/s to A's downline.
fn args(addr: std::net::SocketAddr, job: Job, period: &str) -> StallArgs {
    StallArgs {
        target: format!("http://{addr}"),
        job,
        period: period.into(),
        rate: 200,
        warmup_s: 1,
        control_s: 1,
        max_job_s: 60,
        concurrency: 32,
        ids_from: None,
        root: "A".into(),
        seed: 7,
        token: None,
    }
}

/// Runs a stall measurement off the test's runtime (it builds its own).
async fn run(args: StallArgs) -> Result<StallReport, String> {
    tokio::task::spawn_blocking(move || measure(args)).await.expect("no panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_reports_its_figures() {
    let (mut h, _) = example_with_orders().await;
    let jobs = [
        (Job::Recalculation, "snapshot"),
        (Job::CommissionRun, "dry run"),
        (Job::PlanChange, "plan version 1 -> 2: rank"),
        (Job::Simulation, "with level 1 at 0.06: "),
        // Last: it creates partners, and needs the genealogy as it started.
        (Job::TeamLayout, "of 33 trigger writes the slowest was #"),
    ];
    for (job, detail) in jobs {
        let report = run(args(h.addr, job, P)).await.expect("the job runs");
        // The control window is exactly one second of the schedule.
        assert_eq!((report.control.count, report.control.failed), (200, 0), "{job:?}");
        assert!(report.control.max_us >= report.control.p999_us && report.control.p999_us >= report.control.p50_us);
        assert_eq!(report.during.failed, 0, "{job:?}");
        assert!(report.window_ms > 0.0 && report.job_figures.duration_ms >= 0.0, "{job:?}");
        let lines = report.lines();
        assert!(lines[0].starts_with(&format!("job {}: ", job.name())) && lines[0].contains(detail), "{lines:?}");
        assert_eq!(lines[2].split_whitespace().nth(1), Some("200"), "{lines:?}");
        // The profile cuts the job window into 100 ms slices, each with its longest wait.
        assert_eq!(report.profile.len(), ((report.window_ms * 1000.0) as usize).div_ceil(100_000).max(1), "{job:?}");
        assert_eq!(report.profile.iter().max().copied().unwrap_or(0), report.during.max_us, "{job:?}");
        assert!(lines[4].starts_with("longest wait (ms) of the writes of each 100 ms of the job: "), "{lines:?}");
        let result = lines.last().expect("a result line");
        for key in ["job_ms=", "window_ms=", "control_max_ms=", "job_writes=", "job_p999_ms=", "job_max_ms="] {
            assert!(result.contains(key), "{result}");
        }
        assert!(result.starts_with(&format!("result job={} rate=200 ", job.name())), "{result}");
    }
    // The team layout's job imported 4,096 - 2 - 16 partners under A (its
    // threshold on a small network), then made 33 trigger writes.
    assert_eq!(get(&mut h.client, "A").await.downline_count, 11 + 4078 + 33);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_job_is_an_error() {
    let (h, _) = example_with_orders().await;
    // A malformed period: the recalculation is refused (so is every write).
    let error = run(args(h.addr, Job::Recalculation, "2026-13")).await.expect_err("refused");
    assert!(error.starts_with("RecalculateVolumes: InvalidArgument: "), "{error}");
    h.stop().await;
}

/// The real binary refuses bad flags before it connects to anything.
#[test]
fn bad_flags_are_refused() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_downline-tools"))
            .arg("stall")
            .args(["--target", "http://127.0.0.1:9"])
            .args(args)
            .output()
            .expect("the binary runs")
    };
    for (flags, message) in [
        (&["--job", "recalculation", "--rate", "0"][..], "--rate must be 1 to 10000"),
        (&["--job", "recalculation", "--warmup-s", "61"][..], "--warmup-s must be 1 to 60"),
        (&["--job", "plan-change", "--max-job-s", "590"][..], "--max-job-s must be 1 to 580"),
        (&["--job", "team-layout", "--concurrency", "0"][..], "--concurrency must be 1 to 4096"),
        (&["--job", "nightly"][..], "possible values: recalculation, commission-run, plan-change, team-layout"),
    ] {
        let out = run(flags);
        assert!(!out.status.success(), "{flags:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(message), "{flags:?}: {out:?}");
    }
}
