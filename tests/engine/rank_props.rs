//! Tests of the live ranks of `Network` (paid-as rank, best rank in the
//! subtree, rank progress) against hand figures and a naive model.
//!
//! What they prove:
//! - the worked example of `spec/example.md` ranks as the spec says (A
//!   Silver; B, D, E, G, H, J, K, L Bronze; C, F, I none), with A's, C's and
//!   L's progress towards the next rank figure by figure;
//! - for random histories of the volume tests (creations, imports, orders
//!   with returns, moves, suspensions, terminations, closings) mixed with
//!   random plan updates (1 to 4 ranks, leg shares below 1 with caps that
//!   are not whole units, legs of a minimum rank), after every step, in
//!   every open period: every partner's live rank code and best-in-subtree,
//!   and its rank progress, equal a naive recomputation written from the
//!   spec (GV from the orders, every leg walked explicitly, ranks deepest
//!   partners first); `rank_bfs` on a fresh capture equals it too; the
//!   recalculation finds no difference; errors are the volumes' errors.

use crate::volume_props::{self as vp, example_network, kind_of, Model, Op, FP, PERIODS};
use downline::engine::rank_bfs;
use downline::engine::*;
use downline::engine::{personal_volumes, RollupInput};
use proptest::prelude::*;
use proptest::sample::Index;
use std::sync::atomic::AtomicU64;

const U: i64 = 10_000;
/// Scaled qualifying GV per unit (the engine's `RATE_ONE`, written again).
const PPM: i128 = 1_000_000;

// ---------------------------------------------------------------- example.md

fn requirement(kind: RequirementKind, current: i128, required: i128) -> Requirement {
    Requirement { kind, current, required, met: current >= required }
}

#[test]
fn ranks_of_example_md() {
    let net = example_network(VolumePlan::default());
    let period = Period::parse("period", "2026-11").unwrap();
    let ranks = net.live_ranks(period).unwrap();
    // 1 Bronze, 2 Silver; best = the best in the partner's subtree.
    let expected = [
        ("A", 2, 2),
        ("B", 1, 1),
        ("C", 0, 1),
        ("D", 1, 1),
        ("E", 1, 1),
        ("F", 0, 0),
        ("G", 1, 1),
        ("H", 1, 1),
        ("I", 0, 1),
        ("J", 1, 1),
        ("K", 1, 1),
        ("L", 1, 1),
    ];
    for (id, rank, best) in expected {
        let x = net.genealogy.find(id).unwrap().as_usize();
        assert_eq!(ranks.codes()[x], [rank, best], "{id}");
        assert_eq!(net.rank_progress(id, "2026-11").unwrap().paid_as, rank, "{id}");
    }
    use RequirementKind::*;
    // A: Silver; towards Gold: qualifying 100 + 755 + 570 + 760 (no leg above the cap 3000).
    let a = net.rank_progress("A", "2026-11").unwrap();
    assert_eq!((a.active, a.pv_units, a.gv_units, a.plan_version), (true, 100 * U, 2185 * U, 1));
    let gold = a.next.unwrap();
    assert_eq!(gold.rank, 2);
    let q = |units: i64| i128::from(units * U) * PPM;
    let want = vec![
        requirement(Active, 1, 1),
        requirement(MinPv, (100 * U).into(), (100 * U).into()),
        requirement(MinQualifyingGv, q(2185), q(5000)),
        requirement(Legs { leg_min_rank: 0 }, 3, 3),
    ];
    assert_eq!(gold.requirements, want);
    assert_eq!(gold.requirements[2].missing(), q(2815));
    assert_eq!(format_scaled(gold.requirements[2].current), "2185.00");
    // C: inactive (PV 30); Bronze caps every leg at 0, so its qualifying GV is its PV.
    let c = net.rank_progress("C", "2026-11").unwrap();
    let bronze = c.next.unwrap();
    assert_eq!(bronze.rank, 0);
    let want = vec![
        requirement(Active, 0, 1),
        requirement(MinPv, (30 * U).into(), (50 * U).into()),
        requirement(MinQualifyingGv, q(30), 0),
    ];
    assert_eq!(bronze.requirements, want);
    // L: Bronze, no legs: Silver wants 1000 of qualifying GV and 2 Bronze legs.
    let l = net.rank_progress("L", "2026-11").unwrap().next.unwrap();
    assert_eq!(l.rank, 1);
    assert_eq!(l.requirements[2], requirement(MinQualifyingGv, q(700), q(1000)));
    assert_eq!(l.requirements[3], requirement(Legs { leg_min_rank: 0 }, 0, 2));
    // Errors are GetVolumes' errors.
    let kind = |id: &str, per: &str| net.rank_progress(id, per).err().map(kind_of);
    assert_eq!(kind("Z", "2026-11"), Some("NotFound"));
    assert_eq!(kind("A", "2026-12"), Some("NotFound"));
    assert_eq!(kind("A", "2026-13"), Some("InvalidArgument"));
}

#[test]
fn ranks_of_example_md_follow_writes() {
    let mut net = example_network(VolumePlan::default());
    let rank = |net: &Network, id: &str| net.rank_progress(id, "2026-11").unwrap().paid_as;
    // H and J suspended, G terminated (I, inactive, moves under C): C's leg
    // holds no Bronze any more, A keeps Silver on B's and D's legs.
    for (id, status) in
        [("H", PartnerStatus::Suspended), ("J", PartnerStatus::Suspended), ("G", PartnerStatus::Terminated)]
    {
        net.set_status(id, status, Audit::default()).unwrap();
    }
    assert_eq!(rank(&net, "A"), 2);
    let gold = net.rank_progress("A", "2026-11").unwrap().next.unwrap();
    assert_eq!(gold.requirements[3].current, 2, "legs with a Bronze: B, D");
    // D's leg moves under B: B has two Bronze legs (E's, D's) and 1455 of
    // qualifying GV, so Silver; A has one leg with a Bronze left: Bronze.
    net.move_partner("D", "B", Audit::default()).unwrap();
    assert_eq!((rank(&net, "B"), rank(&net, "A")), (2, 1));
    // A return of 60 makes D inactive; L (Bronze) still fills B's leg.
    let order = OrderRequest {
        order_id: "r1".into(),
        partner_id: "D".into(),
        period: "2026-11".into(),
        volume: "-60".into(),
        kind: OrderKind::SelfPurchase,
        book_into_period: None,
    };
    net.record_order(&order).unwrap();
    assert_eq!((rank(&net, "D"), rank(&net, "B"), rank(&net, "A")), (0, 2, 1));
    net.close_period(Period::parse("period", "2026-11").unwrap(), None).unwrap();
    assert_eq!(net.rank_progress("A", "2026-11").err().map(kind_of), Some(FP));
}

// ---------------------------------------------------------------- the model

/// Ranks of a random plan: (min_pv step, min_gv step, share, min_legs, leg rank).
pub(crate) type RankSpec = (usize, usize, usize, u32, Index);

fn plan_draft() -> impl Strategy<Value = PlanDraft> {
    let rank = (0usize..3, 0usize..5, 0usize..5, 0u32..3, any::<Index>());
    (1u32..=4, any::<bool>(), any::<bool>(), prop::collection::vec(rank, 1..=4))
        .prop_map(|(levels, compression, min_pv, ranks)| draft(levels, compression, min_pv, &ranks))
}

pub(crate) fn draft(levels: u32, compression: bool, min_active: bool, specs: &[RankSpec]) -> PlanDraft {
    let mut d = PlanDraft::reference();
    d.levels = levels;
    d.level_rates.truncate(levels as usize);
    d.compression = compression;
    d.min_active_pv = if min_active { "2.5" } else { "0" }.into();
    let (mut min_pv, mut min_gv) = (0.0, 0.0);
    d.ranks = specs
        .iter()
        .enumerate()
        .map(|(i, &(pv_step, gv_step, share, min_legs, leg_rank))| {
            min_pv += [0.0, 0.0, 2.5][pv_step];
            // Steps of 7.5 with a share of 0.333334 make caps a hair above a
            // multiple of 2.5, which GVs (multiples of 0.25) often equal.
            min_gv += [0.0, 0.0, 7.5, 5.25, 15.0][gv_step];
            RankDraft {
                name: format!("R{i}"),
                min_pv: format!("{min_pv}"),
                min_gv: format!("{min_gv}"),
                max_leg_share: ["1", "0.5", "0.333334", "0.75", "0.333333"][share].into(),
                min_legs,
                leg_min_rank: if min_legs > 0 { format!("R{}", leg_rank.index(i + 1)) } else { String::new() },
                paid_levels: (i as u32 + 1).min(levels),
            }
        })
        .collect();
    d
}

#[derive(Clone, Debug)]
enum RankOp {
    Base(Op),
    Plan(PlanDraft),
}

fn rank_op() -> impl Strategy<Value = RankOp> {
    // Besides the volume tests' ops, new orders of 0 to 15.00 (RETAIL or
    // SELF), so that partners reach ranks and legs hold ranked partners.
    let order = (any::<Index>(), 0usize..2, 0i64..=60, 0usize..2)
        .prop_map(|(partner, period, quarters, kind)| Op::Order(None, partner, period, quarters, kind));
    prop_oneof![
        12 => vp::op().prop_map(RankOp::Base),
        6 => order.prop_map(RankOp::Base),
        1 => plan_draft().prop_map(RankOp::Plan),
    ]
}

/// The naive ranks of one period: by model index.
struct Naive {
    rank: Vec<u8>,
    best: Vec<u8>,
    progress: Vec<Option<RankProgress>>,
}

/// Ranks every live partner of `per` straight from the spec.
fn naive(m: &Model, plan: &Plan, version: u32, per: usize) -> Naive {
    let n = m.ps.len();
    let pr = m.personal(per);
    let pv = |p: usize| pr[p].0;
    let active = |p: usize| m.ps[p].status == PartnerStatus::Enrolled && pv(p) >= plan.volume.min_active_pv_units;
    let live: Vec<usize> = (0..n).filter(|&p| m.live(p)).collect();
    let members = |p: usize| live.iter().copied().filter(move |&d| m.is_self_or_ancestor(p, d));
    let gv: Vec<i64> = (0..n).map(|p| if m.live(p) { members(p).map(pv).sum() } else { 0 }).collect();
    let depth = |p: usize| {
        let (mut d, mut node) = (0, m.ps[p].sponsor);
        while let Some(q) = node {
            (d, node) = (d + 1, m.ps[q].sponsor);
        }
        d
    };
    let mut by_depth = live.clone();
    by_depth.sort_by_key(|&p| std::cmp::Reverse(depth(p)));
    let mut rank = vec![0u8; n];
    let mut progress = vec![None; n];
    for &p in &by_depth {
        let legs: Vec<usize> = live.iter().copied().filter(|&c| m.ps[c].sponsor == Some(p)).collect();
        // (kind, current, required) of every requirement of rank i.
        let requirements = |i: usize, rank: &[u8]| {
            let r = &plan.ranks[i];
            let cap = i128::from(r.max_leg_share_ppm) * i128::from(r.min_gv_units);
            let qualifying: i128 =
                i128::from(pv(p)) * PPM + legs.iter().map(|&c| (i128::from(gv[c]) * PPM).min(cap)).sum::<i128>();
            let mut out = vec![
                (RequirementKind::Active, i128::from(active(p)), 1),
                (RequirementKind::MinPv, pv(p).into(), r.min_pv_units.into()),
                (RequirementKind::MinQualifyingGv, qualifying, i128::from(r.min_gv_units) * PPM),
            ];
            if let Some(j) = r.leg_min_rank.filter(|_| r.min_legs > 0) {
                // Legs holding, anywhere in them, a partner of rank j or higher.
                let holding = legs.iter().filter(|&&c| members(c).any(|d| usize::from(rank[d]) > j)).count();
                out.push((RequirementKind::Legs { leg_min_rank: j }, holding as i128, r.min_legs.into()));
            }
            out
        };
        let reached = (0..plan.ranks.len()).filter(|&i| requirements(i, &rank).iter().all(|(_, cur, req)| cur >= req));
        rank[p] = reached.max().map_or(0, |i| i as u8 + 1);
        let next = (usize::from(rank[p]) < plan.ranks.len()).then(|| {
            let i = usize::from(rank[p]);
            let requirements = requirements(i, &rank)
                .into_iter()
                .map(|(kind, current, required)| Requirement { kind, current, required, met: current >= required })
                .collect();
            RankTarget { rank: i, requirements }
        });
        progress[p] = Some(RankProgress {
            plan_version: version,
            paid_as: rank[p],
            active: active(p),
            pv_units: pv(p),
            gv_units: gv[p],
            next,
        });
    }
    let best = (0..n).map(|p| if m.live(p) { members(p).map(|d| rank[d]).max().unwrap_or(0) } else { 0 }).collect();
    Naive { rank, best, progress }
}

/// Every partner of every open period with orders equals the naive ranks:
/// live codes, bests, progress, the batch ranking, the recalculation.
fn check(net: &Network, m: &Model, plan: &Plan) -> Result<(), TestCaseError> {
    let version = net.current_plan().version;
    for (per, text) in PERIODS.into_iter().enumerate() {
        let period = Period::parse("period", text).unwrap();
        if !m.has_orders[per] || m.closed[per] {
            let expected = if m.has_orders[per] { FP } else { "NotFound" };
            prop_assert_eq!(net.live_ranks(period).err().map(kind_of), Some(expected), "{}", text);
            if let Some(p) = (0..m.ps.len()).find(|&p| m.live(p)) {
                prop_assert_eq!(net.rank_progress(&m.ps[p].id, text).err().map(kind_of), Some(expected));
            }
            continue;
        }
        let want = naive(m, plan, version, per);
        let live = net.live_ranks(period).unwrap();
        prop_assert_eq!(&**live.plan(), net.current_plan().as_ref());
        let (pv, rv) = personal_volumes(&net.genealogy, &net.orders, period);
        let input = RollupInput::capture(&net.genealogy, &net.plan, &pv, &rv);
        let batch = rank_bfs(&input, &input.compute_bfs(&AtomicU64::new(0)).gv, plan);
        let position: std::collections::HashMap<u32, usize> =
            input.order().iter().enumerate().map(|(pos, &x)| (x, pos)).collect();
        for p in 0..m.ps.len() {
            let id = &m.ps[p].id;
            let x = net.genealogy.find(id).unwrap().get();
            let got = (live.rank_of(x), live.best_of(x));
            prop_assert_eq!(live.codes()[x as usize], [got.0, got.1]);
            prop_assert_eq!(got, (want.rank[p], want.best[p]), "live rank, best of {} in {}", id, text);
            let progress = net.rank_progress(id, text);
            if m.live(p) {
                prop_assert_eq!(progress.unwrap(), want.progress[p].clone().unwrap(), "{} in {}", id, text);
                let pos = position[&x];
                prop_assert_eq!((batch.rank[pos], batch.best[pos]), got, "rank_bfs of {} in {}", id, text);
            } else {
                prop_assert_eq!(progress.err().map(kind_of), Some(FP), "terminated {}", id);
                prop_assert!(!position.contains_key(&x));
            }
        }
        let report = net.recalc_snapshot(period).unwrap().run(&AtomicU64::new(0));
        prop_assert_eq!((report.differences, report.rank_differences), (0, 0), "{:?}", report.first_difference);
    }
    Ok(())
}

/// Installs a plan draft in the engine; the model takes its parsed values.
fn install(net: &mut Network, m: &mut Model, plan: &mut Plan, d: &PlanDraft) -> Result<(), TestCaseError> {
    let parsed = d.validate(0).map_err(|v| TestCaseError::fail(format!("invalid draft {d:?}: {v:?}")))?;
    net.update_plan(d, 0).map_err(|e| TestCaseError::fail(format!("update_plan: {e}")))?;
    m.plan = parsed.volume;
    *plan = parsed;
    Ok(())
}

proptest! {
    // 256 cases (proptest's default; PROPTEST_CASES overrides it).
    #[test]
    fn live_ranks_equal_a_naive_recomputation(first in plan_draft(), ops in prop::collection::vec(rank_op(), 1..=60)) {
        let mut net = Network::default();
        let mut m = Model::new(VolumePlan::default());
        let mut plan = Plan::reference();
        install(&mut net, &mut m, &mut plan, &first)?;
        for (i, op) in ops.iter().enumerate() {
            let fail = |e: TestCaseError| TestCaseError::fail(format!("step {i} {op:?}: {e}"));
            match op {
                RankOp::Base(op) => vp::step(&mut net, &mut m, op).map_err(fail)?,
                RankOp::Plan(d) => install(&mut net, &mut m, &mut plan, d).map_err(fail)?,
            }
            check(&net, &m, &plan).map_err(fail)?;
            vp::check(&net, &m).map_err(fail)?;
        }
    }
}
