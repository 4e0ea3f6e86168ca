//! SimulatePlan (issue #18) on random small networks under random valid
//! plans: a simulation of the plan in force differs from the official run
//! of the same period by exactly zero, partner by partner, and its totals
//! on both sides equal that run's, and the comparison is deterministic.

use crate::commission_props::{plan_of, plan_parts};
use crate::commission_world::{random_world, PERIOD};
use downline::engine::*;
use proptest::prelude::*;
use std::sync::Arc;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn simulating_the_plan_in_force_changes_nothing_and_equals_the_official_run(
        parts in plan_parts(),
        seed in any::<u64>(),
        n in 1usize..=60,
    ) {
        let mut w = random_world(seed, n);
        w.install(plan_of(&parts));
        let official = w.net.commission_snapshot(PERIOD).unwrap().run(&RunProgress::default());
        let plan = Arc::clone(w.net.current_plan());
        let period = Period::parse("period", PERIOD).unwrap();
        let inputs = w.net.simulation_inputs(period, plan).unwrap();
        let c = inputs.run(&RunProgress::default(), 5);
        prop_assert_eq!(&c.baseline, &official.totals);
        prop_assert_eq!(&c.candidate, &official.totals);
        prop_assert_eq!(c.rows.len(), official.partners());
        prop_assert_eq!((c.winners, c.losers, c.unchanged), (0, 0, official.partners() as u64));
        for row in &c.rows {
            let pos = official.position_of(PartnerIx::new(row.partner)).unwrap();
            prop_assert_eq!((row.old_cents, row.new_cents), (official.payable_at(pos), official.payable_at(pos)));
            prop_assert_eq!((row.old_rank, row.new_rank), (official.rank_at(pos), official.rank_at(pos)));
        }
        prop_assert!(c.deciles.iter().all(|&d| d == 0));
        // The order by difference is a permutation of the rows.
        let mut seen: Vec<u32> = c.by_difference.clone();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..c.rows.len() as u32).collect::<Vec<_>>());
        // Deterministic: the same inputs give the same comparison.
        let again = w.net.simulation_inputs(period, Arc::clone(w.net.current_plan())).unwrap();
        let again = again.run(&RunProgress::default(), 5);
        prop_assert_eq!(&again.rows, &c.rows);
        prop_assert_eq!(&again.by_difference, &c.by_difference);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The candidate side is the run the period would get under the
    /// candidate: for a candidate with other volume settings (captured
    /// anew) and for one that only changes the rates (whose inputs are a
    /// copy of the baseline's).
    #[test]
    fn the_candidate_side_is_a_run_under_the_candidate(
        parts in plan_parts(),
        other in plan_parts(),
        raise_ppm in 1i64..=20_000,
        seed in any::<u64>(),
        n in 1usize..=60,
    ) {
        let mut w = random_world(seed, n);
        w.install(plan_of(&parts));
        let period = Period::parse("period", PERIOD).unwrap();
        let mut same_volumes = Plan::clone(w.net.current_plan());
        for rate in &mut same_volumes.level_rates_ppm {
            *rate = (*rate + raise_ppm).min(1_000_000);
        }
        for candidate in [plan_of(&other), same_volumes] {
            let simulated = w.net.simulation_inputs(period, Arc::new(candidate.clone())).unwrap();
            let simulated = simulated.run(&RunProgress::default(), 5);
            let mut installed = random_world(seed, n);
            installed.install(candidate);
            let run = installed.net.commission_snapshot(PERIOD).unwrap().run(&RunProgress::default());
            prop_assert_eq!(&simulated.candidate, &run.totals);
            // The order by difference: largest first, ties by arena index,
            // every row once.
            let key = |i: u32| {
                let row = &simulated.rows[i as usize];
                (std::cmp::Reverse(row.difference()), row.partner)
            };
            prop_assert!(simulated.by_difference.windows(2).all(|w| key(w[0]) < key(w[1])));
            prop_assert_eq!(simulated.by_difference.len(), simulated.rows.len());
            for row in &simulated.rows {
                let pos = run.position_of(PartnerIx::new(row.partner)).unwrap();
                prop_assert_eq!((row.new_cents, row.new_rank), (run.payable_at(pos), run.rank_at(pos)));
            }
        }
    }
}
