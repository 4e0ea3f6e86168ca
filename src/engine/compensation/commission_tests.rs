//! Unit tests of one partner's commission, hand-worked from domain.md and
//! example.md.

use super::*;
use crate::engine::compensation::plan::PlanDraft;

const U: i64 = 10_000; // volume units per 1.00

fn levels(values: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = values.iter().map(|v| v * U).collect();
    out.resize(7, 0);
    out
}

#[test]
fn a_silver_partner_is_paid_four_levels() {
    // example.md: A is Silver, 10% × 100 + 5% × 490 + 5% × 1540 + 4% × 55 = 113.70.
    let plan = Plan::reference();
    let s = statement(&plan, 2, true, 100 * U, &levels(&[490, 1540, 55]), None);
    assert_eq!(s.payable_cents, 11_370);
    let kinds: Vec<LineKind> = s.lines.iter().map(|l| l.kind).collect();
    use LineKind::*;
    assert_eq!(kinds, [Retail, Level(1), Level(2), Level(3), Level(4)]);
    assert_eq!(format_scaled(s.lines[2].amount_scaled), "77.00");
}

#[test]
fn no_rank_pays_nothing_and_negative_volumes_pay_nothing() {
    let plan = Plan::reference();
    assert_eq!(statement(&plan, 0, false, 400 * U, &levels(&[200, 340]), None).payable_cents, 0);
    let s = statement(&plan, 1, true, -200 * U, &levels(&[-50, 100]), None);
    assert_eq!(s.payable_cents, 500, "5% × 100 on level 2; a negative RV and LV_1 pay 0");
}

#[test]
fn the_retail_rule_withholds_levels_and_zero_turns_it_off() {
    let mut draft = PlanDraft::reference();
    draft.min_retail_for_levels = "100".into();
    let plan = draft.validate(2).unwrap();
    let s = statement(&plan, 1, true, 99 * U, &levels(&[1000]), None);
    assert_eq!(s.payable_cents, 990, "only the retail line");
    let s = statement(&plan, 1, true, 100 * U, &levels(&[1000]), None);
    assert_eq!(s.payable_cents, 6_000);
    let s = statement(&Plan::reference(), 1, true, -5 * U, &levels(&[1000]), None);
    assert_eq!(s.payable_cents, 5_000, "rule off: levels paid even with a negative RV");
}

#[test]
fn partner_cap_and_payout_cap_are_lines_of_their_own() {
    // example.md variant: partner_cap 20, payout_cap 5%; seven partners capped at 20,
    // T = 140, 5% × 2185 = 109.25: each 20 × 109.25 / 140 = 15.607… → 15.61.
    let mut draft = PlanDraft::reference();
    draft.partner_cap = "20".into();
    draft.payout_cap = "0.05".into();
    draft.level_rates = ["0.01", "0.01", "0.01", "0.01", "0", "0", "0"].map(String::from).to_vec();
    draft.retail_rate = "0.01".into();
    let plan = draft.validate(2).unwrap();
    let factor = PayoutFactor::of(&plan, 140 * SCALED_PER_CENT * 100, 2185 * i128::from(U));
    assert_eq!(factor, Some(PayoutFactor { numerator: 1_092_500_000_000, denominator: 1_400_000_000_000 }));
    let s = statement(&plan, 4, true, 5_000 * U, &levels(&[0]), factor);
    assert_eq!(s.payable_cents, 1_561);
    let amounts: Vec<String> = s.lines.iter().map(|l| format_scaled(l.amount_scaled)).collect();
    assert_eq!(
        amounts,
        ["50.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "-30.00", "-4.3928571429", "0.0028571429"]
    );
    assert_eq!(PayoutFactor::of(&plan, 100 * SCALED_PER_CENT * 100, 2185 * i128::from(U)), None);
}

#[test]
fn rounding_is_half_even_from_the_exact_value() {
    assert_eq!(payable_cents(50_000_000, None), 0, "0.005 → 0.00");
    assert_eq!(payable_cents(150_000_000, None), 2, "0.015 → 0.02");
    assert_eq!(payable_cents(250_000_000, None), 2, "0.025 → 0.02");
    assert_eq!(payable_cents(250_000_001, None), 3);
    // 0.02 × 5/4 = 0.025 exactly: half-even to 0.02; one scaled unit more rounds up.
    let f = Some(PayoutFactor { numerator: 5, denominator: 4 });
    assert_eq!(payable_cents(200_000_000, f), 2);
    assert_eq!(payable_cents(200_000_001, f), 3);
}

#[test]
fn formats_amounts() {
    assert_eq!(format_scaled(0), "0.00");
    assert_eq!(format_scaled(1), "0.0000000001");
    assert_eq!(format_scaled(-11_370_000_000_000), "-1137.00");
    assert_eq!(format_cents(11_370), "113.70");
}
