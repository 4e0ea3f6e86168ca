//! Both sides of a simulation whose plans share their volume settings,
//! computed without ever holding every partner's level profile.
//!
//! A commission run keeps every profile (`levels` × 16 bytes a partner,
//! 1.12 GB at 10M partners and 7 levels) because its statements show
//! them. A simulation shows payables and ranks only, so here:
//!
//! 1. every GV, bottom up (8 bytes a partner, no level profile at all);
//! 2. each plan ranks from those GVs (once when both plans' ranks are
//!    equal: ranks depend on nothing else of a plan);
//! 3. a second streaming rollup hands each task's finished partners to
//!    both plans while their profiles are in cache: each computes the
//!    partner's capped amount and its first-pass sums;
//! 4. the payout factors from those sums, then the payables from the
//!    capped amounts alone.
//!
//! Every figure is the one `run_figures.rs` computes from the full rollup
//! (the same functions, the same integer sums, so the same bits whatever
//! the order of the tasks); the property tests compare a side with a
//! commission run under its plan. The gain is 1.12 GB less fresh memory
//! at 10M, which on this project's VM costs more than the arithmetic
//! (docs/bench-log.md).

use super::commission::{self, PayoutFactor};
use super::commission_run::{KindTotals, Phase, RunProgress};
use super::plan::Plan;
use super::ranks::rank_bfs;
use super::run_figures::{finish, level_volumes, Commissions, PassOne};
use crate::engine::volumes::period_volumes::LevelTotals;
use crate::engine::volumes::rollup::RollupInput;
use crate::engine::volumes::volume_plan::MAX_LEVELS;
use parking_lot::Mutex;
use rayon::prelude::*;
use std::sync::atomic::AtomicU64;

/// The plans a streaming pass serves: the baseline's, then the candidate's.
pub(super) const SIDES: usize = 2;

/// One side's ranks and commissions.
pub(super) struct StreamedSide {
    /// Paid-as rank codes by position; `None` when equal to the other side's.
    pub(super) rank: Option<Vec<u8>>,
    /// Payables and totals.
    pub(super) commissions: Commissions,
}

/// One rollup task's partners, for every side: the capped amounts of its
/// positions and its first-pass sums.
struct Block {
    first: usize,
    capped: [Vec<i128>; SIDES],
    one: [PassOne; SIDES],
}

/// Both sides over one capture: `plans[0]` the baseline's, `plans[1]` the
/// candidate's, with equal volume settings. `None` once `input` is
/// cancelled.
pub(super) fn streamed_sides(
    input: &RollupInput,
    plans: [&Plan; SIDES],
    kinds: KindTotals,
    progress: &RunProgress,
) -> Option<[StreamedSide; SIDES]> {
    debug_assert!(plans[0].volume == plans[1].volume, "one rollup serves both plans only with equal volume settings");
    progress.enter(Phase::Rollup);
    let gv = group_volumes(input);
    progress.enter(Phase::Ranks);
    let old_rank = rank_bfs(input, &gv, plans[0]).rank;
    let new_rank = (plans[1].ranks != plans[0].ranks).then(|| rank_bfs(input, &gv, plans[1]).rank);
    drop(gv);
    let ranks: [&[u8]; SIDES] = [&old_rank, new_rank.as_deref().unwrap_or(&old_rank)];
    progress.enter(Phase::Commissions);
    let blocks = amounts_by_block(input, plans, ranks);
    if input.is_cancelled() {
        return None;
    }
    let (mut ones, mut capped) = ([PassOne::default(), PassOne::default()], [Vec::new(), Vec::new()]);
    for block in blocks {
        for (s, (one, amounts)) in block.one.into_iter().zip(block.capped).enumerate() {
            ones[s] = std::mem::take(&mut ones[s]).merge(one);
            capped[s].push(amounts);
        }
    }
    let [old, new] = [0, 1].map(|s| {
        let one = std::mem::take(&mut ones[s]);
        let (v_units, t_scaled) = one.v_and_t();
        let factor = PayoutFactor::of(plans[s], t_scaled, v_units);
        let payable_cents: Vec<i64> = capped[s]
            .par_iter()
            .flat_map_iter(|block| block.iter().map(move |&c| commission::payable_cents(c, factor)))
            .collect();
        debug_assert_eq!(payable_cents.len(), input.partners());
        finish(plans[s], one, factor, payable_cents, ranks[s], kinds)
    });
    Some([StreamedSide { rank: Some(old_rank), commissions: old }, StreamedSide { rank: new_rank, commissions: new }])
}

/// Every position's GV (its PV plus its recruits' GV), deepest depth
/// first, each depth's sponsors split between rayon tasks: the sums of
/// `RollupInput::compute_streaming` without the level profiles. Skips its
/// work once `input` is cancelled (the result is then meaningless).
fn group_volumes(input: &RollupInput) -> Vec<i64> {
    let (child_start, depth_start) = (input.child_start(), input.depth_start());
    let mut gv = input.pv().to_vec();
    for d in (0..depth_start.len().saturating_sub(1)).rev() {
        let (start, split) = (depth_start[d] as usize, depth_start[d + 1] as usize);
        let (upper, children) = gv.split_at_mut(split);
        upper[start..].par_chunks_mut(GV_SPONSORS_PER_TASK).enumerate().for_each(|(task, sponsors)| {
            if input.is_cancelled() {
                return;
            }
            let first = start + task * GV_SPONSORS_PER_TASK;
            for (i, gv) in sponsors.iter_mut().enumerate() {
                let p = first + i;
                let recruits = child_start[p] as usize - split..child_start[p + 1] as usize - split;
                *gv += children[recruits].iter().sum::<i64>();
            }
        });
    }
    gv
}

/// Sponsors per rayon task of [`group_volumes`].
const GV_SPONSORS_PER_TASK: usize = 16_384;

/// The second streaming rollup: every task's partners through both plans,
/// the blocks sorted by their first position (they tile `0..partners`).
fn amounts_by_block(input: &RollupInput, plans: [&Plan; SIDES], ranks: [&[u8]; SIDES]) -> Vec<Block> {
    let (pv, rv, order) = (input.pv(), input.rv(), input.order());
    let levels = plans[0].volume.levels.max(1);
    let blocks = Mutex::new(Vec::new());
    let visit = |first: usize, gv: &[i64], profile: &[LevelTotals], _: &[u32]| {
        let mut block = Block {
            first,
            capped: [Vec::with_capacity(gv.len()), Vec::with_capacity(gv.len())],
            one: [PassOne::default(), PassOne::default()],
        };
        let mut buffer = [0i64; MAX_LEVELS];
        for (i, row) in profile.chunks_exact(levels).enumerate().take(gv.len()) {
            let pos = first + i;
            let volumes = level_volumes(row, &mut buffer);
            for s in 0..SIDES {
                let amounts = commission::amounts(plans[s], ranks[s][pos], rv[pos], volumes);
                block.one[s].add(plans[s], order[pos], (pv[pos], rv[pos]), volumes, &amounts);
                block.capped[s].push(amounts.capped_scaled);
            }
        }
        blocks.lock().push(block);
    };
    input.compute_streaming(&AtomicU64::new(0), &visit);
    let mut blocks = blocks.into_inner();
    blocks.sort_unstable_by_key(|b| b.first);
    debug_assert!(
        input.is_cancelled() || blocks.iter().map(|b| b.capped[0].len()).sum::<usize>() == input.partners(),
        "the blocks tile every position"
    );
    blocks
}

#[cfg(test)]
mod tests {
    //! The streamed sides against the full rollup's figures on a network
    //! wide enough for several rollup tasks per depth (the blocks must tile
    //! the positions in order).
    use super::*;
    use crate::engine::compensation::run_figures::{commissions, rank_all};
    use crate::engine::{Network, VolumePlan};
    use std::sync::Arc;

    const PERIOD: &str = "2026-11";

    fn network() -> Network {
        let mut net = Network::new(Default::default(), VolumePlan::default());
        net.import(&crate::synth::partners(30_000, 7)).unwrap();
        for order in crate::synth::orders(30_000, 7, PERIOD) {
            net.record_order(&order).unwrap();
        }
        net
    }

    /// Both plans' figures as a commission run computes them.
    fn from_the_full_rollup(
        input: &RollupInput,
        plans: [&Plan; SIDES],
        kinds: KindTotals,
    ) -> Vec<(Vec<u8>, Commissions)> {
        let progress = RunProgress::default();
        let rollup = input.compute_bfs(&progress.done);
        plans
            .iter()
            .map(|plan| {
                let rank = rank_all(input, &rollup, plan, &progress);
                let figures = commissions(input, &rollup, plan, &rank, kinds, &progress);
                (rank, figures)
            })
            .collect()
    }

    #[test]
    fn the_order_scan_sums_every_kind_as_the_kind_totals_do() {
        let net = network();
        let snapshot = net.commission_snapshot(PERIOD).unwrap();
        let period = crate::engine::Period::parse("period", PERIOD).unwrap();
        assert_eq!(snapshot.kinds, net.kind_totals(period));
        assert!(snapshot.kinds.retail_units > 0 && snapshot.kinds.self_units > 0 && snapshot.kinds.fee_units > 0);
    }

    #[test]
    fn streamed_sides_equal_the_full_rollups_figures() {
        let net = network();
        let snapshot = net.commission_snapshot(PERIOD).unwrap();
        let baseline = Arc::clone(&snapshot.plan);
        let mut rates = Plan::clone(&baseline);
        rates.level_rates_ppm.iter_mut().for_each(|r| *r = (*r + 10_000).min(1_000_000));
        let mut ranks = rates.clone();
        if let Some(first) = ranks.ranks.first_mut() {
            first.min_gv_units += 1_000_000;
        }
        assert!(!baseline.ranks.is_empty(), "the default plan must have ranks for this test to mean anything");
        for candidate in [&rates, &ranks] {
            let plans = [&*baseline, candidate];
            let expected = from_the_full_rollup(&snapshot.input, plans, snapshot.kinds);
            let streamed = streamed_sides(&snapshot.input, plans, snapshot.kinds, &RunProgress::default()).unwrap();
            for (s, side) in streamed.iter().enumerate() {
                let rank = side.rank.as_deref().unwrap_or_else(|| streamed[0].rank.as_deref().unwrap());
                assert_eq!(rank, expected[s].0.as_slice(), "side {s}: ranks");
                assert_eq!(side.commissions.payable_cents, expected[s].1.payable_cents, "side {s}: payables");
                assert_eq!(side.commissions.totals, expected[s].1.totals, "side {s}: totals");
            }
            assert_eq!(
                streamed[1].rank.is_some(),
                candidate.ranks != baseline.ranks,
                "ranked twice only when the ranks differ"
            );
        }
    }
}
