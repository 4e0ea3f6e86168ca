//! `downline-tools stall`: how long live writes wait while a background job
//! runs (issue #16).
//!
//! It runs `loadtest`'s open-loop RecordOrder load (the same schedule,
//! client and statistics, with their timeline kept), lets it warm up, then
//! starts one job through the public API ([`crate::stall_jobs`]) and waits
//! for it to finish. The writes are split by their scheduled time:
//!
//! ```text
//! | warm-up | control | gap | job: trigger sent .. seen finished | (no more writes)
//! ```
//!
//! The control window is the same load without the job; the gap keeps a
//! write scheduled just before the trigger (and maybe still waiting) out of
//! both. Latency is measured from each write's scheduled time, so a write
//! that waited for a lock the job held counts its whole wait (no
//! coordinated omission). A write scheduled during the job but answered
//! after it counts in the job window; one scheduled after the job was seen
//! finished does not, even if it waited behind the backlog.

use crate::loadtest::{self, Client, Hooks, LoadtestArgs, Rpc};
use crate::loadtest_stats::{Stats, Window};
use crate::stall_jobs::{Finished, Job, JobClient};
use downline::cli::stdout::line;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The highest write rate (the timeline keeps 12 bytes a write).
pub const MAX_RATE: u64 = 10_000;
/// The longest warm-up or control window, in seconds.
pub const MAX_WINDOW_S: u64 = 60;
/// Between the control window and the trigger: in neither window.
const GAP: Duration = Duration::from_millis(250);
/// A stalled write may wait this long before it counts as a client timeout.
const WRITE_TIMEOUT_MS: u64 = 60_000;
/// The most slices the job window is cut into for the report's profile.
const MAX_SLICES: u64 = 40;
/// The shortest slice of the profile.
const MIN_SLICE_MS: u64 = 100;

/// Flags of `downline-tools stall`.
#[derive(clap::Args, Debug)]
pub struct StallArgs {
    /// The server; the only address this command talks to.
    #[arg(long, env = "DOWNLINE_TARGET", default_value = "http://127.0.0.1:50051")]
    pub target: String,
    /// The background job to start.
    #[arg(long, value_enum)]
    pub job: Job,
    /// The open period the job works on and the orders are recorded in.
    #[arg(long, env = "DOWNLINE_PERIOD", default_value = "2026-11")]
    pub period: String,
    /// RecordOrder writes per second, on a fixed schedule (1 to 10,000).
    #[arg(long, env = "DOWNLINE_RATE", default_value_t = 1000)]
    pub rate: u64,
    /// Seconds of load before the control window (1 to 60).
    #[arg(long, default_value_t = 5)]
    pub warmup_s: u64,
    /// Seconds of the control window, the load without the job (1 to 60).
    #[arg(long, default_value_t = 5)]
    pub control_s: u64,
    /// The job must finish within this many seconds (warm-up, control and
    /// this together at most 590).
    #[arg(long, default_value_t = 300)]
    pub max_job_s: u64,
    /// The most writes in flight.
    #[arg(long, env = "DOWNLINE_CONCURRENCY", default_value_t = 64)]
    pub concurrency: usize,
    /// A partners.csv (id in the first column) whose partners the orders go
    /// to. Without it, the first 10,000 of `--root`'s downline, breadth-first.
    #[arg(long, env = "DOWNLINE_IDS_FROM")]
    pub ids_from: Option<PathBuf>,
    /// The network's root: the ids' source without `--ids-from`, and the
    /// partner under which `team-layout` creates its partners.
    #[arg(long, env = "DOWNLINE_ROOT", default_value = "1")]
    pub root: String,
    /// The seed of the random choice of partners.
    #[arg(long, env = "DOWNLINE_SEED", default_value_t = 7)]
    pub seed: u64,
    /// An admin API key, sent as `authorization: Bearer <token>`.
    #[arg(long, env = "DOWNLINE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// What a stall run measured.
#[derive(Clone, Debug)]
pub struct StallReport {
    /// The job.
    pub job: Job,
    /// The write rate.
    pub rate: u64,
    /// The writes of the control window.
    pub control: Window,
    /// The writes scheduled while the job ran.
    pub during: Window,
    /// From the trigger's send to the job seen finished, in ms.
    pub window_ms: f64,
    /// The job window cut into slices of this many ms, for `profile`.
    pub slice_ms: u64,
    /// The longest wait of the writes scheduled in each slice, in µs: one
    /// block of long waits is a lock held; waits spread over the whole job
    /// are a backlog, or the job's threads taking the cores.
    pub profile: Vec<u64>,
    /// The job's own figures.
    pub job_figures: Finished,
}

/// Runs the load and the job, and prints the report.
pub fn run(args: StallArgs) -> Result<(), String> {
    measure(args)?.print()
}

/// Runs the load and the job, and returns what they measured.
pub fn measure(args: StallArgs) -> Result<StallReport, String> {
    validate(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    let client = runtime.block_on(JobClient::connect(&args.target, args.token.as_deref(), &args.period, &args.root))?;
    let ready = runtime.block_on(client.prepare(args.job))?;
    let end = Arc::new(Mutex::new(None));
    let (started_tx, started) = mpsc::channel();
    let hooks = Hooks { end: Arc::clone(&end), started: Some(started_tx), timeline: true };
    let load_args = load_args(&args);
    let load = std::thread::Builder::new()
        .name("stall-load".into())
        .spawn(move || loadtest::measure_with(load_args, hooks))
        .map_err(|e| format!("cannot start the load thread: {e}"))?;
    let Ok(start) = started.recv() else {
        // The load gave up before it started; its error says why.
        return join(load).and(Err("the load ended before it started".into()));
    };
    let control_from = start + Duration::from_secs(args.warmup_s);
    let control_to = control_from + Duration::from_secs(args.control_s);
    std::thread::sleep((control_to + GAP).saturating_duration_since(Instant::now()));
    let job_from = Instant::now();
    let finished = runtime.block_on(client.run(ready, Duration::from_secs(args.max_job_s)));
    let job_to = Instant::now();
    *end.lock() = Some(job_to);
    let stats = join(load)?;
    let (slice_ms, profile) = profile(&stats, job_from, job_to);
    Ok(StallReport {
        job: args.job,
        rate: args.rate,
        control: stats.window(control_from, control_to),
        during: stats.window(job_from, job_to),
        window_ms: job_to.duration_since(job_from).as_secs_f64() * 1000.0,
        slice_ms,
        profile,
        job_figures: finished?,
    })
}

fn validate(args: &StallArgs) -> Result<(), String> {
    if !(1..=MAX_RATE).contains(&args.rate) {
        return Err(format!("--rate must be 1 to {MAX_RATE}"));
    }
    if !(1..=MAX_WINDOW_S).contains(&args.warmup_s) {
        return Err(format!("--warmup-s must be 1 to {MAX_WINDOW_S}"));
    }
    if !(1..=MAX_WINDOW_S).contains(&args.control_s) {
        return Err(format!("--control-s must be 1 to {MAX_WINDOW_S}"));
    }
    let most = loadtest::MAX_DURATION_S - 10 - args.warmup_s - args.control_s;
    if !(1..=most).contains(&args.max_job_s) {
        return Err(format!("--max-job-s must be 1 to {most} with this warm-up and control"));
    }
    // The load's own flags (--concurrency), before a job prepares anything.
    loadtest::validate(&load_args(args))
}

/// The load: RecordOrder at `--rate`, for long enough that the job ends it.
fn load_args(args: &StallArgs) -> LoadtestArgs {
    LoadtestArgs {
        target: args.target.clone(),
        rpc: Rpc::RecordOrder,
        client: Client::H2,
        rate: args.rate,
        duration_s: args.warmup_s + args.control_s + 1 + args.max_job_s,
        concurrency: args.concurrency,
        ids_from: args.ids_from.clone(),
        root: Some(args.root.clone()),
        max_ids: 10_000,
        page_size: 100,
        period: args.period.clone(),
        batch: 1,
        modules: 1,
        completed_on: "2026-11-28".into(),
        seed: args.seed,
        timeout_ms: WRITE_TIMEOUT_MS,
        token: args.token.clone(),
    }
}

/// The window `from..to` cut into at most [`MAX_SLICES`] slices of whole
/// multiples of [`MIN_SLICE_MS`]: their length, and each one's longest wait.
fn profile(stats: &Stats, from: Instant, to: Instant) -> (u64, Vec<u64>) {
    let window_us = u64::try_from(to.duration_since(from).as_micros()).unwrap_or(u64::MAX);
    let slice_ms = window_us.div_ceil(1000 * MAX_SLICES).div_ceil(MIN_SLICE_MS).max(1) * MIN_SLICE_MS;
    let maxima = (0..window_us.div_ceil(1000 * slice_ms).max(1))
        .map(|i| {
            let start = from + Duration::from_millis(i * slice_ms);
            stats.window(start, (start + Duration::from_millis(slice_ms)).min(to)).max_us
        })
        .collect();
    (slice_ms, maxima)
}

/// The load thread's statistics, or its error.
fn join(load: JoinHandle<Result<Stats, String>>) -> Result<Stats, String> {
    load.join().map_err(|_| "the load thread panicked".to_owned())?
}

impl StallReport {
    /// The report: the job's figures, a table of both windows, and one
    /// `result` line of `key=value` pairs for scripts.
    pub fn lines(&self) -> Vec<String> {
        let ms = |us: u64| us as f64 / 1000.0;
        let row = |name: &str, w: &Window| {
            format!(
                "{name:12} {:>8} {:>7} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                w.count,
                w.failed,
                ms(w.p50_us),
                ms(w.p99_us),
                ms(w.p999_us),
                ms(w.max_us)
            )
        };
        let (c, d) = (&self.control, &self.during);
        vec![
            format!(
                "job {}: {:.1} ms ({}); the writes' window {:.1} ms",
                self.job.name(),
                self.job_figures.duration_ms,
                self.job_figures.detail,
                self.window_ms
            ),
            format!(
                "{:12} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
                "window", "writes", "failed", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
            ),
            row("control", c),
            row("during job", d),
            format!(
                "longest wait (ms) of the writes of each {} ms of the job: {}",
                self.slice_ms,
                self.profile.iter().map(|&us| format!("{:.1}", ms(us))).collect::<Vec<_>>().join(" ")
            ),
            format!(
                "result job={} rate={} job_ms={:.1} window_ms={:.1} control_writes={} control_failed={} control_p50_ms={:.3} control_p99_ms={:.3} control_p999_ms={:.3} control_max_ms={:.3} job_writes={} job_failed={} job_p50_ms={:.3} job_p99_ms={:.3} job_p999_ms={:.3} job_max_ms={:.3}",
                self.job.name(),
                self.rate,
                self.job_figures.duration_ms,
                self.window_ms,
                c.count,
                c.failed,
                ms(c.p50_us),
                ms(c.p99_us),
                ms(c.p999_us),
                ms(c.max_us),
                d.count,
                d.failed,
                ms(d.p50_us),
                ms(d.p99_us),
                ms(d.p999_us),
                ms(d.max_us)
            ),
        ]
    }

    /// Prints [`StallReport::lines`].
    pub fn print(&self) -> Result<(), String> {
        self.lines().iter().try_for_each(|l| line(format_args!("{l}")))
    }
}
