//! Benchmarks of the genealogy engine and of the store's durable single
//! write, on synthetic networks shaped like `/work/shared/datasets/gen_network.py`
//! (preferential attachment plus recency, fixed seed).
//!
//! `cargo bench --bench genealogy` runs everything in a few minutes;
//! `cargo bench --bench genealogy -- view` runs the benches whose name
//! contains `view`. The generated network's shape is printed once to stderr,
//! to compare with the Python generator's summary line.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use downline::engine::DownlineCursor;
use downline::engine::{Audit, Date, Genealogy, NewPartner, PartnerIx};
use downline::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cell::OnceCell;
use std::time::{Duration, Instant};

/// The seed of every generated network and random choice.
const SEED: u64 = 7;
/// The bigger network.
const MILLION: usize = 1_000_000;
/// Random partners picked ahead of time for the read benches.
const PICKS: usize = 4096;
/// The most sponsors one GetUpline returns (the service's cap).
const MAX_UPLINE: usize = 10_000;

/// The rows of a network of `n` partners with ids "1".."n", each sponsor
/// before its recruits, built like gen_network.py: with probability
/// `recency` (0.5) the sponsor is one of the last `window` (1000)
/// recruiters, else a draw from an urn holding every recruiter once plus
/// once per recruit (preferential attachment); 30 % of partners recruit.
fn network(n: usize, seed: u64) -> Vec<NewPartner> {
    let (recency, window, recruiters) = (0.5, 1000, 0.3);
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Date::parse("2021-11-01").expect("a date").days();
    let span = Date::parse("2026-11-01").expect("a date").days() - start;
    let mut urn: Vec<u32> = vec![1];
    let mut recent: Vec<u32> = vec![1];
    let mut rows = Vec::with_capacity(n);
    rows.push(new_partner("1".into(), String::new(), Date::from_days(start)));
    for i in 2..=n as u32 {
        let sponsor = if rng.gen::<f64>() < recency {
            recent[rng.gen_range(recent.len().saturating_sub(window)..recent.len())]
        } else {
            urn[rng.gen_range(0..urn.len())]
        };
        urn.push(sponsor);
        if rng.gen::<f64>() < recruiters {
            urn.push(i);
            recent.push(i);
        }
        let joined = Date::from_days(start + (i64::from(i) * i64::from(span) / n as i64) as i32);
        rows.push(new_partner(i.to_string(), sponsor.to_string(), joined));
    }
    rows
}

fn new_partner(partner_id: String, sponsor_id: String, joined_on: Date) -> NewPartner {
    NewPartner { partner_id, sponsor_id, joined_on, display_name: String::new() }
}

fn audit() -> Audit {
    Audit { actor: "bench".into(), reason: String::new(), at_unix_ms: 0 }
}

/// A genealogy holding `rows`.
fn imported(rows: &[NewPartner]) -> Genealogy {
    let mut g = Genealogy::new();
    g.import(rows).expect("a valid network");
    g
}

/// Prints the shape of a network the way gen_network.py does.
fn describe(g: &Genealogy) {
    let n = g.len() as u32;
    let (mut max_depth, mut depth_sum, mut max_recruits, mut leaves) = (0, 0u64, 0u32, 0u32);
    for ix in (0..n).map(PartnerIx::new) {
        max_depth = max_depth.max(g.depth_of(ix));
        depth_sum += u64::from(g.depth_of(ix));
        let mut recruits = 0;
        let mut child = g.first_child_of(ix);
        while !child.is_none() {
            recruits += 1;
            child = g.next_sibling_of(child);
        }
        max_recruits = max_recruits.max(recruits);
        leaves += u32::from(recruits == 0);
    }
    eprintln!(
        "network: partners={n} max_depth={max_depth} mean_depth={:.1} max_recruits={max_recruits} leaves={:.0}% heap≈{} MiB",
        depth_sum as f64 / f64::from(n),
        f64::from(leaves) * 100.0 / f64::from(n),
        g.heap_bytes() >> 20
    );
}

/// `Genealogy::import` of whole networks into an empty genealogy.
fn bench_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for (n, seconds) in [(100_000, 8), (MILLION, 28)] {
        let rows = OnceCell::new();
        group.throughput(Throughput::Elements(n as u64)).measurement_time(Duration::from_secs(seconds));
        group.bench_function(format!("{n}"), |b| {
            let rows = rows.get_or_init(|| network(n, SEED));
            b.iter_batched(Genealogy::new, |mut g| g.import(rows).map(|_| g), BatchSize::PerIteration)
        });
    }
    group.finish();
}

/// What the read benches share, built on first use so that a filtered
/// run (`-- store`) does not pay for it.
struct ReadFixture {
    g: Genealogy,
    /// Random existing ids.
    ids: Vec<String>,
    /// Random partners with at least 100 partners below them.
    big: Vec<PartnerIx>,
    /// The cursor of the root's 1001st page of 100.
    deep: DownlineCursor,
}

impl ReadFixture {
    fn new() -> ReadFixture {
        let rows = network(MILLION, SEED);
        let g = imported(&rows);
        describe(&g);
        let mut rng = StdRng::seed_from_u64(SEED);
        let ids = (0..PICKS).map(|_| rows[rng.gen_range(0..rows.len())].partner_id.clone()).collect();
        let with_downline: Vec<PartnerIx> =
            (0..g.len() as u32).map(PartnerIx::new).filter(|&ix| g.downline_count_of(ix) >= 100).collect();
        let big = (0..PICKS).map(|_| with_downline[rng.gen_range(0..with_downline.len())]).collect();
        let deep = (0..1000)
            .try_fold(None, |cursor, _| g.downline_page(PartnerIx::new(0), 0, cursor, 100).next.map(Some))
            .flatten()
            .expect("the root has more than 100,000 below");
        ReadFixture { g, ids, big, deep }
    }
}

/// Reads of a 1M network: GetPartner, GetUpline and ListDownline equivalents.
fn bench_reads(c: &mut Criterion) {
    let fixture = OnceCell::new();
    let f = || fixture.get_or_init(ReadFixture::new);
    let mut group = c.benchmark_group("read_1m");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let mut k = 0usize;
    let mut next = move || {
        k = (k + 1) % PICKS;
        k
    };
    group.bench_function("view (lookup + view)", |b| {
        let ReadFixture { g, ids, .. } = f();
        b.iter(|| g.view(g.lookup("partner_id", &ids[next()]).expect("exists")))
    });
    group.bench_function("upline (indices)", |b| {
        let ReadFixture { g, ids, .. } = f();
        b.iter(|| g.upline(g.lookup_live("partner_id", &ids[next()]).expect("live"), MAX_UPLINE))
    });
    group.bench_function("upline + views", |b| {
        let ReadFixture { g, ids, .. } = f();
        b.iter(|| {
            let ix = g.lookup_live("partner_id", &ids[next()]).expect("live");
            g.upline(ix, MAX_UPLINE).into_iter().map(|s| g.view(s)).collect::<Vec<_>>()
        })
    });
    group.bench_function("downline_page 100 (random partner)", |b| {
        let ReadFixture { g, ids, .. } = f();
        b.iter(|| g.downline_page(g.lookup_live("partner_id", &ids[next()]).expect("live"), 0, None, 100))
    });
    group.bench_function("downline_page 100 (random partner with >= 100 below)", |b| {
        let ReadFixture { g, big, .. } = f();
        b.iter(|| g.downline_page(big[next()], 0, None, 100))
    });
    group.bench_function("downline_page 100 + views (root)", |b| {
        let g = &f().g;
        b.iter(|| {
            let page = g.downline_page(PartnerIx::new(0), 0, None, 100);
            page.members.iter().map(|&(ix, _)| g.view(ix)).collect::<Vec<_>>()
        })
    });
    group.bench_function("downline_page 100 (root, page 1001)", |b| {
        let ReadFixture { g, deep, .. } = f();
        b.iter(|| g.downline_page(PartnerIx::new(0), 0, Some(black_box(*deep)), 100))
    });
    group.finish();
}

/// Writes into a 1M network: creations one at a time and moves of small subtrees.
fn bench_writes(c: &mut Criterion) {
    let rows = OnceCell::new();
    let rows = || rows.get_or_init(|| network(MILLION, SEED));
    let mut group = c.benchmark_group("write_1m");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let mut rng = StdRng::seed_from_u64(SEED);
    let joined = Date::parse("2026-11-28").expect("a date");
    let (mut created, mut grown) = (0u64, None);
    group.bench_function("create_partner", |b| {
        let rows = rows();
        let g = grown.get_or_insert_with(|| imported(rows));
        b.iter_batched(
            || {
                created += 1;
                let sponsor = rows[rng.gen_range(0..rows.len())].partner_id.clone();
                (new_partner(format!("new-{created}"), sponsor, joined), audit())
            },
            |(new, audit)| g.create_partner(&new, audit).expect("created"),
            BatchSize::SmallInput,
        );
    });
    if let Some(g) = grown.take() {
        eprintln!("create_partner: {created} partners created; the network grew to {} partners", g.len());
    }
    let (mut moves, mut moved_total, mut moving) = (0u64, 0u64, None);
    group.bench_function("move_partner (subtree of 2..=101)", |b| {
        let (g, small) = moving.get_or_insert_with(|| {
            let g = imported(rows());
            let small: Vec<PartnerIx> = (1..g.len() as u32)
                .map(PartnerIx::new)
                .filter(|&ix| (1..=100).contains(&g.downline_count_of(ix)))
                .collect();
            (g, small)
        });
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let (partner, sponsor) = loop {
                    let p = small[rng.gen_range(0..small.len())];
                    let s = PartnerIx::new(rng.gen_range(0..g.len() as u32));
                    if !g.is_self_or_ancestor(p, s) && g.sponsor_of(p) != s {
                        break (g.id(p).to_owned(), g.id(s).to_owned());
                    }
                };
                let audit = audit();
                let started = Instant::now();
                let outcome = g.move_partner(&partner, &sponsor, audit);
                spent += started.elapsed();
                let ix = outcome.expect("a valid move").ix;
                moved_total += u64::from(g.downline_count_of(ix)) + 1;
                moves += 1;
            }
            spent
        });
    });
    if moves > 0 {
        eprintln!("move_partner: {moves} moves, {:.1} partners per moved subtree", moved_total as f64 / moves as f64);
    }
    group.finish();
}

/// The store's durable single write: one creation staged (one sled batch)
/// and flushed (fsync), into a fresh data directory in a temp dir.
fn bench_store(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (store, mut network) = Store::open(dir.path()).expect("a fresh store");
    let joined = Date::parse("2026-11-28").expect("a date");
    let root =
        network.genealogy.create_partner(&new_partner("r".into(), String::new(), joined), audit()).expect("a root");
    store.stage(&root.change.expect("created"), &network).expect("staged");
    store.flush().expect("flushed");
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut created = 0u32;
    let mut create = |g: &mut Genealogy| {
        created += 1;
        let sponsor = g.id(PartnerIx::new(rng.gen_range(0..g.len() as u32))).to_owned();
        let new = new_partner(format!("s{created}"), sponsor, joined);
        g.create_partner(&new, audit()).expect("created").change.expect("a change")
    };
    let mut group = c.benchmark_group("store");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.bench_function("create + stage (no flush)", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                let change = create(&mut network.genealogy);
                store.stage(&change, &network).expect("staged");
            }
            let spent = started.elapsed();
            store.flush().expect("flushed");
            spent
        })
    });
    group.bench_function("create + stage + flush (durable single write)", |b| {
        b.iter(|| {
            let change = create(&mut network.genealogy);
            store.stage(&change, &network).expect("staged");
            store.flush().expect("flushed");
        })
    });
    group.finish();
    eprintln!("store: {} partners written to {}", network.genealogy.len(), dir.path().display());
}

criterion_group!(benches, bench_import, bench_reads, bench_writes, bench_store);
criterion_main!(benches);
