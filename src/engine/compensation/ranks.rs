//! Ranks: which rank a partner reaches from its own figures and its legs'
//! totals, and the bottom-up pass that ranks a whole period.
//!
//! A rank code is a `u8`: 0 for no rank, `i + 1` for `plan.ranks[i]`.
//! Qualifying GV is compared scaled by [`RATE_ONE`] so the leg cap
//! `max_leg_share × min_gv` stays an exact integer.

use super::plan::{Plan, MAX_RANKS, RATE_ONE};
use crate::engine::volumes::rollup::RollupInput;
use rayon::prelude::*;

/// Sponsors per rayon task.
const SPONSORS_PER_TASK: usize = 4096;

/// What a partner's legs add up to, per rank of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegTotals {
    /// Per rank `i`: Σ over legs of `min(GV(leg), leg cap of rank i)`,
    /// scaled by [`RATE_ONE`].
    pub qualifying_scaled: [i128; MAX_RANKS],
    /// Per rank `i`: legs holding a partner of rank `i` or higher.
    pub legs_at_least: [u32; MAX_RANKS],
}

impl Default for LegTotals {
    fn default() -> LegTotals {
        LegTotals { qualifying_scaled: [0; MAX_RANKS], legs_at_least: [0; MAX_RANKS] }
    }
}

impl LegTotals {
    /// Adds one leg with group volume `gv_units` whose best rank code is `best`.
    pub fn add_leg(&mut self, plan: &Plan, gv_units: i64, best: u8) {
        self.apply_leg(plan, gv_units, best, 1);
    }

    /// Adds (`sign` 1) or removes (-1) one leg.
    pub fn apply_leg(&mut self, plan: &Plan, gv_units: i64, best: u8, sign: i32) {
        let gv_scaled = i128::from(gv_units) * i128::from(RATE_ONE);
        for (i, rank) in plan.ranks.iter().enumerate() {
            self.qualifying_scaled[i] += i128::from(sign) * gv_scaled.min(rank.leg_cap_scaled());
            if usize::from(best) > i {
                self.legs_at_least[i] = self.legs_at_least[i].wrapping_add_signed(sign);
            }
        }
    }
}

/// Whether a partner reaches rank `i` (every requirement at once).
pub fn reaches(plan: &Plan, i: usize, active: bool, pv_units: i64, legs: &LegTotals) -> bool {
    let rank = &plan.ranks[i];
    let qualifying = i128::from(pv_units) * i128::from(RATE_ONE) + legs.qualifying_scaled[i];
    let legs_ok = match rank.leg_min_rank {
        None => true,
        Some(j) => legs.legs_at_least[j] >= rank.min_legs,
    };
    active
        && pv_units >= rank.min_pv_units
        && qualifying >= i128::from(rank.min_gv_units) * i128::from(RATE_ONE)
        && legs_ok
}

/// The paid-as rank code: the highest rank reached (0 for none).
pub fn paid_as(plan: &Plan, active: bool, pv_units: i64, legs: &LegTotals) -> u8 {
    if !active {
        return 0;
    }
    (0..plan.ranks.len()).rev().find(|&i| reaches(plan, i, active, pv_units, legs)).map_or(0, |i| i as u8 + 1)
}

/// Ranks in breadth-first order.
pub struct BfsRanks {
    /// Paid-as rank code of each position.
    pub rank: Vec<u8>,
    /// The best rank code in each position's subtree (itself included).
    pub best: Vec<u8>,
}

/// Ranks every partner of a rollup, deepest first, in parallel; `gv` is
/// the group volume by breadth-first position (from the same snapshot).
pub fn rank_bfs(input: &RollupInput, gv: &[i64], plan: &Plan) -> BfsRanks {
    debug_assert!(plan.ranks.len() <= MAX_RANKS);
    let n = input.partners();
    let (pv, active) = (input.pv(), input.active());
    let (child_start, depth_start) = (input.child_start(), input.depth_start());
    let mut rank = vec![0u8; n];
    let mut best = vec![0u8; n];
    let depths = depth_start.len() - 1;
    for d in (0..depths).rev() {
        let (start, split) = (depth_start[d] as usize, depth_start[d + 1] as usize);
        let (best_upper, best_children) = best.split_at_mut(split);
        let tasks = (
            rank[start..split].par_chunks_mut(SPONSORS_PER_TASK),
            best_upper[start..].par_chunks_mut(SPONSORS_PER_TASK),
        );
        tasks.into_par_iter().enumerate().for_each(|(task, (rank_s, best_s))| {
            // Cancelled (see `engine/cancel.rs`): the remaining tasks are skipped.
            if input.is_cancelled() {
                return;
            }
            let first = start + task * SPONSORS_PER_TASK;
            for i in 0..rank_s.len() {
                let p = first + i;
                let mut legs = LegTotals::default();
                let mut best_below = 0u8;
                for c in child_start[p] as usize..child_start[p + 1] as usize {
                    let c_best = best_children[c - split];
                    legs.add_leg(plan, gv[c], c_best);
                    best_below = best_below.max(c_best);
                }
                rank_s[i] = paid_as(plan, active[p], pv[p], &legs);
                best_s[i] = rank_s[i].max(best_below);
            }
        });
    }
    BfsRanks { rank, best }
}
