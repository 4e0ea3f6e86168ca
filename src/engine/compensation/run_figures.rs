//! The part of a commission run after the rollup: ranks, the two
//! commission passes, the totals, and the position map. Split from the
//! rollup (`commission_run.rs`) so a simulation whose two plans share
//! their volume settings rolls up once and computes these twice, on the
//! same borrowed inputs and rollup (`simulation_run.rs`), and ranks once
//! when their ranks are equal too.

use super::commission::{self, PayoutFactor, SCALED_PER_CENT};
use super::commission_run::{KindTotals, Phase, RunProgress, RunTotals, MAX_LISTED_PARTNERS};
use super::plan::Plan;
use super::ranks::rank_bfs;
use crate::engine::genealogy::forest::NONE;
use crate::engine::partner_ix::PartnerIx;
use crate::engine::volumes::period_volumes::LevelTotals;
use crate::engine::volumes::rollup::{BfsRollup, RollupInput};
use crate::engine::volumes::volume_plan::MAX_LEVELS;
use rayon::prelude::*;
use std::sync::atomic::Ordering;

/// Partners per rayon task in the commission passes.
pub(super) const PARTNERS_PER_TASK: usize = 8192;

/// One plan's commissions over a rollup, by breadth-first position.
pub(super) struct Commissions {
    /// Payable amount, cents.
    pub(super) payable_cents: Vec<i64>,
    /// The totals.
    pub(super) totals: RunTotals,
}

/// The per-partner sums of the first commission pass.
#[derive(Default)]
pub(super) struct PassOne {
    v_units: i128,
    t_scaled: i128,
    unrestricted_scaled: i128,
    levels_without_retail: Vec<u32>,
    levels_without_retail_count: u64,
}

impl PassOne {
    /// Adds one partner (`partner` its arena index) with PV `pv_units`, RV
    /// `rv_units`, level volumes `volumes` and its `amounts` under `plan`.
    pub(super) fn add(
        &mut self,
        plan: &Plan,
        partner: u32,
        (pv_units, rv_units): (i64, i64),
        volumes: &[i64],
        amounts: &commission::Amounts,
    ) {
        self.v_units += i128::from(pv_units.max(0));
        self.t_scaled += amounts.capped_scaled;
        self.unrestricted_scaled += commission::unrestricted_scaled(plan, rv_units, volumes);
        if amounts.pays_levels && rv_units <= 0 {
            self.levels_without_retail_count += 1;
            self.levels_without_retail.push(partner);
            self.levels_without_retail.sort_unstable();
            self.levels_without_retail.truncate(MAX_LISTED_PARTNERS);
        }
    }

    /// The sums of `self` and `other`.
    pub(super) fn merge(self, other: PassOne) -> PassOne {
        merge_pass_one(self, other)
    }

    /// V and T, for the payout factor.
    pub(super) fn v_and_t(&self) -> (i128, i128) {
        (self.v_units, self.t_scaled)
    }
}

/// The paid-as rank code of every position of `input` under `plan`'s
/// ranks (the only part of a plan they depend on), from its `rollup`'s GV;
/// `progress` enters the ranks.
pub(super) fn rank_all(input: &RollupInput, rollup: &BfsRollup, plan: &Plan, progress: &RunProgress) -> Vec<u8> {
    progress.enter(Phase::Ranks);
    let ranks = rank_bfs(input, &rollup.gv, plan);
    progress.done.store(input.partners() as u64, Ordering::Release);
    ranks.rank
}

/// The commissions of every position of `input` under `plan`, from its
/// `rollup` and paid-as `rank` codes (all only read: a simulation passes
/// the same ones for both plans). `progress` enters the commissions; once
/// `input` is cancelled the commission passes cover nobody.
pub(super) fn commissions(
    input: &RollupInput,
    rollup: &BfsRollup,
    plan: &Plan,
    rank: &[u8],
    kinds: KindTotals,
    progress: &RunProgress,
) -> Commissions {
    progress.enter(Phase::Commissions);
    // Cancelled: the commission passes cover nobody (the result is dropped).
    let n = if input.is_cancelled() { 0 } else { input.partners() };
    let one = pass_one(input, rollup, plan, rank, n);
    let factor = PayoutFactor::of(plan, one.t_scaled, one.v_units);
    let payable_cents = pass_two(input, rollup, plan, rank, factor, n, progress);
    finish(plan, one, factor, payable_cents, rank, kinds)
}

/// One plan's commissions from its first pass's sums `one`, its payout
/// `factor` and every payable amount (by position).
pub(super) fn finish(
    plan: &Plan,
    one: PassOne,
    factor: Option<PayoutFactor>,
    payable_cents: Vec<i64>,
    rank: &[u8],
    kinds: KindTotals,
) -> Commissions {
    let payable_total: i128 = payable_cents.par_iter().map(|&c| i128::from(c)).sum();
    let totals = RunTotals {
        partners: payable_cents.len() as u64,
        v_units: one.v_units,
        t_scaled: one.t_scaled,
        factor,
        payable_cents: payable_total,
        breakage_scaled: one.unrestricted_scaled - payable_total * SCALED_PER_CENT,
        per_rank: per_rank(rank, plan.ranks.len()),
        levels_without_retail: one.levels_without_retail_count,
        levels_without_retail_listed: one.levels_without_retail.into_iter().map(PartnerIx::new).collect(),
        kinds,
    };
    Commissions { payable_cents, totals }
}

/// The level profile of position `pos`.
fn profile_at(rollup: &BfsRollup, levels: usize, pos: usize) -> &[LevelTotals] {
    &rollup.profile[pos * levels..(pos + 1) * levels]
}

/// The first pass: V, T, what the rates would pay unrestricted, and the
/// partners paid levels without retail volume, over the first `n` positions.
fn pass_one(input: &RollupInput, rollup: &BfsRollup, plan: &Plan, rank: &[u8], n: usize) -> PassOne {
    let (pv, rv, order) = (input.pv(), input.rv(), input.order());
    let levels = plan.volume.levels;
    (0..n)
        .into_par_iter()
        .with_min_len(PARTNERS_PER_TASK)
        .fold(PassOne::default, |mut acc, pos| {
            let mut buffer = [0i64; MAX_LEVELS];
            let volumes = level_volumes(profile_at(rollup, levels, pos), &mut buffer);
            let amounts = commission::amounts(plan, rank[pos], rv[pos], volumes);
            acc.add(plan, order[pos], (pv[pos], rv[pos]), volumes, &amounts);
            acc
        })
        .reduce(PassOne::default, merge_pass_one)
}

/// The second pass: every payable amount under the payout `factor`.
fn pass_two(
    input: &RollupInput,
    rollup: &BfsRollup,
    plan: &Plan,
    rank: &[u8],
    factor: Option<PayoutFactor>,
    n: usize,
    progress: &RunProgress,
) -> Vec<i64> {
    let rv = input.rv();
    let levels = plan.volume.levels;
    (0..n)
        .into_par_iter()
        .with_min_len(PARTNERS_PER_TASK)
        .map(|pos| {
            let mut buffer = [0i64; MAX_LEVELS];
            let volumes = level_volumes(profile_at(rollup, levels, pos), &mut buffer);
            let capped = commission::amounts(plan, rank[pos], rv[pos], volumes).capped_scaled;
            if pos % PARTNERS_PER_TASK == 0 {
                progress.done.fetch_add(PARTNERS_PER_TASK.min(n - pos) as u64, Ordering::Relaxed);
            }
            commission::payable_cents(capped, factor)
        })
        .collect()
}

/// Partners per rank code (index 0: no rank; `ranks` codes above it),
/// counted in parallel: exact integer counts, so the order is irrelevant.
fn per_rank(rank: &[u8], ranks: usize) -> Vec<u64> {
    let count = |mut acc: Vec<u64>, chunk: &[u8]| {
        for &r in chunk {
            acc[usize::from(r)] += 1;
        }
        acc
    };
    let add = |mut a: Vec<u64>, b: Vec<u64>| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        a
    };
    rank.par_chunks(PARTNERS_PER_TASK).fold(|| vec![0u64; ranks + 1], count).reduce(|| vec![0u64; ranks + 1], add)
}

/// Arena index → breadth-first position (NONE for partners not in
/// `order`), `arena_len` entries.
pub(super) fn position_map(order: &[u32], arena_len: usize) -> Vec<u32> {
    let mut position = vec![NONE; arena_len];
    for (pos, &x) in order.iter().enumerate() {
        position[x as usize] = pos as u32;
    }
    position
}

/// The level volumes of a profile, copied into a stack buffer.
pub(super) fn level_volumes<'a>(profile: &[LevelTotals], buffer: &'a mut [i64; MAX_LEVELS]) -> &'a [i64] {
    for (out, totals) in buffer.iter_mut().zip(profile) {
        *out = totals.volume_units;
    }
    &buffer[..profile.len()]
}

fn merge_pass_one(mut a: PassOne, b: PassOne) -> PassOne {
    a.v_units += b.v_units;
    a.t_scaled += b.t_scaled;
    a.unrestricted_scaled += b.unrestricted_scaled;
    a.levels_without_retail_count += b.levels_without_retail_count;
    a.levels_without_retail.extend(b.levels_without_retail);
    a.levels_without_retail.sort_unstable();
    a.levels_without_retail.truncate(MAX_LISTED_PARTNERS);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_rank_counts_every_code_across_chunks() {
        let rank: Vec<u8> = (0..3 * PARTNERS_PER_TASK + 5).map(|i| (i % 3) as u8).collect();
        let counts = per_rank(&rank, 3);
        let naive = (0..4u8).map(|c| rank.iter().filter(|&&r| r == c).count() as u64).collect::<Vec<_>>();
        assert_eq!(counts, naive);
        assert_eq!(per_rank(&[], 2), vec![0, 0, 0]);
    }

    #[test]
    fn the_position_map_inverts_the_order() {
        let position = position_map(&[3, 0, 2], 5);
        assert_eq!(position, vec![1, NONE, 2, 0, NONE]);
    }
}
