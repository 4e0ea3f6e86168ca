//! Benchmarks of GetTeamProgress (engine part) on a synthetic network of
//! 1,000,000 partners (the shape of gen_network.py) plus a bushy team of
//! 100,000 partners within 7 levels, ~1.05M orders of one period, 20
//! training modules and ~1M completions.
//!
//! Measured: a partner whose downline is closest to 100,000 (the synthetic
//! shape: a third of it within the plan's 7 levels), the bushy team's
//! leader (all 100,000 within 7 levels: the most a 100,000 downline can
//! cost), and the root (everything). Criterion gives the typical time; a
//! plain loop then prints p50/p99/max over 1,000 calls with warm caches and
//! over 200 calls after evicting the caches (64 MiB written between calls),
//! because a server's caches are shared with everything else it does; each
//! as wall time and as the thread's CPU time (which leaves out waiting for
//! a core on a shared machine).
//!
//! Then the rebuild of the team layout GetTeamProgress reads (its cost
//! under the write lock when it becomes stale), and the bushy team alone,
//! laid out afresh and after 3,000 moves inside it (partners read live).
//!
//! `cargo bench --bench team` (about a minute of set-up).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use downline::engine::TeamLayout;
use downline::engine::{Date, Network, NewPartner, PartnerIx, TrainingModule, VolumePlan};
use downline::synth;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PERIOD: &str = "2026-11";
const PARTNERS: usize = 1_000_000;
const TEAM: u32 = 100_000;
const MODULES: usize = 20;

/// The network and the three partners measured.
struct Setup {
    net: Network,
    typical: String,
    bushy: String,
}

/// Synthetic rows, with a 6-ary team of [`TEAM`] partners under "T0"
/// interleaved (every tenth row), so its partners are spread through the
/// arena as a real team is.
fn rows() -> Vec<NewPartner> {
    let day = Date::from_ymd(2026, 1, 1).expect("a day");
    let team = (0..TEAM).map(|i| NewPartner {
        partner_id: format!("T{i}"),
        sponsor_id: if i == 0 { "1".into() } else { format!("T{}", (i - 1) / 6) },
        joined_on: day,
        display_name: String::new(),
    });
    let mut team = team.collect::<Vec<_>>().into_iter();
    let mut all = Vec::with_capacity(PARTNERS + TEAM as usize);
    for (i, row) in synth::partners(PARTNERS, 7).into_iter().enumerate() {
        all.push(row);
        if i % 10 == 9 {
            all.extend(team.next());
        }
    }
    all.extend(team);
    all
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let started = Instant::now();
        let mut net = Network::new(Default::default(), VolumePlan::default());
        net.import(&rows()).expect("a valid network");
        for order in synth::orders(PARTNERS, 7, PERIOD) {
            net.record_order(&order).expect("a valid order");
        }
        for m in 0..MODULES {
            let module = TrainingModule::parse(&format!("m{m}"), "Module", "https://learn.example/m", "").expect("ok");
            net.create_module(module).expect("a module");
        }
        // 30 % of partners completed 1 to 5 modules, from their joining day on.
        let mut rng = StdRng::seed_from_u64(5);
        let today = Date::from_ymd(2026, 11, 30).expect("a day");
        let g_len = net.genealogy.len() as u32;
        let mut completions = 0;
        for x in (0..g_len).map(PartnerIx::new) {
            if !rng.gen_bool(0.3) {
                continue;
            }
            let joined = net.genealogy.joined_on_of(x).days();
            let id = net.genealogy.id(x).to_owned();
            for _ in 0..rng.gen_range(1..=5) {
                let day = Date::from_days(rng.gen_range(joined..=today.days()));
                let module = format!("m{}", rng.gen_range(0..MODULES));
                if net.record_completion(&id, &module, &day.to_string(), today).is_ok() {
                    completions += 1;
                }
            }
        }
        assert!(net.team_layout_is_in_step(), "the import laid the network out; every write since reached it");
        let g = &net.genealogy;
        let typical = (1..g_len)
            .map(PartnerIx::new)
            .filter(|&x| !g.id(x).starts_with('T'))
            .min_by_key(|&x| g.downline_count_of(x).abs_diff(TEAM))
            .expect("a partner");
        let within = |id: &str| net.team_progress(id, PERIOD, 0).expect("progress").totals.partners;
        let typical = g.id(typical).to_owned();
        eprintln!(
            "network: {} partners, {} orders, {completions} completions, built in {:.1} s; \
             '{typical}': downline {}, {} within 7 levels; 'T0': downline {}, {} within 7 levels",
            g.len(),
            net.orders.len(),
            started.elapsed().as_secs_f64(),
            g.downline_count_of(g.find(&typical).expect("typical")),
            within(&typical),
            g.downline_count_of(g.find("T0").expect("T0")),
            within("T0"),
        );
        Setup { net, typical, bushy: "T0".into() }
    })
}

/// The CPU time this thread has used: unlike wall time, it leaves out the
/// time the thread waited for a core (the machine is shared). Zero where
/// the platform cannot tell (the wall times still stand).
fn thread_cpu_time() -> Duration {
    cpu_time::ThreadTime::try_now().map_or(Duration::ZERO, |t| t.as_duration())
}

/// p50 / p99 / max of `runs` calls, each after `before`: wall time, then
/// the thread's CPU time.
fn percentiles(runs: usize, mut before: impl FnMut(), mut call: impl FnMut()) -> [[Duration; 3]; 2] {
    let (mut wall, mut cpu): (Vec<Duration>, Vec<Duration>) = (0..runs)
        .map(|_| {
            before();
            let (started, cpu_started) = (Instant::now(), thread_cpu_time());
            call();
            (started.elapsed(), thread_cpu_time() - cpu_started)
        })
        .unzip();
    let pick = |times: &mut Vec<Duration>| {
        times.sort_unstable();
        [times[runs / 2], times[runs * 99 / 100], times[runs - 1]]
    };
    [pick(&mut wall), pick(&mut cpu)]
}

fn bench_team_progress(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("team_progress");
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    for (name, id) in [("100k downline, synthetic shape", &s.typical), ("100k within 7 levels", &s.bushy)] {
        group.bench_function(name, |b| b.iter(|| black_box(s.net.team_progress(id, PERIOD, 0).unwrap())));
    }
    group.sample_size(10);
    group.bench_function("the root of 1.1M", |b| b.iter(|| black_box(s.net.team_progress("1", PERIOD, 0).unwrap())));
    group.finish();

    let mut evict = vec![0u8; 64 << 20];
    let mut round = 0u8;
    for (name, id) in [("synthetic shape", &s.typical), ("within 7 levels", &s.bushy)] {
        let call = || drop(black_box(s.net.team_progress(id, PERIOD, 0).unwrap()));
        let warm = percentiles(1000, || {}, call);
        let cold = percentiles(
            200,
            || {
                round = round.wrapping_add(1);
                evict.iter_mut().step_by(64).for_each(|b| *b = round);
            },
            call,
        );
        eprintln!("team_progress {name}, p50/p99/max: warm wall {:?} cpu {:?}", warm[0], warm[1]);
        eprintln!("team_progress {name}, p50/p99/max: after evicting the caches, wall {:?} cpu {:?}", cold[0], cold[1]);
    }
}

/// Laying the whole network out again: what the write that finds the
/// layout stale waits for (and start-up pays once).
fn bench_layout_rebuild(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("team_layout");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("rebuild, 1.1M partners", |b| {
        b.iter(|| black_box(TeamLayout::build(&s.net.genealogy, 0, &s.net.team.training)))
    });
    group.finish();
}

/// The bushy team alone (100,000 partners within 7 levels under "T0", 30 %
/// with completions), laid out afresh and then after moves inside it:
/// what a team whose sponsors changed since the last rebuild costs. Each
/// move takes a leaf of level 7 to another sponsor of level 6, relinking
/// both sponsors; 3,000 moves relink just under the 6,250 (1/16) that make
/// a write rebuild the layout, the most a query can meet.
fn bench_changed_team(c: &mut Criterion) {
    let day = Date::from_ymd(2026, 1, 1).expect("a day");
    let rows: Vec<NewPartner> = (0..TEAM)
        .map(|i| NewPartner {
            partner_id: format!("T{i}"),
            sponsor_id: if i == 0 { String::new() } else { format!("T{}", (i - 1) / 6) },
            joined_on: day,
            display_name: String::new(),
        })
        .collect();
    let mut net = Network::new(Default::default(), VolumePlan::default());
    net.import(&rows).expect("a valid team");
    for m in 0..MODULES {
        let module = TrainingModule::parse(&format!("m{m}"), "Module", "https://learn.example/m", "").expect("ok");
        net.create_module(module).expect("a module");
    }
    let (mut rng, today) = (StdRng::seed_from_u64(9), Date::from_ymd(2026, 11, 30).expect("a day"));
    for i in 0..TEAM {
        if !rng.gen_bool(0.3) {
            continue;
        }
        for _ in 0..rng.gen_range(1..=5) {
            let module = format!("m{}", rng.gen_range(0..MODULES));
            let _ = net.record_completion(&format!("T{i}"), &module, "2026-06-01", today);
        }
    }
    let mut group = c.benchmark_group("team_progress_changed");
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    group.bench_function("bushy team, layout fresh", |b| {
        b.iter(|| black_box(net.team_progress("T0", PERIOD, 0).unwrap()))
    });
    // Leaves of level 7: T55987..; sponsors of level 6: T9331..=T55986.
    let (first_leaf, first_six, sixes) = (55_987u32, 9_331u32, 46_656u32);
    for k in 0..3_000u32 {
        let leaf = format!("T{}", first_leaf + k * 7);
        let sponsor = format!("T{}", first_six + (k * 7_919) % sixes);
        net.move_partner(&leaf, &sponsor, Default::default()).expect("a leaf moves to another sponsor");
    }
    let (_, relinked, _) = net.team_layout().counts(&net.genealogy);
    eprintln!("after 3,000 moves: {relinked} relinked partners, layout in step: {}", net.team_layout_is_in_step());
    group.bench_function("bushy team, 3,000 moves inside it since the layout was built", |b| {
        b.iter(|| black_box(net.team_progress("T0", PERIOD, 0).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench_team_progress, bench_layout_rebuild, bench_changed_team);
criterion_main!(benches);
