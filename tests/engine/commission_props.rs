//! Properties of commission runs on random small networks under random
//! valid plans (1–7 levels, 1–4 ranks with random leg caps and min_legs ×
//! leg_min_rank, compression on or off, the retail rule on or off, random
//! partner caps; the payout cap random too, below the rates' sum in about
//! half the cases, set after validation so any ppm value can be drawn).
//!
//! For every case: the engine equals the reference of
//! `commission_reference` partner by partner and on every total; the
//! payable amounts add up to the run's payable total; every statement's
//! lines add up to its payable amount; 1 and 4 threads give identical
//! statements and totals, and so does a snapshot taken in memory reserved
//! beforehand (large enough or too small); the payable total exceeds payout_cap × V by at
//! most a cent per paid partner; nobody is paid above the partner cap by
//! more than a cent; and breakage is never below minus the rounding paid
//! up (so it is ≥ 0 when no rounding line is positive).
//!
//! 96 cases by default; PROPTEST_CASES sets another number.

use crate::commission_reference::{compare, engine_run, reference};
use crate::commission_world::{random_world, World};
use downline::engine::*;
use downline::engine::{LineKind, SCALED_PER_CENT};
use downline::engine::{PartnerFigures, RunProgress, RunResult};
use proptest::prelude::*;
use proptest::sample::Index;

const U: i64 = 10_000;

fn rate_text(ppm: i64) -> String {
    format!("{}.{:06}", ppm / 1_000_000, ppm % 1_000_000)
}

/// One rank's increments over the rank below it: min_pv, min_gv and
/// paid_levels steps, the leg share (ppm), min_legs and which lower rank.
pub(crate) type RankSteps = (i64, i64, usize, i64, u32, Index);

pub(crate) fn rank_steps() -> impl Strategy<Value = RankSteps> {
    (
        prop_oneof![Just(0), 0i64..=60 * U],
        prop_oneof![Just(0), 0i64..=900 * U],
        0usize..=3,
        prop_oneof![Just(1_000_000), 1i64..=1_000_000],
        prop_oneof![2 => Just(0u32), 3 => 1u32..=3],
        any::<Index>(),
    )
}

/// Level rates and the retail rate (ppm), compression, min_active_pv,
/// min_retail_for_levels, partner_cap (units), payout_cap (ppm) and ranks.
pub(crate) type PlanParts = (Vec<i64>, i64, bool, i64, i64, i64, i64, Vec<RankSteps>);

pub(crate) fn plan_parts() -> impl Strategy<Value = PlanParts> {
    (1usize..=7, 1usize..=4).prop_flat_map(|(levels, ranks)| {
        (
            prop::collection::vec(0i64..=120_000, levels),
            0i64..=150_000,
            any::<bool>(),
            prop_oneof![Just(0), Just(50 * U), 0i64..=100 * U],
            prop_oneof![Just(0), 1i64..=300 * U],
            prop_oneof![Just(10_000 * U), 1i64..=500 * U],
            1i64..=1_000_000,
            prop::collection::vec(rank_steps(), ranks),
        )
    })
}

/// A valid plan from its parts; the payout cap is set after validation.
pub(crate) fn plan_of(parts: &PlanParts) -> Plan {
    let (level_rates, retail, compression, min_active, min_retail, partner_cap, payout_cap, steps) = parts;
    let levels = level_rates.len();
    let (mut min_pv, mut min_gv, mut paid) = (0, 0, 0);
    let mut ranks = Vec::new();
    for (i, &(pv, gv, more, share, legs, below)) in steps.iter().enumerate() {
        (min_pv, min_gv, paid) = (min_pv + pv, min_gv + gv, (paid + more).min(levels));
        ranks.push(RankDraft {
            name: format!("R{i}"),
            min_pv: crate::commission_world::units_text(min_pv),
            min_gv: crate::commission_world::units_text(min_gv),
            max_leg_share: rate_text(share),
            min_legs: legs,
            leg_min_rank: if legs == 0 { String::new() } else { format!("R{}", below.index(i + 1)) },
            paid_levels: paid as u32,
        });
    }
    let draft = PlanDraft {
        levels: levels as u32,
        level_rates: level_rates.iter().map(|&r| rate_text(r)).collect(),
        compression: *compression,
        min_active_pv: crate::commission_world::units_text(*min_active),
        retail_rate: rate_text(*retail),
        min_retail_for_levels: crate::commission_world::units_text(*min_retail),
        partner_cap: crate::commission_world::units_text(*partner_cap),
        payout_cap: "1".into(),
        ranks,
    };
    let mut plan = draft.validate(2).unwrap_or_else(|v| panic!("{draft:?}: {v:?}"));
    plan.payout_cap_ppm = *payout_cap;
    plan
}

/// Every partner's figures and the totals, on a pool of `threads`.
fn on_threads(w: &World, threads: usize) -> (RunResult, Vec<PartnerFigures>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let got = pool.install(|| engine_run(w));
    let figures = (0..got.partners()).map(|pos| got.figures_at(pos)).collect();
    (got, figures)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").map_or(96, |_| ProptestConfig::default().cases)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn runs_add_up_respect_the_caps_and_equal_the_reference(
        parts in plan_parts(),
        seed in any::<u64>(),
        n in 1usize..=60,
    ) {
        let mut w = random_world(seed, n);
        w.install(plan_of(&parts));
        let plan = w.net.current_plan().clone();
        let (got, figures) = on_threads(&w, 1);
        let (got4, figures4) = on_threads(&w, 4);
        prop_assert!(figures == figures4, "1 and 4 threads give other statements");
        prop_assert_eq!(&got.totals, &got4.totals);
        // Snapshots taken in memory reserved before the lock, large enough or
        // too small, give the same run as one in fresh memory.
        let period = got.period.to_string();
        for memory in [InputMemory::prefaulted(w.net.partners_to_reserve()), InputMemory::prefaulted(1)] {
            let with = w.net.commission_snapshot_with(&period, memory).unwrap().run(&RunProgress::default());
            let with_figures: Vec<_> = (0..with.partners()).map(|pos| with.figures_at(pos)).collect();
            prop_assert!(with_figures == figures, "a snapshot in reserved memory gives other statements");
            prop_assert_eq!(&with.totals, &got.totals);
        }

        let want = reference(&w, &plan);
        compare(&w, &got, &want).map_err(TestCaseError::fail)?;

        let t = &got.totals;
        let payable: i128 = figures.iter().map(|f| i128::from(f.statement.payable_cents)).sum();
        prop_assert_eq!(payable, t.payable_cents, "Σ payable");
        let mut rounded_up = 0i128;
        for f in &figures {
            let s = &f.statement;
            let lines: i128 = s.lines.iter().map(|l| l.amount_scaled).sum();
            prop_assert_eq!(lines, i128::from(s.payable_cents) * SCALED_PER_CENT, "lines of {}", f.partner);
            let cap = i128::from(plan.partner_cap_units) * 1_000_000;
            prop_assert!(i128::from(s.payable_cents) * SCALED_PER_CENT <= cap + SCALED_PER_CENT);
            prop_assert!(s.payable_cents >= 0);
            let rounding = s.lines.iter().filter(|l| l.kind == LineKind::Rounding).map(|l| l.amount_scaled);
            rounded_up += rounding.filter(|&a| a > 0).sum::<i128>();
        }
        let paid = figures.iter().filter(|f| f.statement.payable_cents > 0).count() as i128;
        let limit = i128::from(plan.payout_cap_ppm) * t.v_units;
        prop_assert!(
            t.payable_cents * SCALED_PER_CENT <= limit + paid * SCALED_PER_CENT,
            "payable {} above payout_cap × V {} + {} cents", t.payable_cents, limit, paid
        );
        prop_assert!(t.breakage_scaled + rounded_up >= 0, "breakage {} below -{}", t.breakage_scaled, rounded_up);
    }
}
