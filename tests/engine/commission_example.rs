//! The commission run on example.md's twelve partners, to the cent: every
//! paid-as rank and payable amount, the totals, breakage and the two
//! variants (no compression; partner and payout caps), and the same
//! statements whatever the number of threads.

use crate::volume_props::example_network;
use downline::engine::{format_cents, format_scaled, LineKind};
use downline::engine::{Network, PlanDraft, VolumePlan};
use downline::engine::{RunProgress, RunResult};
use std::sync::Arc;

const IDS: [&str; 12] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];

fn run(net: &Network) -> RunResult {
    net.commission_snapshot("2026-11").unwrap().run(&RunProgress::default())
}

/// (rank name or "—", payable) of every partner, in IDS order.
fn table(net: &Network, result: &RunResult) -> Vec<(String, String)> {
    IDS.iter()
        .map(|id| {
            let pos = result.position_of(net.genealogy.find(id).unwrap()).unwrap();
            let figures = result.figures_at(pos);
            let rank = figures.statement.rank;
            let name = if rank == 0 { "—".to_owned() } else { result.plan.ranks[usize::from(rank) - 1].name.clone() };
            (name, format_cents(i128::from(figures.statement.payable_cents)))
        })
        .collect()
}

fn expect(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(r, p)| (r.to_string(), p.to_string())).collect()
}

#[test]
fn reference_plan_matches_example_md() {
    let net = example_network(VolumePlan::default());
    let result = run(&net);
    let want = expect(&[
        ("Silver", "113.70"),
        ("Bronze", "42.75"),
        ("—", "0.00"),
        ("Bronze", "35.00"),
        ("Bronze", "42.75"),
        ("—", "0.00"),
        ("Bronze", "25.00"),
        ("Bronze", "0.00"),
        ("—", "0.00"),
        ("Bronze", "30.00"),
        ("Bronze", "0.00"),
        ("Bronze", "70.00"),
    ]);
    assert_eq!(table(&net, &result), want);
    let t = &result.totals;
    assert_eq!(t.v_units, 2185 * 10_000);
    assert_eq!(format_scaled(t.t_scaled), "359.20");
    assert_eq!(t.factor, None);
    assert_eq!(format_cents(t.payable_cents), "359.20");
    assert_eq!(format_scaled(t.breakage_scaled), "46.00");
    assert_eq!(t.per_rank, vec![3, 8, 1, 0, 0]);
    assert_eq!(t.levels_without_retail, 1, "D: 5% × 700 on level 1 with RV 0");
    assert_eq!(t.levels_without_retail_listed, vec![net.genealogy.find("D").unwrap()]);
    // A's lines: retail 10.00, levels 24.50, 77.00, 2.20, 0.00; no reductions.
    let a = result.figures_at(result.position_of(net.genealogy.find("A").unwrap()).unwrap());
    let amounts: Vec<String> = a.statement.lines.iter().map(|l| format_scaled(l.amount_scaled)).collect();
    assert_eq!(amounts, ["10.00", "24.50", "77.00", "2.20", "0.00"]);
    assert_eq!(a.statement.lines[1].kind, LineKind::Level(1));
}

#[test]
fn without_compression_a_is_paid_107_30() {
    let mut net = example_network(VolumePlan::default());
    let mut draft = PlanDraft::reference();
    draft.compression = false;
    net.update_plan(&draft, 0).unwrap().unwrap();
    let result = run(&net);
    let rows = table(&net, &result);
    assert_eq!(rows[0].1, "107.30");
    assert_eq!(rows[6].1, "25.00", "G");
    assert_eq!(format_cents(result.totals.payable_cents), "352.80");
    assert_eq!(result.plan.version, 2);
}

#[test]
fn partner_and_payout_caps_scale_everyone_pro_rata() {
    // example.md's variant: partner_cap 20, payout_cap 5% (below the 31%
    // of rates: a valid plan since issue #17).
    let mut net = example_network(VolumePlan::default());
    let mut draft = PlanDraft::reference();
    draft.partner_cap = "20".into();
    draft.payout_cap = "0.05".into();
    let plan = draft.validate(2).unwrap();
    assert_eq!(plan.payout_cap_ppm, 50_000);
    net.install_plan(Arc::new(plan));
    let result = run(&net);
    let rows = table(&net, &result);
    let paid: Vec<&str> = rows.iter().map(|(_, p)| p.as_str()).filter(|p| *p != "0.00").collect();
    assert_eq!(paid, ["15.61"; 7], "seven partners capped at 20.00, each × 109.25 / 140");
    assert_eq!(format_scaled(result.totals.t_scaled), "140.00");
    assert!(result.totals.factor.is_some());
    assert_eq!(format_cents(result.totals.payable_cents), "109.27", "a cent per partner above the cap at most");
    let a = result.figures_at(result.position_of(net.genealogy.find("A").unwrap()).unwrap());
    let kinds: Vec<LineKind> = a.statement.lines.iter().rev().take(3).map(|l| l.kind).collect();
    assert_eq!(kinds, [LineKind::Rounding, LineKind::PayoutCap, LineKind::PartnerCap]);
}

#[test]
fn a_run_is_the_same_on_one_thread_and_on_four() {
    let net = example_network(VolumePlan::default());
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let result = run(&net);
            (0..result.partners()).map(|pos| result.figures_at(pos)).collect::<Vec<_>>()
        })
    };
    assert_eq!(on(1), on(4));
}
