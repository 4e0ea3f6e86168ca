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
        let c = inputs.run(&RunProgress::default(), 5).unwrap();
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
        let again = again.run(&RunProgress::default(), 5).unwrap();
        prop_assert_eq!(&again.rows, &c.rows);
        prop_assert_eq!(&again.by_difference, &c.by_difference);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The candidate side is the run the period would get under the
    /// candidate: for a candidate with other volume settings (captured and
    /// rolled up anew), for one that only changes the rates (which shares
    /// the baseline's inputs, rollup and ranks) and for one that changes
    /// the ranks too (the inputs and rollup shared, the ranks its own).
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
        let current = Plan::clone(w.net.current_plan());
        let mut other_volumes = plan_of(&other);
        if other_volumes.volume == current.volume {
            other_volumes.volume.compression = !current.volume.compression;
        }
        let mut same_volumes = current.clone();
        for rate in &mut same_volumes.level_rates_ppm {
            *rate = (*rate + raise_ppm).min(1_000_000);
        }
        // The baseline's volume settings with other ranks: the rollup is
        // shared, the ranks are not.
        let mut other_ranks = same_volumes.clone();
        other_ranks.ranks = plan_of(&other).ranks;
        for rank in &mut other_ranks.ranks {
            rank.paid_levels = rank.paid_levels.min(current.volume.levels);
        }
        if other_ranks.ranks == current.ranks {
            other_ranks.ranks.last_mut().unwrap().min_gv_units += 1;
        }
        for (candidate, shared) in [(other_volumes, false), (same_volumes, true), (other_ranks, true)] {
            let simulated = w.net.simulation_inputs(period, Arc::new(candidate.clone())).unwrap();
            prop_assert_eq!(simulated.rollup_shared(), shared);
            let simulated = simulated.run(&RunProgress::default(), 5).unwrap();
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

    /// A candidate that changes only rates (the shared rollup) gives the
    /// rows, counts and totals of two independent commission runs, one
    /// under each plan: every live partner once, in arena order.
    #[test]
    fn a_rates_only_simulation_gives_the_rows_of_two_independent_runs(
        parts in plan_parts(),
        raise_ppm in 1i64..=200_000,
        retail_ppm in 0i64..=150_000,
        seed in any::<u64>(),
        n in 1usize..=60,
    ) {
        let mut w = random_world(seed, n);
        w.install(plan_of(&parts));
        let baseline = w.net.commission_snapshot(PERIOD).unwrap().run(&RunProgress::default());
        let mut candidate = Plan::clone(w.net.current_plan());
        for rate in &mut candidate.level_rates_ppm {
            *rate = (*rate + raise_ppm).min(1_000_000);
        }
        candidate.retail_rate_ppm = retail_ppm;
        let period = Period::parse("period", PERIOD).unwrap();
        let inputs = w.net.simulation_inputs(period, Arc::new(candidate.clone())).unwrap();
        prop_assert!(inputs.rollup_shared());
        let c = inputs.run(&RunProgress::default(), 5).unwrap();
        let mut installed = random_world(seed, n);
        installed.install(candidate);
        let run = installed.net.commission_snapshot(PERIOD).unwrap().run(&RunProgress::default());
        prop_assert_eq!(&c.baseline, &baseline.totals);
        prop_assert_eq!(&c.candidate, &run.totals);
        let mut expected: Vec<SimRow> = (0..baseline.partners())
            .map(|pos| {
                let partner = baseline.partner_at(pos);
                let cpos = run.position_of(PartnerIx::new(partner)).unwrap();
                SimRow {
                    partner,
                    old_cents: baseline.payable_at(pos),
                    new_cents: run.payable_at(cpos),
                    old_rank: baseline.rank_at(pos),
                    new_rank: run.rank_at(cpos),
                }
            })
            .collect();
        expected.sort_by_key(|r| r.partner);
        prop_assert_eq!(&c.rows, &expected);
        let sign = |s: i128| expected.iter().filter(|r| r.difference().signum() == s).count() as u64;
        prop_assert_eq!((c.winners, c.losers, c.unchanged), (sign(1), sign(-1), sign(0)));
        let paid_old = expected.iter().filter(|r| r.old_cents > 0).count() as u64;
        let paid_new = expected.iter().filter(|r| r.new_cents > 0).count() as u64;
        prop_assert_eq!(c.paid, (paid_old, paid_new));
    }
}
