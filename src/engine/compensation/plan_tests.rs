//! Unit tests of plan parsing and validation.

use super::*;

fn fields(draft: &PlanDraft) -> Vec<String> {
    draft.validate(2).unwrap_err().into_iter().map(|v| v.field).collect()
}

#[test]
fn the_reference_plan_is_valid_and_round_trips() {
    let plan = Plan::reference();
    assert_eq!(plan.volume, VolumePlan::default());
    assert_eq!(plan.level_rates_ppm, vec![50_000, 50_000, 40_000, 30_000, 20_000, 10_000, 10_000]);
    assert_eq!(plan.retail_rate_ppm, 100_000);
    assert_eq!(plan.payout_cap_ppm, 450_000);
    assert_eq!(plan.partner_cap_units, 100_000_000);
    assert_eq!(plan.ranks[3].leg_min_rank, Some(1));
    assert_eq!(plan.ranks[2].leg_cap_scaled(), 600_000 * 50_000_000);
    assert_eq!(plan.to_draft().validate(1), Ok(plan));
}

#[test]
fn rates_are_exact_fractions() {
    assert_eq!(parse_rate("0.05"), Ok(50_000));
    assert_eq!(parse_rate("1"), Ok(RATE_ONE));
    assert_eq!(parse_rate("0.000001"), Ok(1));
    assert_eq!(format_rate(50_000), "0.05");
    assert_eq!(format_rate(RATE_ONE), "1");
    for bad in ["", "-0.05", "0.0000001", "1.5", "5%", "abc", "1e-3"] {
        assert!(parse_rate(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_rate("0.050000000000000000000000000000"), Ok(50_000), "zeros past the places are no places");
    assert_eq!(parse_rate("-0.000"), Ok(0));
    let between = "a rate is a fraction between 0 and 1 (0.05 is 5%)";
    assert_eq!(parse_rate("-1"), Err(format!("'-1' is negative: {between}")));
    assert_eq!(parse_rate(&"9".repeat(30)), Err(format!("'{}' is above 1: {between}", "9".repeat(30))));
    assert_eq!(parse_rate("0.0000001"), Err("'0.0000001' has more than 6 decimal places".to_owned()));
    assert_eq!(parse_rate("5%"), Err("'5%' is not a decimal fraction such as 0.05".to_owned()));
}

#[test]
fn rank_names_follow_the_text_rule_but_stored_plans_still_load() {
    let mut d = PlanDraft::reference();
    d.ranks[3].name = "Diamond ".into();
    assert_eq!(fields(&d), ["plan.ranks[3].name"]);
    assert!(d.validate_stored(2).is_ok(), "a plan stored before the text rule must load");
    d.ranks[3].name = "Dia\u{202e}mond".into();
    assert_eq!(fields(&d), ["plan.ranks[3].name"]);
    d.ranks[3].name = "Dia\nmond".into();
    assert!(d.validate_stored(2).is_err(), "control characters were always refused");
}

proptest::proptest! {
    /// Any rate written with its places and extra zeros reads back; with a
    /// non-zero seventh place it is refused for its places.
    #[test]
    fn rates_round_trip_and_count_places(ppm in 0..=RATE_ONE, zeros in 0..30_usize, seventh in 1..10_u8) {
        let six = format!("{}.{:06}", ppm / RATE_ONE, ppm % RATE_ONE);
        let text = format!("{six}{}", "0".repeat(zeros));
        proptest::prop_assert_eq!(parse_rate(&text), Ok(ppm));
        proptest::prop_assert_eq!(parse_rate(&format_rate(ppm)), Ok(ppm));
        let seven = format!("{six}{seventh}");
        proptest::prop_assert!(parse_rate(&seven).unwrap_err().ends_with("has more than 6 decimal places"));
    }
}

#[test]
fn refuses_impossible_plans_naming_every_field() {
    let mut d = PlanDraft::reference();
    d.levels = 0;
    assert!(fields(&d).contains(&"plan.levels".to_owned()));
    let mut d = PlanDraft::reference();
    d.levels = 51;
    assert!(fields(&d).contains(&"plan.levels".to_owned()));
    let mut d = PlanDraft::reference();
    d.level_rates[2] = "-0.04".into();
    d.payout_cap = "0".into();
    d.partner_cap = "-1".into();
    assert_eq!(fields(&d), ["plan.level_rates[2]", "plan.payout_cap", "plan.partner_cap"]);
    // Rates adding up above the payout cap are valid (issue #17): the run
    // scales everyone pro rata.
    let mut d = PlanDraft::reference();
    d.level_rates[0] = "0.30".into();
    assert!(d.validate(2).is_ok(), "rates above the payout cap are a valid plan");
    let mut d = PlanDraft::reference();
    d.ranks[1].min_gv = "6000".into(); // above Gold's 5000: Gold is out of order
    d.ranks[3].paid_levels = 8;
    d.ranks[0].leg_min_rank = "Gold".into();
    d.ranks[0].min_legs = 1;
    d.ranks[2].name = "Silver".into();
    d.ranks[1].max_leg_share = "0".into();
    let mut got = fields(&d);
    got.sort();
    assert_eq!(
        got,
        [
            "plan.ranks[0].leg_min_rank",
            "plan.ranks[1].max_leg_share",
            "plan.ranks[2].min_gv",
            "plan.ranks[2].name",
            "plan.ranks[3].paid_levels",
        ]
    );
}
