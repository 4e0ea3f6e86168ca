//! Benchmarks of volumes on a synthetic network of 1,000,000 partners and
//! ~1,050,000 orders (the shape of gen_network.py): the from-scratch rollup
//! (the order scan; the snapshot with and without the memory of its copy
//! faulted in first; the parallel compute, 1 thread and all threads), the
//! incremental upkeep of one order (volumes and live ranks), the live
//! queries (GetVolumes, rank progress), and ranking a period from scratch
//! after a change of the plan's ranks.
//!
//! `cargo bench --bench volumes`; `DOWNLINE_BENCH_PARTNERS=10000000` for the
//! 10M figures (needs ~8 GiB and a few minutes of set-up).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use downline::engine::personal_volumes;
use downline::engine::{Network, OrderKind, OrderRequest, Period, PlanDraft, SnapshotMemory, VolumePlan};
use downline::synth;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PERIOD: &str = "2026-11";

fn partners() -> usize {
    std::env::var("DOWNLINE_BENCH_PARTNERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

/// The network, built once for all benches.
fn network() -> &'static parking_lot::RwLock<Network> {
    static NETWORK: OnceLock<parking_lot::RwLock<Network>> = OnceLock::new();
    NETWORK.get_or_init(|| {
        let started = Instant::now();
        let n = partners();
        let mut net = Network::new(Default::default(), VolumePlan::default());
        net.import(&synth::partners(n, 7)).expect("a valid network");
        for order in synth::orders(n, 7, PERIOD) {
            net.record_order(&order).expect("a valid order");
        }
        eprintln!(
            "network: {n} partners, {} orders, built in {:.1} s",
            net.orders.len(),
            started.elapsed().as_secs_f64()
        );
        let ranks = net.live_ranks(Period::parse("period", PERIOD).expect("a period")).expect("an open period");
        let mut by_code = [0usize; 17];
        ranks.codes().iter().for_each(|&[rank, _]| by_code[usize::from(rank)] += 1);
        eprintln!(
            "live ranks: {} bytes per partner ({} ranks); partners by rank code {:?}",
            ranks.heap_bytes() as f64 / n as f64,
            ranks.plan().ranks.len(),
            &by_code[..=ranks.plan().ranks.len()]
        );
        parking_lot::RwLock::new(net)
    })
}

fn bench_rollup(c: &mut Criterion) {
    let net = network().read();
    let period = Period::parse("period", PERIOD).expect("a period");
    let mut group = c.benchmark_group("rollup");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("snapshot (under the lock)", |b| b.iter(|| black_box(net.recalc_snapshot(period).unwrap())));
    // What every job after the first does while the structure stays the same.
    let kept = net.recalc_snapshot(period).expect("an open period").layout();
    group.bench_function("snapshot, the breadth-first layout kept from the last one", |b| {
        b.iter(|| {
            let memory = SnapshotMemory::keeping(Some(std::sync::Arc::clone(&kept)));
            black_box(net.recalc_snapshot_with(period, memory).unwrap())
        })
    });
    // What the server does: the snapshot's memory is faulted in before the lock,
    // so only the snapshot itself is timed.
    let partners = net.recalc_memory_size(period).expect("an open period");
    group.bench_function("snapshot (under the lock), its memory faulted in before", |b| {
        b.iter_batched(
            || SnapshotMemory::prefaulted(partners),
            |memory| black_box(net.recalc_snapshot_with(period, memory).unwrap()),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("fault in the snapshot's memory (before the lock)", |b| {
        b.iter(|| black_box(SnapshotMemory::prefaulted(partners)))
    });
    group.bench_function("personal volumes (the order scan of the snapshot)", |b| {
        b.iter(|| black_box(personal_volumes(&net.genealogy, &net.orders, period)))
    });
    let snapshot = net.recalc_snapshot(period).expect("an open period");
    group.bench_function("recompute and compare, all threads", |b| {
        b.iter(|| {
            let report = snapshot.run(&AtomicU64::new(0));
            assert_eq!(report.differences, 0);
        })
    });
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");
    group.bench_function("recompute and compare, 1 thread", |b| {
        b.iter(|| one.install(|| snapshot.run(&AtomicU64::new(0))))
    });
    group.finish();
}

fn bench_live(c: &mut Criterion) {
    let n = partners();
    let mut rng = StdRng::seed_from_u64(11);
    let mut group = c.benchmark_group("live");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    let ids: Vec<String> = (0..4096).map(|_| rng.gen_range(1..=n).to_string()).collect();
    {
        let net = network().read();
        let mut i = 0;
        group.bench_function("GetVolumes of a random partner", |b| {
            b.iter(|| {
                i = (i + 1) % ids.len();
                black_box(net.volumes(&ids[i], PERIOD).unwrap())
            })
        });
        group.bench_function("GetVolumes of the root", |b| b.iter(|| black_box(net.volumes("1", PERIOD).unwrap())));
        group.bench_function("rank progress of a random partner", |b| {
            b.iter(|| {
                i = (i + 1) % ids.len();
                black_box(net.rank_progress(&ids[i], PERIOD).unwrap())
            })
        });
        group.bench_function("rank progress of the root", |b| {
            b.iter(|| black_box(net.rank_progress("1", PERIOD).unwrap()))
        });
    }
    let mut next = 0u64;
    group.bench_function("RecordOrder upkeep (random partner, 12.34 retail)", |b| {
        let mut net = network().write();
        b.iter(|| {
            next += 1;
            let order = OrderRequest {
                order_id: format!("bench-{next}"),
                partner_id: ids[next as usize % ids.len()].clone(),
                period: PERIOD.into(),
                volume: "12.34".into(),
                kind: OrderKind::Retail,
                book_into_period: None,
            };
            black_box(net.record_order(&order).unwrap())
        })
    });
    group.finish();
}

fn bench_rerank(c: &mut Criterion) {
    let mut group = c.benchmark_group("ranks");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    // Two plans that differ only in Gold's min_gv: each update ranks the open period from scratch.
    let mut drafts = [PlanDraft::reference(), PlanDraft::reference()];
    drafts[1].ranks[2].min_gv = "4000".into();
    let mut next = 0;
    group.bench_function("rank a period from scratch after a change of ranks", |b| {
        let mut net = network().write();
        b.iter(|| {
            next += 1;
            net.update_plan(&drafts[next % 2], 0).expect("a valid plan").expect("a new version")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_rollup, bench_live, bench_rerank);
criterion_main!(benches);
