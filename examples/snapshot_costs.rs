//! Measures what copy-on-write snapshots cost (issue #16): the snapshot
//! itself, the memory of one no write touched, the first write to a shared
//! chunk, and RecordOrder in the engine with and without a snapshot alive.
//!
//! `cargo run --release --example snapshot_costs -- [partners] [orders]`
//! (defaults 1,000,000 and 20,000), or `-- columns [rows]` for the clone of
//! 40 columns alone (default 10,000,000 rows). A measurement, not a test: it asserts
//! nothing and prints one line per figure.

use downline::engine::cow_column::CowColumn;
use downline::engine::{Network, OrderKind, OrderRequest, Period, SnapshotMemory, VolumePlan};
use std::time::{Duration, Instant};

const PERIOD: &str = "2026-11";

fn main() {
    if std::env::args().nth(1).as_deref() == Some("columns") {
        let rows = std::env::args().nth(2).map_or(10_000_000, |a| a.parse().expect("a number"));
        return clone_columns(rows);
    }
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let partners = args.next().unwrap_or(1_000_000);
    let orders = args.next().unwrap_or(20_000);
    let started = Instant::now();
    let mut net = Network::new(Default::default(), VolumePlan::default());
    net.import(&downline::synth::partners(partners, 7)).expect("synthetic partners import");
    for order in downline::synth::orders(partners, 7, PERIOD) {
        net.record_order(&order).expect("synthetic orders record");
    }
    println!("network: {partners} partners built in {:.1} s", started.elapsed().as_secs_f64());
    report_memory("the network", &net);

    time_clones("snapshot", || net.snapshot());

    let batch = |from: usize| -> Vec<OrderRequest> {
        (0..orders)
            .map(|i| OrderRequest {
                order_id: format!("bench-{}", from + i),
                partner_id: (1 + (from + i) * 7919 % partners).to_string(),
                period: PERIOD.to_owned(),
                volume: "12.34".to_owned(),
                kind: OrderKind::SelfPurchase,
                book_into_period: None,
            })
            .collect()
    };
    // Thread CPU time, not wall time: the machine is shared.
    let per_order = |net: &mut Network, batch: &[OrderRequest]| {
        let started = cpu_time::ThreadTime::now();
        for order in batch {
            net.record_order(order).expect("bench order");
        }
        started.elapsed() / batch.len() as u32
    };
    // Warm up, then measure alone and with a snapshot alive (whose shared
    // chunks the first writes copy).
    per_order(&mut net, &batch(0));
    println!("record_order, no snapshot: {:?} per order ({orders} orders)", per_order(&mut net, &batch(orders)));
    let snapshot = net.snapshot();
    // Each order of the first ones after a snapshot, alone: the copies of
    // the shared chunks its upline walk touches are its latency.
    let mut each: Vec<Duration> = batch(2 * orders)
        .iter()
        .map(|order| {
            let started = cpu_time::ThreadTime::now();
            net.record_order(order).expect("bench order");
            started.elapsed()
        })
        .collect();
    println!("record_order, first after a snapshot: {:?}", each[0]);
    let total: Duration = each.iter().sum();
    each.sort_unstable();
    let at = |q: f64| each[((each.len() - 1) as f64 * q) as usize];
    println!(
        "record_order, the {orders} after a snapshot: mean {:?}, p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        total / orders as u32,
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0)
    );
    println!("record_order, snapshot alive, chunks copied: {:?} per order", per_order(&mut net, &batch(3 * orders)));
    report_memory("the snapshot after the writes", &snapshot);
    report_memory("the network after the writes", &net);
    drop(snapshot);
    let untouched = net.snapshot();
    report_memory("an untouched snapshot", &untouched);
    capture_costs(&untouched);
}

/// A recalculation's capture on a snapshot, with and without its memory
/// faulted in first (both with no lock held now).
fn capture_costs(net: &Network) {
    let period = Period::parse("period", PERIOD).expect("period");
    let started = Instant::now();
    drop(net.recalc_snapshot(period).expect("capture"));
    println!("recalc capture, memory faulted in as it goes: {:?}", started.elapsed());
    let started = Instant::now();
    let partners = net.recalc_memory_size(period).expect("size");
    let memory = SnapshotMemory::prefaulted(partners);
    let faulted = started.elapsed();
    drop(net.recalc_snapshot_with(period, memory).expect("capture"));
    println!("recalc capture, memory faulted in first: {:?} (of which faulting {faulted:?})", started.elapsed());
}

/// The network's memory: what it holds alone and shares with snapshots.
fn report_memory(what: &str, net: &Network) {
    let bytes = net.bytes();
    let mib = |b: usize| b as f64 / f64::from(1 << 20);
    println!("memory of {what}: {:.2} MiB alone, {:.1} MiB shared", mib(bytes.owned_bytes), mib(bytes.shared_bytes));
}

/// What a snapshot of a network of `rows` partners costs without building
/// one (10M takes many minutes here): cloning 40 columns of `rows` rows,
/// more than `Network` has with one open period (about 30).
fn clone_columns(rows: usize) {
    let columns: Vec<CowColumn<u32>> = (0..40)
        .map(|_| {
            let mut column = CowColumn::default();
            column.resize(rows, 0);
            column
        })
        .collect();
    time_clones(&format!("40 columns of {rows} rows, clone"), || columns.clone());
}

/// Times five clones (each dropped after it is timed) and prints the
/// median and the max.
fn time_clones<T>(what: &str, mut clone: impl FnMut() -> T) {
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let copy = clone();
            let took = started.elapsed();
            drop(copy);
            took
        })
        .collect();
    times.sort_unstable();
    println!("{what}: median {:?}, max {:?} (5 runs)", times[2], times[4]);
}
