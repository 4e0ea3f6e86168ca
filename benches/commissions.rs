//! Benchmarks of a commission run (ranks, commissions, statements' totals)
//! on a synthetic network of 1,000,000 partners and ~1,050,000 orders (the
//! shape of gen_network.py, reference plan): the snapshot under the lock,
//! the run itself, building one statement, and a what-if simulation
//! (SimulatePlan, #18: both runs captured, run and compared).
//!
//! `cargo bench --bench commissions`; `DOWNLINE_BENCH_PARTNERS=10000000`
//! for the 10M figures (needs ~10 GiB and a few minutes of set-up).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use downline::engine::RunProgress;
use downline::engine::{Network, Period, VolumePlan};
use downline::synth;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PERIOD: &str = "2026-11";

fn network() -> Network {
    let started = Instant::now();
    let n = std::env::var("DOWNLINE_BENCH_PARTNERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut net = Network::new(Default::default(), VolumePlan::default());
    net.import(&synth::partners(n, 7)).expect("a valid network");
    for order in synth::orders(n, 7, PERIOD) {
        net.admit_order(&order).expect("a valid order");
    }
    net.relevel(downline::engine::Period::parse("period", PERIOD).expect("a period"));
    eprintln!("network: {n} partners, {} orders, built in {:.1} s", net.orders.len(), started.elapsed().as_secs_f64());
    net
}

fn bench_run(c: &mut Criterion) {
    let net = network();
    let mut group = c.benchmark_group("commission run");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("snapshot (under the read lock)", |b| {
        b.iter(|| black_box(net.commission_snapshot(PERIOD).expect("a snapshot")))
    });
    group.bench_function("run, all threads", |b| {
        b.iter_batched(
            || net.commission_snapshot(PERIOD).expect("a snapshot"),
            |snapshot| black_box(snapshot.run(&RunProgress::default())),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("snapshot and run, all threads", |b| {
        b.iter(|| black_box(net.commission_snapshot(PERIOD).expect("a snapshot").run(&RunProgress::default())))
    });
    let result = net.commission_snapshot(PERIOD).expect("a snapshot").run(&RunProgress::default());
    eprintln!(
        "payable total {} cents, breakage {} scaled, per rank {:?}",
        result.totals.payable_cents, result.totals.breakage_scaled, result.totals.per_rank
    );
    group.bench_function("one statement", |b| b.iter(|| black_box(result.figures_at(black_box(12_345)))));
    group.finish();
    bench_simulation(c, &net);
}

/// SimulatePlan's work (#18) as its job does it off the lock: both captures
/// (the plan in force and a candidate with level 1 at 6 % instead of 5 %),
/// both runs and the comparison with its order by difference.
fn bench_simulation(c: &mut Criterion, net: &Network) {
    let period = Period::parse("period", PERIOD).expect("a period");
    let mut draft = net.current_plan().to_draft();
    draft.level_rates[0] = "0.06".into();
    let candidate = Arc::new(net.validate_candidate(&draft).expect("a valid candidate"));
    let mut group = c.benchmark_group("simulation");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("capture, both runs and compare, all threads", |b| {
        b.iter(|| {
            let inputs = net.simulation_inputs(period, Arc::clone(&candidate)).expect("inputs");
            black_box(inputs.run(&RunProgress::default(), 10).expect("never cancelled"))
        })
    });
    let inputs = net.simulation_inputs(period, candidate).expect("inputs");
    let comparison = inputs.run(&RunProgress::default(), 10).expect("never cancelled");
    eprintln!(
        "simulation: payable {} -> {} cents, {} winners, {} losers, {} unchanged",
        comparison.baseline.payable_cents,
        comparison.candidate.payable_cents,
        comparison.winners,
        comparison.losers,
        comparison.unchanged
    );
    group.finish();
}

criterion_group!(benches, bench_run);
criterion_main!(benches);
