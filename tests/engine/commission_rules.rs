//! One hand-worked commission run per rule of domain.md, on a handful of
//! partners each, every figure computed by hand in the comments (reference
//! plan unless a test says otherwise: min_active_pv 50, retail 10%, levels
//! 5/5/4/3/2/1/1%, Bronze 2 levels, Silver 1,000 GV × 2 Bronze legs 4
//! levels, Gold 5,000 GV with a 60% leg cap × 3 Bronze legs 6 levels).
//!
//! This module proves the rules of levels and ranks: compression lifting
//! the recruits of an inactive partner, min_pv, min_gv at its boundary,
//! the leg cap, min_legs counting legs and not partners (and "at least"
//! the leg rank), the levels each rank unlocks, and the retail-customer
//! rule (withholding at 99.99, paying at 100.00, and 0 switching it off
//! even for a negative RV). `commission_rules_pay` has the money rules.

use downline::engine::*;
use downline::engine::{format_cents, format_scaled, LineKind};
use downline::engine::{RunProgress, RunResult};
use std::sync::Arc;

const PERIOD: &str = "2026-05";
pub(crate) const U: i64 = 10_000;

/// A network from `"A|B<A|C<B"` (C recruited by B) and orders
/// `"A 100 R|B 50.5 S"` (R retail, S self, F fee) in `PERIOD`.
pub(crate) fn network(tree: &str, orders: &str) -> Network {
    let mut net = Network::default();
    for node in tree.split('|') {
        let (id, sponsor) = node.split_once('<').unwrap_or((node, ""));
        net.create_partner(&NewPartner::parse(id, sponsor, "2026-05-01", "").unwrap(), Audit::default()).unwrap();
    }
    for (i, order) in orders.split('|').enumerate() {
        let [partner, volume, kind] = order.split(' ').collect::<Vec<_>>()[..] else { panic!("{order}") };
        let kind = [OrderKind::Retail, OrderKind::SelfPurchase, OrderKind::Fee]["RSF".find(kind).unwrap()];
        let request = OrderRequest {
            order_id: format!("o{i}"),
            partner_id: partner.into(),
            period: PERIOD.into(),
            volume: volume.into(),
            kind,
            book_into_period: None,
        };
        net.record_order(&request).unwrap();
    }
    net
}

/// Installs the reference plan changed by `tweak` (without validation).
pub(crate) fn plan(net: &mut Network, tweak: impl FnOnce(&mut Plan)) {
    let mut plan = Plan::reference();
    tweak(&mut plan);
    plan.version = net.current_plan().version + 1;
    net.install_plan(Arc::new(plan));
}

pub(crate) fn run(net: &Network) -> RunResult {
    net.commission_snapshot(PERIOD).unwrap().run(&RunProgress::default())
}

/// One partner's outcome, as text.
#[derive(Debug, PartialEq)]
pub(crate) struct Paid {
    /// Rank name, or "—".
    pub rank: String,
    pub payable: String,
    pub lines: Vec<(LineKind, String)>,
    /// LV_1..LV_3 in whole volume (the tests use whole volumes there).
    pub levels: [i64; 3],
    pub active: bool,
}

pub(crate) fn paid(net: &Network, result: &RunResult, id: &str) -> Paid {
    let pos = result.position_of(net.genealogy.find(id).unwrap()).expect("in the run");
    let f = result.figures_at(pos);
    let s = f.statement;
    let rank = if s.rank == 0 { "—".into() } else { result.plan.ranks[usize::from(s.rank) - 1].name.clone() };
    Paid {
        rank,
        payable: format_cents(i128::from(s.payable_cents)),
        lines: s.lines.iter().map(|l| (l.kind, format_scaled(l.amount_scaled))).collect(),
        levels: [f.levels[0] / U, f.levels[1] / U, f.levels[2] / U],
        active: s.active,
    }
}

/// (rank, payable) of `id`.
pub(crate) fn rank_pay(net: &Network, id: &str) -> (String, String) {
    let p = paid(net, &run(net), id);
    (p.rank, p.payable)
}

/// The paid-as rank of A in a network of the reference plan.
fn rank_of_a(tree: &str, orders: &str) -> String {
    let net = network(tree, orders);
    paid(&net, &run(&net), "A").rank
}

pub(crate) fn rp(rank: &str, payable: &str) -> (String, String) {
    (rank.into(), payable.into())
}

#[test]
fn compression_lifts_the_recruits_of_an_inactive_partner() {
    // A ── B (PV 10, inactive) ── C (100) ── D (60).
    let tree = "A|B<A|C<B|D<C";
    let mut net = network(tree, "A 100 S|B 10 S|C 100 S|D 60 S");
    // With compression, no active partner stands between A and C: C rises
    // to level 1 beside B, whose own 10 still counts there; D has C between
    // (active): level 2. A, Bronze (GV 270), is paid 2 levels:
    // 5% × 110 + 5% × 60 = 5.50 + 3.00 = 8.50.
    let result = run(&net);
    let a = paid(&net, &result, "A");
    assert_eq!((a.levels, a.rank.as_str(), a.payable.as_str()), ([110, 60, 0], "Bronze", "8.50"));
    // B is inactive: no rank, no lines. C: 5% × 60 = 3.00.
    let b = paid(&net, &result, "B");
    assert_eq!((b.active, b.rank.as_str(), b.lines.len()), (false, "—", 0));
    assert_eq!(paid(&net, &result, "C").payable, "3.00");
    // Without compression: levels 10 / 100 / 60; 5% × 10 + 5% × 100 = 5.50.
    plan(&mut net, |p| p.volume.compression = false);
    let a = paid(&net, &run(&net), "A");
    assert_eq!((a.levels, a.payable.as_str()), ([10, 100, 60], "5.50"));
}

#[test]
fn min_pv_decides_the_rank_and_no_rank_means_no_lines() {
    // min_active_pv 10 here, so F (PV 40) is active yet below Bronze's 50.
    // A ┬ B (500) ── D (100) ── E (100)
    //   └ C (500)                          F (40 retail, a root)
    let tree = "A|B<A|C<A|D<B|E<D|F";
    let orders = |a: &str| format!("A {a} R|B 500 S|C 500 S|D 100 S|E 100 S|F 40 R");
    let mut net = network(tree, &orders("99.99"));
    plan(&mut net, |p| p.volume.min_active_pv_units = 10 * U);
    // A: qualifying GV 99.99 + 700 + 500 ≥ 1,000 and two Bronze legs, but
    // PV 99.99 < Silver's 100: Bronze, 2 levels (L1 B+C 1,000, L2 D 100):
    // 10% × 99.99 + 5% × 1,000 + 5% × 100 = 9.999 + 50 + 5 = 64.999 → 65.00.
    let result = run(&net);
    let a = paid(&net, &result, "A");
    assert_eq!((a.rank.as_str(), a.payable.as_str(), a.levels), ("Bronze", "65.00", [1000, 100, 100]));
    let amounts: Vec<&str> = a.lines.iter().map(|l| l.1.as_str()).collect();
    assert_eq!(amounts, ["9.999", "50.00", "5.00", "0.001"], "retail, L1, L2, rounding");
    // F: active, PV 40 < 50: no rank, so not even its retail 4.00 is paid.
    let f = paid(&net, &result, "F");
    assert_eq!((f.active, f.rank.as_str(), f.payable.as_str(), f.lines.len()), (true, "—", "0.00", 0));
    // A with PV 100.00: Silver, 4 levels: 10 + 50 + 5 + 4% × 100 (E) = 69.00.
    let mut net = network(tree, &orders("100.00"));
    plan(&mut net, |p| p.volume.min_active_pv_units = 10 * U);
    assert_eq!(rank_pay(&net, "A"), rp("Silver", "69.00"));
}

#[test]
fn min_gv_is_met_at_exactly_the_threshold() {
    // A (100) ┬ B (450), C (450): qualifying GV 100 + 450 + 450 = 1,000 ≥
    // Silver's 1,000, two Bronze legs: Silver. One unit less: Bronze.
    assert_eq!(rank_of_a("A|B<A|C<A", "A 100 S|B 450 S|C 450 S"), "Silver");
    assert_eq!(rank_of_a("A|B<A|C<A", "A 100 S|B 450 S|C 449.9999 S"), "Bronze");
}

#[test]
fn the_leg_cap_limits_a_big_leg() {
    // A (100) ┬ B (1,000) ── B2 (3,000)    B's leg: GV 4,000
    //         ├ C (1,000)
    //         └ D (500)
    // Gold: min_gv 5,000, max_leg_share 0.6, so one leg counts at most
    // 3,000. Raw GV 5,600, qualifying 100 + 3,000 + 1,000 + 500 = 4,600 <
    // 5,000: not Gold, but Silver (share 1: 5,600 ≥ 1,000; 3 Bronze legs).
    let tree = "A|B<A|B2<B|C<A|D<A";
    assert_eq!(rank_of_a(tree, "A 100 S|B 1000 S|B2 3000 S|C 1000 S|D 500 S"), "Silver");
    // C at 1,400: 100 + 3,000 + 1,400 + 500 = 5,000: Gold. (Capping at
    // 60% of the leg's GV instead, 2,400, would give 4,400: still Silver.)
    assert_eq!(rank_of_a(tree, "A 100 S|B 1000 S|B2 3000 S|C 1400 S|D 500 S"), "Gold");
}

#[test]
fn min_legs_counts_legs_not_partners() {
    // A (100) ┬ B (100) ── E (800)   two Bronzes, ONE leg
    //         └ C (30, inactive)
    // Qualifying GV 100 + 900 + 30 = 1,030 ≥ 1,000, but only one leg holds a
    // Bronze: not Silver. A is Bronze.
    assert_eq!(rank_of_a("A|B<A|E<B|C<A", "A 100 S|B 100 S|E 800 S|C 30 S"), "Bronze");
    // G (60, Bronze) under the inactive C: C's leg now holds a Bronze, deep
    // in it: two legs, Silver.
    assert_eq!(rank_of_a("A|B<A|E<B|C<A|G<C", "A 100 S|B 100 S|E 800 S|C 30 S|G 60 S"), "Silver");
}

#[test]
fn a_leg_counts_when_it_holds_at_least_the_rank_asked() {
    // Ranks: R1 (PV 50), R2 (PV 100), R3 (PV 100 and 1 leg × R1).
    let rank = |name: &str, min_pv: &str, legs: u32| RankDraft {
        name: name.into(),
        min_pv: min_pv.into(),
        min_gv: "0".into(),
        max_leg_share: "1".into(),
        min_legs: legs,
        leg_min_rank: if legs > 0 { "R1".into() } else { String::new() },
        paid_levels: 1,
    };
    let draft = PlanDraft {
        ranks: vec![rank("R1", "50", 0), rank("R2", "100", 0), rank("R3", "100", 1)],
        ..PlanDraft::reference()
    };
    let with = |b: &str| {
        let mut net = network("A|B<A", &format!("A 100 S|B {b} S"));
        net.update_plan(&draft, 0).unwrap();
        let result = run(&net);
        (paid(&net, &result, "A").rank, paid(&net, &result, "B").rank)
    };
    // B (100) has no legs: R2, its highest rank reached. A's leg holds an
    // R2, which is at least R1: A is R3.
    assert_eq!(with("100"), ("R3".into(), "R2".into()));
    assert_eq!(with("60"), ("R3".into(), "R1".into()));
    // B (40) has no rank: A's leg holds nothing; A is R2.
    assert_eq!(with("40"), ("R2".into(), "—".into()));
}

#[test]
fn each_rank_unlocks_its_levels() {
    // A (100) ┬ B ── C ── D ── E ── F   (100 each, all active)
    //         └ G
    let tree = "A|B<A|C<B|D<C|E<D|F<E|G<A";
    let orders = |g: &str| format!("A 100 S|B 100 S|C 100 S|D 100 S|E 100 S|F 100 S|G {g} S");
    let net = network(tree, &orders("40"));
    // G (40) inactive: GV 640, Bronze, 2 levels: L1 (B + G) 140, L2 (C) 100:
    // 5% × 140 + 5% × 100 = 7.00 + 5.00 = 12.00; D, E, F not paid.
    let k = |kind, amount: &str| (kind, amount.to_string());
    let a = paid(&net, &run(&net), "A");
    let want = vec![k(LineKind::Retail, "0.00"), k(LineKind::Level(1), "7.00"), k(LineKind::Level(2), "5.00")];
    assert_eq!((a.rank.as_str(), a.payable.as_str(), &a.lines), ("Bronze", "12.00", &want));
    // G (800): GV 1,400, legs B and G hold a Bronze: Silver, 4 levels:
    // 5% × 900 + 5% × 100 + 4% × 100 + 3% × 100 = 45 + 5 + 4 + 3 = 57.00;
    // F at level 5 (2%) is not paid.
    let net = network(tree, &orders("800"));
    let a = paid(&net, &run(&net), "A");
    let amounts = ["0.00", "45.00", "5.00", "4.00", "3.00"];
    let want: Vec<_> = amounts
        .iter()
        .enumerate()
        .map(|(i, a)| (if i == 0 { LineKind::Retail } else { LineKind::Level(i) }, a.to_string()))
        .collect();
    assert_eq!((a.rank.as_str(), a.payable.as_str(), &a.lines), ("Silver", "57.00", &want));
}

#[test]
fn the_retail_rule_withholds_level_lines_below_its_threshold() {
    // min_retail_for_levels 100. A (Bronze) ── B (100).
    let with = |orders: &str, rule: i64| {
        let mut net = network("A|B<A", orders);
        plan(&mut net, |p| p.min_retail_for_levels_units = rule * U);
        let result = run(&net);
        (paid(&net, &result, "A"), result.totals.levels_without_retail)
    };
    // RV 99.99 < 100: retail 9.999 only, rounded to 10.00; no level lines.
    let (a, _) = with("A 99.99 R|B 100 S", 100);
    let kinds: Vec<LineKind> = a.lines.iter().map(|l| l.0).collect();
    assert_eq!((a.payable.as_str(), kinds), ("10.00", vec![LineKind::Retail, LineKind::Rounding]));
    // RV 100.00 meets it: 10.00 + 5% × 100 = 15.00.
    assert_eq!(with("A 100 R|B 100 S", 100).0.payable, "15.00");
    // RV -50 (a return), PV 100: with the rule at 100 nothing but a 0 retail
    // line; with the rule at 0 (off) the level line is paid all the same:
    // 5% × 100 = 5.00, and A counts among the partners paid levels without
    // retail volume.
    let (a, without_retail) = with("A -50 R|A 150 S|B 100 S", 100);
    assert_eq!((a.rank.as_str(), a.payable.as_str(), without_retail), ("Bronze", "0.00", 0));
    let (a, without_retail) = with("A -50 R|A 150 S|B 100 S", 0);
    assert_eq!((a.payable.as_str(), without_retail), ("5.00", 1));
}
