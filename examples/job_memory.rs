//! Measures the memory of the background jobs against the job budget's
//! estimates (`app::job_budget`, issue #16): the process's peak RSS
//! (VmHWM, reset through /proc/self/clear_refs) above its RSS before the
//! job, for a commission run and a recalculation done as the application
//! does them (an inputs snapshot, the recalculation's own copy of its
//! period, the capture, the snapshot dropped, the computation), once with no write meanwhile and once with `orders`
//! orders written while the snapshot is alive (the copies they cause).
//!
//! `cargo run --release --example job_memory -- [partners] [orders]`
//! (defaults 1,000,000 and 5,000). Linux only. A measurement, not a test.

use downline::app::job_budget::{self, JobMemory, NetworkSize};
use downline::engine::{Network, OrderKind, OrderRequest, Period, RunProgress, VolumePlan};
use std::sync::atomic::AtomicU64;

const PERIOD: &str = "2026-11";

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let partners = args.next().unwrap_or(1_000_000);
    let orders = args.next().unwrap_or(5_000);
    let mut net = Network::new(Default::default(), VolumePlan::default());
    net.import(&downline::synth::partners(partners, 7)).expect("synthetic partners import");
    for order in downline::synth::orders(partners, 7, PERIOD) {
        net.record_order(&order).expect("synthetic orders record");
    }
    let period = Period::parse("period", PERIOD).expect("a period");
    let (runs, recalcs) = (NetworkSize::of(&net, None), NetworkSize::of(&net, Some(period)));
    println!(
        "network: {partners} partners, {} levels, period volumes {}",
        runs.levels,
        mib(recalcs.period_volume_bytes)
    );
    let mut written = 0;
    for writes in [0, orders] {
        let run = measure(&mut net, writes, &mut written, None, |snapshot| {
            let result = snapshot.commission_snapshot(PERIOD).expect("a run's capture");
            Box::new(move || Box::new(result.run(&RunProgress::default())) as Box<dyn std::any::Any>)
        });
        report("commission run", writes, run, job_budget::commission_run(&runs));
        let recalc = measure(&mut net, writes, &mut written, Some(period), |snapshot| {
            let capture = snapshot.recalc_snapshot(period).expect("a recalculation's capture");
            Box::new(move || Box::new(capture.run(&AtomicU64::new(0))) as Box<dyn std::any::Any>)
        });
        report("recalculation", writes, recalc, job_budget::recalculation(&recalcs));
    }
}

/// The deferred computation of a captured job, and what it keeps.
type Compute = Box<dyn FnOnce() -> Box<dyn std::any::Any>>;

/// Peak and kept bytes above the RSS before the job, done as the
/// application does it: an inputs snapshot (with `period`'s volumes,
/// unshared, for a recalculation), `writes` orders on the live network
/// while it is alive, capture, drop, compute.
fn measure(
    net: &mut Network,
    writes: usize,
    written: &mut usize,
    period: Option<Period>,
    capture: impl Fn(&Network) -> Compute,
) -> (u64, u64) {
    reset_peak();
    let before = status_kib("VmRSS:");
    let mut snapshot = net.inputs_snapshot(period);
    if let Some(period) = period {
        snapshot.unshare_period(period);
    }
    let partners = net.genealogy.len();
    for _ in 0..writes {
        *written += 1;
        let order = OrderRequest {
            order_id: format!("job-memory-{written}"),
            partner_id: (1 + *written * 7919 % partners).to_string(),
            period: PERIOD.to_owned(),
            volume: "1.00".to_owned(),
            kind: OrderKind::SelfPurchase,
            book_into_period: None,
        };
        net.record_order(&order).expect("an order");
    }
    let compute = capture(&snapshot);
    drop(snapshot);
    let kept = compute();
    let (peak, after) = (status_kib("VmHWM:"), status_kib("VmRSS:"));
    drop(kept);
    (peak.saturating_sub(before) * 1024, after.saturating_sub(before) * 1024)
}

fn report(job: &str, writes: usize, (peak, kept): (u64, u64), estimate: JobMemory) {
    println!(
        "{job}, {writes} writes during the capture: peak {} (estimate {}), kept {} (estimate {})",
        mib(peak),
        mib(estimate.peak_bytes),
        mib(kept),
        mib(estimate.kept_bytes)
    );
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// Resets VmHWM to the current RSS (Linux: "5" to clear_refs).
fn reset_peak() {
    if let Err(err) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("cannot reset the peak RSS: {err}");
    }
}

/// A `kB` line of /proc/self/status.
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(key)).expect("the line");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number")
}
