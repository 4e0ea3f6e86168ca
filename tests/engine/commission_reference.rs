//! An independent reference of a commission run, written from domain.md
//! alone (not from the engine's code), and its comparison with the engine
//! partner by partner.
//!
//! The reference is deliberately plain: every figure comes from walking
//! the model's sponsor links upward from each partner; ranks are decided
//! deepest partner first by looking at each leg; money is exact integers
//! in 10⁻¹⁰ (rate ppm × volume units) and the payable amount is rounded
//! half-even from the exact fraction `capped × payout_cap × V / T`.
//!
//! What the tests prove: on generated 10,000-partner networks (hubs with
//! thousands of recruits, a 400-deep leg, returns, fees, another period,
//! suspended, terminated and moved partners) the engine's PV, RV, GV,
//! LV_1..L, activity, paid-as rank, every non-zero statement line and the
//! payable amount of every partner, and every total (partners, V, T, the
//! payout factor, payable, breakage, partners per rank, levels without
//! retail and their listing, volume by kind) equal the reference, for the
//! reference plan, the plan without compression, a plan with a retail
//! rule, and a plan whose partner cap and payout cap both bite (three
//! worlds each); and a run with 9,000 partners on one depth, wider than
//! the engine's rayon tasks, is identical on 1 and on 4 threads.

use crate::commission_world::{random_world, World, PERIOD};
use downline::engine::LineKind;
use downline::engine::*;
use downline::engine::{RunProgress, RunResult, MAX_LISTED_PARTNERS};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// Rate ppm × volume units: 10⁻¹⁰ per scaled unit.
const PER_UNIT: i128 = 1_000_000;
/// Scaled units per cent.
const PER_CENT: i128 = 100_000_000;

/// One partner as the reference computes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefPartner {
    pub pv: i64,
    pub rv: i64,
    pub gv: i64,
    pub levels: Vec<i64>,
    pub active: bool,
    /// 0: no rank; r + 1: `plan.ranks[r]`.
    pub rank: u8,
    /// The non-zero lines, in statement order.
    pub lines: Vec<(LineKind, i128)>,
    pub payable_cents: i64,
    /// Retail plus all L level lines, whatever rank, activity or rule.
    pub unrestricted: i128,
    /// Paid a level line above 0 with RV ≤ 0.
    pub levels_without_retail: bool,
    /// The exact payable amount was exactly half a cent away from two cents.
    pub tie: bool,
}

/// A whole run as the reference computes it (`None` for terminated partners).
pub(crate) struct RefRun {
    pub partners: Vec<Option<RefPartner>>,
    pub v: i128,
    pub t: i128,
    /// (payout_cap × V, T) when T exceeds payout_cap × V.
    pub factor: Option<(i128, i128)>,
    pub payable_cents: i128,
    pub breakage: i128,
    pub per_rank: Vec<u64>,
    /// (retail, self, fee) volume of the period's orders.
    pub kinds: (i128, i128, i128),
}

/// `n / d` rounded half to even (d > 0), and whether it was a tie.
pub(crate) fn round_half_even(n: i128, d: i128) -> (i128, bool) {
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => (q, false),
        std::cmp::Ordering::Greater => (q + 1, false),
        std::cmp::Ordering::Equal => (q + (q & 1), true),
    }
}

/// Whether `p` reaches rank `r` (see domain.md, Ranks).
fn reaches(plan: &Plan, p: usize, r: usize, x: &Facts) -> bool {
    let rank = &plan.ranks[r];
    if !x.active[p] || x.pv[p] < rank.min_pv_units {
        return false;
    }
    let legs = &x.children[p];
    // Qualifying GV, in units × ppm so the leg cap is exact.
    let leg_cap = i128::from(rank.max_leg_share_ppm) * i128::from(rank.min_gv_units);
    let qualifying: i128 = i128::from(x.pv[p]) * PER_UNIT
        + legs.iter().map(|&c| (i128::from(x.gv[c]) * PER_UNIT).min(leg_cap)).sum::<i128>();
    if qualifying < i128::from(rank.min_gv_units) * PER_UNIT {
        return false;
    }
    let holding = match rank.leg_min_rank {
        None => 0,
        Some(need) => legs.iter().filter(|&&c| x.best_in_leg[c] > need as u8).count(),
    };
    holding >= rank.min_legs as usize
}

/// Volumes, activity and ranks of the live partners.
struct Facts {
    pv: Vec<i64>,
    rv: Vec<i64>,
    gv: Vec<i64>,
    levels: Vec<Vec<i64>>,
    active: Vec<bool>,
    rank: Vec<u8>,
    /// The highest rank code of a partner and its whole downline.
    best_in_leg: Vec<u8>,
    /// Direct recruits: the heads of a partner's legs.
    children: Vec<Vec<usize>>,
}

fn facts(w: &World, plan: &Plan) -> Facts {
    let n = w.ids.len();
    let big_l = plan.volume.levels;
    let (mut pv, mut rv) = (vec![0i64; n], vec![0i64; n]);
    for o in w.orders.iter().filter(|o| o.period == PERIOD && w.live(o.partner)) {
        match o.kind {
            OrderKind::Retail => {
                pv[o.partner] += o.units;
                rv[o.partner] += o.units;
            }
            OrderKind::SelfPurchase => pv[o.partner] += o.units,
            OrderKind::Fee => {}
        }
    }
    let active: Vec<bool> =
        (0..n).map(|i| w.status[i] == PartnerStatus::Enrolled && pv[i] >= plan.volume.min_active_pv_units).collect();
    let mut gv = pv.clone();
    let mut levels = vec![vec![0i64; big_l]; n];
    let mut depth = vec![0usize; n];
    // Every live partner d adds its PV to each partner above it, at its
    // (compressed) level below that partner.
    for d in (0..n).filter(|&d| w.live(d)) {
        let (mut node, mut steps, mut active_between) = (w.sponsor[d], 1, 0);
        while let Some(a) = node {
            gv[a] += pv[d];
            let level = if plan.volume.compression { 1 + active_between } else { steps };
            if level <= big_l {
                levels[a][level - 1] += pv[d];
            }
            active_between += usize::from(active[a]);
            steps += 1;
            node = w.sponsor[a];
        }
        depth[d] = steps - 1;
    }
    let mut children = vec![Vec::new(); n];
    (0..n).filter(|&c| w.live(c)).for_each(|c| w.sponsor[c].into_iter().for_each(|s| children[s].push(c)));
    let mut x = Facts { pv, rv, gv, levels, active, rank: vec![0; n], best_in_leg: vec![0; n], children };
    let mut order: Vec<usize> = (0..n).filter(|&i| w.live(i)).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(depth[i]));
    for p in order {
        let rank = (0..plan.ranks.len()).rev().find(|&r| reaches(plan, p, r, &x)).map_or(0, |r| r as u8 + 1);
        x.rank[p] = rank;
        let mut node = Some(p);
        while let Some(a) = node {
            x.best_in_leg[a] = x.best_in_leg[a].max(rank);
            node = w.sponsor[a];
        }
    }
    x
}

/// The run of `PERIOD` under `plan`, from the model alone.
pub(crate) fn reference(w: &World, plan: &Plan) -> RefRun {
    let x = facts(w, plan);
    let n = w.ids.len();
    let live: Vec<usize> = (0..n).filter(|&i| w.live(i)).collect();
    let rate = |k: usize| i128::from(plan.level_rates_ppm[k]);
    let retail_rate = i128::from(plan.retail_rate_ppm);
    let mut partners: Vec<Option<RefPartner>> = vec![None; n];
    let mut capped = vec![0i128; n];
    for &p in &live {
        let (rv, lv) = (i128::from(x.rv[p]), &x.levels[p]);
        let mut me = RefPartner {
            pv: x.pv[p],
            rv: x.rv[p],
            gv: x.gv[p],
            levels: lv.clone(),
            active: x.active[p],
            rank: x.rank[p],
            unrestricted: retail_rate * rv.max(0)
                + (0..lv.len()).map(|k| rate(k) * i128::from(lv[k]).max(0)).sum::<i128>(),
            ..RefPartner::default()
        };
        if me.rank > 0 {
            me.lines.push((LineKind::Retail, retail_rate * rv.max(0)));
            let rule = plan.min_retail_for_levels_units == 0 || x.rv[p] >= plan.min_retail_for_levels_units;
            if rule {
                let paid = plan.ranks[usize::from(me.rank) - 1].paid_levels.min(plan.volume.levels);
                for (k, &volume) in lv.iter().enumerate().take(paid) {
                    let amount = rate(k) * i128::from(volume).max(0);
                    me.lines.push((LineKind::Level(k + 1), amount));
                    me.levels_without_retail |= amount > 0 && x.rv[p] <= 0;
                }
            }
            let gross: i128 = me.lines.iter().map(|l| l.1).sum();
            capped[p] = gross.min(i128::from(plan.partner_cap_units) * PER_UNIT);
            me.lines.push((LineKind::PartnerCap, capped[p] - gross));
        }
        partners[p] = Some(me);
    }
    let v: i128 = live.iter().map(|&p| i128::from(x.pv[p].max(0))).sum();
    let t: i128 = capped.iter().sum();
    let limit = i128::from(plan.payout_cap_ppm) * v;
    let factor = (t > limit).then_some((limit, t));
    let mut payable_cents = 0i128;
    for &p in &live {
        let me = partners[p].as_mut().expect("live");
        let c = capped[p];
        let (exact, (cents, tie)) = match factor {
            Some((num, den)) => {
                let product = c.checked_mul(num).expect("the test's volumes stay within i128");
                (round_half_even(product, den).0, round_half_even(product, den * PER_CENT))
            }
            None => (c, round_half_even(c, PER_CENT)),
        };
        if me.rank > 0 {
            me.lines.push((LineKind::PayoutCap, exact - c));
            me.lines.push((LineKind::Rounding, cents * PER_CENT - exact));
        }
        me.lines.retain(|l| l.1 != 0);
        me.payable_cents = i64::try_from(cents).unwrap();
        me.tie = tie && me.rank > 0;
        payable_cents += cents;
    }
    let mut per_rank = vec![0u64; plan.ranks.len() + 1];
    live.iter().for_each(|&p| per_rank[usize::from(x.rank[p])] += 1);
    let unrestricted: i128 = partners.iter().flatten().map(|p| p.unrestricted).sum();
    let mut kinds = (0, 0, 0);
    for o in w.orders.iter().filter(|o| o.period == PERIOD) {
        let slot = match o.kind {
            OrderKind::Retail => &mut kinds.0,
            OrderKind::SelfPurchase => &mut kinds.1,
            OrderKind::Fee => &mut kinds.2,
        };
        *slot += i128::from(o.units);
    }
    RefRun { partners, v, t, factor, payable_cents, breakage: unrestricted - payable_cents * PER_CENT, per_rank, kinds }
}

/// The engine's run of `PERIOD`.
pub(crate) fn engine_run(w: &World) -> RunResult {
    w.net.commission_snapshot(PERIOD).expect("the period has orders").run(&RunProgress::default())
}

/// Compares the engine's run with the reference, partner by partner and on
/// every total; the first difference is the error.
pub(crate) fn compare(w: &World, got: &RunResult, want: &RefRun) -> Result<(), String> {
    let mut listed = Vec::new();
    let mut live = 0u64;
    for (i, r) in want.partners.iter().enumerate() {
        let x = w.arena(i);
        let Some(r) = r else {
            if got.position_of(x).is_some() {
                return Err(format!("{}: terminated, but in the run", w.ids[i]));
            }
            continue;
        };
        live += 1;
        let pos = got.position_of(x).ok_or_else(|| format!("{}: live, but not in the run", w.ids[i]))?;
        let f = got.figures_at(pos);
        let s = &f.statement;
        let lines: Vec<(LineKind, i128)> =
            s.lines.iter().filter(|l| l.amount_scaled != 0).map(|l| (l.kind, l.amount_scaled)).collect();
        let g = (f.pv_units, f.rv_units, f.gv_units, &f.levels, s.active, s.rank, &lines, s.payable_cents);
        let e = (r.pv, r.rv, r.gv, &r.levels, r.active, r.rank, &r.lines, r.payable_cents);
        if g != e {
            return Err(format!(
                "{}: engine (pv, rv, gv, levels, active, rank, lines, payable) {g:?}, want {e:?}",
                w.ids[i]
            ));
        }
        if r.rank == 0 && !s.lines.is_empty() {
            return Err(format!("{}: no rank, yet lines {:?}", w.ids[i], s.lines));
        }
        if got.payable_at(pos) != r.payable_cents || got.rank_at(pos) != r.rank || got.active_at(pos) != r.active {
            return Err(format!("{}: the run's accessors disagree with its figures", w.ids[i]));
        }
        if r.levels_without_retail {
            listed.push(x);
        }
    }
    let t = &got.totals;
    let without_retail = listed.len() as u64;
    listed.sort_unstable();
    listed.truncate(MAX_LISTED_PARTNERS);
    let factor = t.factor.map(|f| (f.numerator, f.denominator));
    let kinds = (t.kinds.retail_units, t.kinds.self_units, t.kinds.fee_units);
    let g = (t.partners, t.v_units, t.t_scaled, factor, t.payable_cents, t.breakage_scaled, &t.per_rank);
    let e = (live, want.v, want.t, want.factor, want.payable_cents, want.breakage, &want.per_rank);
    if g != e {
        return Err(format!("totals (partners, V, T, factor, payable, breakage, per rank): engine {g:?}, want {e:?}"));
    }
    let g = (t.levels_without_retail, &t.levels_without_retail_listed, kinds);
    let e = (without_retail, &listed, want.kinds);
    if g != e {
        return Err(format!("totals (levels without retail, listed, kinds): engine {g:?}, want {e:?}"));
    }
    Ok(())
}

// ---------------------------------------------------------------- 10,000 partners

const N: usize = 10_000;

/// Seeds of the 10,000-partner worlds: three per plan.
const SEEDS: [u64; 3] = [4, 5, 6];

/// Builds the 10,000-partner world of each seed, installs the reference
/// plan changed by `tweak`, and compares; returns the references for the
/// tests' own checks that what they mean to exercise happened.
fn check_plan(tweak: impl Fn(&mut Plan)) -> Vec<RefRun> {
    SEEDS
        .iter()
        .map(|&seed| {
            let started = Instant::now();
            let mut w = random_world(seed, N);
            let built = started.elapsed();
            let mut plan = Plan::reference();
            tweak(&mut plan);
            w.install(plan);
            let plan = w.net.current_plan().clone();
            let got = engine_run(&w);
            let ran = started.elapsed();
            let want = reference(&w, &plan);
            if let Err(e) = compare(&w, &got, &want) {
                panic!("seed {seed}: {e}");
            }
            let deepest = (0..N).filter(|&i| w.live(i)).map(|i| w.net.genealogy.depth_of(w.arena(i))).max();
            let ties = want.partners.iter().flatten().filter(|p| p.tie).count();
            eprintln!(
                "seed {seed}: built {built:?}, engine {:?}, reference {:?}; per rank {:?}, T/V {:.4}, ties {ties}, depth {deepest:?}",
                ran - built,
                started.elapsed() - ran,
                want.per_rank,
                want.t as f64 / want.v as f64 / 1e6
            );
            want
        })
        .collect()
}

/// The live partners of every run.
fn everyone(runs: &[RefRun]) -> impl Iterator<Item = &RefPartner> {
    runs.iter().flat_map(|r| r.partners.iter().flatten())
}

#[test]
fn reference_plan_on_10_000_partners() {
    let runs = check_plan(|_| {});
    assert!(runs.iter().all(|r| r.per_rank.iter().all(|&n| n > 0)), "every rank is reached");
    assert!(everyone(&runs).any(|p| p.tie), "some payable amount ends on a half cent");
    assert!(everyone(&runs).any(|p| p.levels_without_retail));
}

#[test]
fn a_wide_run_is_the_same_on_1_and_4_threads_and_equals_the_reference() {
    // 9,000 recruits of one root (one depth wider than a rayon task of the
    // rank pass, 4,096, and of the commission passes, 8,192), 3,000 below
    // them; every partner one order of 20 to 300, retail or self.
    let mut rng = StdRng::seed_from_u64(8);
    let mut w = World::default();
    let sponsors: Vec<Option<usize>> = (0..12_001)
        .map(|i| {
            if i == 0 {
                None
            } else if i <= 9_000 {
                Some(0)
            } else {
                Some(rng.gen_range(1..=9_000))
            }
        })
        .collect();
    w.import(&sponsors);
    for i in 0..sponsors.len() {
        let kind = if rng.gen_bool(0.5) { OrderKind::Retail } else { OrderKind::SelfPurchase };
        w.order(i, PERIOD, rng.gen_range(20..=300) * 10_000, kind);
    }
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let got = pool.install(|| engine_run(&w));
        let figures: Vec<_> = (0..got.partners()).map(|pos| got.figures_at(pos)).collect();
        (got, figures)
    };
    let ((one, figures), (four, figures4)) = (on(1), on(4));
    assert!(figures == figures4 && one.totals == four.totals, "1 and 4 threads disagree");
    let plan = w.net.current_plan().clone();
    compare(&w, &one, &reference(&w, &plan)).unwrap();
}

#[test]
fn plan_without_compression_on_10_000_partners() {
    let runs = check_plan(|plan| plan.volume.compression = false);
    assert!(runs.iter().all(|r| r.per_rank[1..].iter().all(|&n| n > 0)), "every rank is reached");
}

#[test]
fn plan_with_a_retail_rule_on_10_000_partners() {
    const RULE: i64 = 100 * 10_000;
    let runs = check_plan(|plan| plan.min_retail_for_levels_units = RULE);
    let ranked = || everyone(&runs).filter(|p| p.rank > 0);
    let pays_levels = |p: &&RefPartner| p.lines.iter().any(|l| matches!(l.0, LineKind::Level(_)));
    assert!(ranked().filter(|p| p.rv < RULE && p.levels.iter().any(|&v| v > 0)).count() > 100, "it withholds");
    assert!(ranked().filter(pays_levels).count() > 100, "it pays");
    assert!(ranked().any(|p| p.rv == RULE && pays_levels(&p)), "RV exactly at the threshold");
}

#[test]
fn partner_and_payout_caps_bite_on_10_000_partners() {
    // A payout cap below the rates' sum (valid since issue #17), set directly.
    let runs = check_plan(|plan| {
        plan.partner_cap_units = 40 * 10_000;
        plan.payout_cap_ppm = 20_000;
    });
    assert!(runs.iter().all(|r| r.factor.is_some()), "the payout cap bites");
    let capped = everyone(&runs).filter(|p| p.lines.iter().any(|l| l.0 == LineKind::PartnerCap));
    assert!(capped.count() > 30, "the partner cap bites");
}
