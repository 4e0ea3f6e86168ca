//! Hand-worked runs for the money rules of domain.md (see
//! `commission_rules` for the plan and the rules of levels and ranks):
//! the partner cap, the payout cap pro rata (and not at T = payout_cap × V
//! exactly), half-even rounding to the cent with amounts ending exactly on
//! a half cent both ways, rounding from the exact value (no double
//! rounding through the 10⁻¹⁰ payout-cap line), breakage, suspended
//! partners (their volume counts up, they are never active) and terminated
//! partners (their recruits move up, their volume leaves, their orders
//! stay in the volume by kind).

use crate::commission_rules::{network, paid, plan, run, Paid, U};
use downline::engine::*;
use downline::engine::{format_cents, format_scaled, LineKind};

/// (kind, amount) lines.
fn lines(list: &[(LineKind, &str)]) -> Vec<(LineKind, String)> {
    list.iter().map(|(k, a)| (*k, a.to_string())).collect()
}

/// A partner's payable amount and its lines other than 0 (a Bronze's
/// statement also lists its two level lines when they are 0.00).
fn pay(p: &Paid) -> (&str, Vec<(LineKind, String)>) {
    (p.payable.as_str(), p.lines.iter().filter(|l| l.1 != "0.00").cloned().collect())
}

#[test]
fn the_partner_cap_limits_one_partner() {
    // partner_cap 20. Roots A (retail 300) and B (retail 200).
    let mut net = network("A|B", "A 300 R|B 200 R");
    plan(&mut net, |p| p.partner_cap_units = 20 * U);
    let result = run(&net);
    // A: 10% × 300 = 30.00, capped at 20.00: a −10.00 partner-cap line.
    let a = paid(&net, &result, "A");
    let want = lines(&[(LineKind::Retail, "30.00"), (LineKind::PartnerCap, "-10.00")]);
    assert_eq!(pay(&a), ("20.00", want));
    // B: exactly 20.00, nothing to cap.
    let b = paid(&net, &result, "B");
    assert_eq!(pay(&b), ("20.00", lines(&[(LineKind::Retail, "20.00")])));
    // T 40.00 ≤ 45% × 500: no payout-cap factor.
    assert_eq!((format_scaled(result.totals.t_scaled).as_str(), result.totals.factor), ("40.00", None));
}

#[test]
fn the_payout_cap_scales_everyone_pro_rata() {
    // Roots A (retail 1,000) and B (retail 500): T = 100 + 50 = 150.00,
    // V = 1,500. payout_cap 4%: 60.00 < 150.00, factor 60 / 150 = 0.4:
    // A 40.00 (line −60.00), B 20.00 (line −30.00); total exactly 60.00.
    let mut net = network("A|B", "A 1000 R|B 500 R");
    plan(&mut net, |p| p.payout_cap_ppm = 40_000);
    let result = run(&net);
    let a = paid(&net, &result, "A");
    let want = lines(&[(LineKind::Retail, "100.00"), (LineKind::PayoutCap, "-60.00")]);
    assert_eq!(pay(&a), ("40.00", want));
    assert_eq!(paid(&net, &result, "B").payable, "20.00");
    let t = &result.totals;
    let factor = t.factor.map(|f| (format_scaled(f.numerator), format_scaled(f.denominator)));
    assert_eq!(factor, Some(("60.00".into(), "150.00".into())));
    assert_eq!((format_cents(t.payable_cents).as_str(), t.v_units), ("60.00", 1_500 * i128::from(U)));
    // payout_cap 10%: 150.00 is not above 150.00: no factor, paid in full.
    plan(&mut net, |p| p.payout_cap_ppm = 100_000);
    let result = run(&net);
    assert_eq!((result.totals.factor, format_cents(result.totals.payable_cents).as_str()), (None, "150.00"));
}

#[test]
fn rounding_is_half_even_to_the_cent() {
    // Four Bronze roots (100 self each) with tiny retail volumes:
    // A 10% × 0.05 = 0.005 → 0.00 (down to the even cent, line −0.005);
    // B 10% × 0.15 = 0.015 → 0.02 (up to the even cent, line +0.005);
    // C 10% × 0.25 = 0.025 → 0.02 (down); D 10% × 0.051 = 0.0051 → 0.01.
    let orders = "A 100 S|A 0.05 R|B 100 S|B 0.15 R|C 100 S|C 0.25 R|D 100 S|D 0.051 R";
    let net = network("A|B|C|D", orders);
    let result = run(&net);
    let a = paid(&net, &result, "A");
    let want = lines(&[(LineKind::Retail, "0.005"), (LineKind::Rounding, "-0.005")]);
    assert_eq!(pay(&a), ("0.00", want));
    let b = paid(&net, &result, "B");
    let want = lines(&[(LineKind::Retail, "0.015"), (LineKind::Rounding, "0.005")]);
    assert_eq!(pay(&b), ("0.02", want));
    assert_eq!((paid(&net, &result, "C").payable, paid(&net, &result, "D").payable), ("0.02".into(), "0.01".into()));
    assert_eq!(format_cents(result.totals.payable_cents), "0.05");
}

#[test]
fn the_payable_amount_is_rounded_from_the_exact_value() {
    // payout_cap 0.5%, partner_cap 1,000,000,000 (never bites).
    // X: retail 1.5, self 1,000,000; Y: retail 999,998.5001 (both roots).
    // V = 1,000,001.5 + 999,998.5001 = 2,000,000.0001
    // T = 0.15 + 99,999.85001 = 100,000.00001
    // payout_cap × V = 10,000.0000005 < T: the factor bites.
    // X exact = 0.15 × 10,000.0000005 / 100,000.00001
    //         = 0.015 × (1 − 0.0000005 / 10,000.000001) ≈ 0.0149999999999992
    // which is below the half cent: 0.01. Its payout-cap line, exact to
    // 10⁻¹⁰, is 0.0150000000 − 0.15 = −0.135: rounding that 0.0150000000
    // half-even again would wrongly give 0.02. The rounding line is −0.005.
    let mut net = network("X|Y", "X 1.5 R|X 1000000 S|Y 999998.5001 R");
    plan(&mut net, |p| {
        p.payout_cap_ppm = 5_000;
        p.partner_cap_units = 1_000_000_000 * U;
    });
    let result = run(&net);
    let x = paid(&net, &result, "X");
    let want = lines(&[(LineKind::Retail, "0.15"), (LineKind::PayoutCap, "-0.135"), (LineKind::Rounding, "-0.005")]);
    assert_eq!(pay(&x), ("0.01", want));
    // Y exact ≈ 9,999.985001 × (1 − 5 × 10⁻¹¹) ≈ 9,999.9850005: 9,999.99.
    assert_eq!(paid(&net, &result, "Y").payable, "9999.99");
}

#[test]
fn breakage_is_what_the_rates_would_pay_minus_the_payable_total() {
    // A (100) ── B (100) ── C (100) ── D (40 retail, inactive)
    // A: L1 100, L2 100, L3 40; Bronze pays 5 + 5 = 10.00 (would pay 11.60).
    // B: L1 100, L2 40: 5 + 2 = 7.00.  C: L1 40: 2.00.  D: inactive, paid
    // nothing (would pay 10% × 40 = 4.00 retail).
    // Payable 19.00; unrestricted 11.60 + 7 + 2 + 4 = 24.60; breakage 5.60.
    let net = network("A|B<A|C<B|D<C", "A 100 S|B 100 S|C 100 S|D 40 R");
    let result = run(&net);
    let pays: Vec<String> = ["A", "B", "C", "D"].iter().map(|id| paid(&net, &result, id).payable).collect();
    assert_eq!(pays, ["10.00", "7.00", "2.00", "0.00"]);
    assert_eq!(format_cents(result.totals.payable_cents), "19.00");
    assert_eq!(format_scaled(result.totals.breakage_scaled), "5.60");
}

#[test]
fn a_suspended_partner_counts_for_its_upline_but_is_never_active() {
    // A (100) ── B (500 retail, SUSPENDED) ── C (100)
    let mut net = network("A|B<A|C<B", "A 100 S|B 500 R|C 100 S");
    net.set_status("B", PartnerStatus::Suspended, Audit::default()).unwrap();
    let result = run(&net);
    // B keeps its PV 500 but is not active: no rank, nothing paid (enrolled
    // it would be Bronze with 50 + 5 = 55.00).
    let b = paid(&net, &result, "B");
    assert_eq!((b.active, b.rank.as_str(), b.payable.as_str(), b.lines.len()), (false, "—", "0.00", 0));
    // A: B's 500 counts, and B, inactive, does not hold a level: C rises to
    // level 1. LV1 600: 5% × 600 = 30.00. GV 700.
    let a = paid(&net, &result, "A");
    assert_eq!((a.levels, a.payable.as_str()), ([600, 0, 0], "30.00"));
    let f = result.figures_at(result.position_of(net.genealogy.find("A").unwrap()).unwrap());
    assert_eq!(f.gv_units, 700 * U);
    // Breakage: A 30 + B (50 retail + 5% × 100) + C 0 − 30 = 55.00.
    assert_eq!(format_scaled(result.totals.breakage_scaled), "55.00");
    assert_eq!(result.totals.per_rank, vec![1, 2, 0, 0, 0]);
}

#[test]
fn a_terminated_partner_leaves_with_its_volume_and_its_recruits_move_up() {
    // A (100) ── B (200 self, 30 fee; TERMINATED) ── C (100)
    let mut net = network("A|B<A|C<B", "A 100 S|B 200 S|B 30 F|C 100 S");
    net.set_status("B", PartnerStatus::Terminated, Audit::default()).unwrap();
    let result = run(&net);
    assert_eq!(result.position_of(net.genealogy.find("B").unwrap()), None, "B is not in the run");
    // C is A's recruit now; B's 200 left: A's GV 200, LV1 100: 5.00.
    let a = paid(&net, &result, "A");
    assert_eq!((a.levels, a.rank.as_str(), a.payable.as_str()), ([100, 0, 0], "Bronze", "5.00"));
    let t = &result.totals;
    assert_eq!((t.partners, t.v_units, format_cents(t.payable_cents).as_str()), (2, 200 * i128::from(U), "5.00"));
    // B's orders stay in the volume by kind (the compliance view).
    assert_eq!(
        (t.kinds.retail_units, t.kinds.self_units, t.kinds.fee_units),
        (0, 400 * i128::from(U), 30 * i128::from(U))
    );
}
