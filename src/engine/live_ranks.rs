//! The live ranks of one open period, kept exact in the same upline walks
//! that keep GV exact (see [`super::period_volumes`]), so a rank query costs
//! O(ranks) whatever the partner's frontline.
//!
//! Per partner `x`: its paid-as rank code, the best rank code in its subtree
//! (itself included), and per rank `i` of the plan one [`LegSlot`]: what its
//! legs add to rank `i`'s qualifying GV and how many of them hold a partner
//! of rank `i` or higher. A leg with GV `g` adds `min(g, cap_i)` to rank `i`;
//! the slot keeps it exact as `below_units` (Σ of the GVs under the cap) and
//! `at_cap` (legs at or over it), so qualifying GV scaled by [`RATE_ONE`] is
//! `PV × RATE_ONE + below_units × RATE_ONE + at_cap × cap_i` with no
//! rounding, and no slot field can overflow: `|below_units|` is at most the
//! period's sum of `|volume|`, bounded by `i64::MAX` when orders are recorded.
//!
//! Memory: `2 + 16 × ranks` bytes per partner and open period (66 B with the
//! reference plan's 4 ranks), only the plan's ranks, never `MAX_RANKS`.
//!
//! A change below a sponsor reaches it as a [`LegChange`]: the leg's (GV,
//! best rank) before and after. The sponsor's slots change by the
//! difference (O(ranks)), its rank and best are re-evaluated (O(ranks): the
//! best of its legs is the highest rank some leg is at least), and its own
//! change goes up to its sponsor, so a write costs O(depth × ranks).
//!
//! Architecture invariant: the live ranks always equal [`rank_bfs`] over a
//! fresh capture of the period with the plan they were built with.

use super::genealogy::{Genealogy, NONE};
use super::plan::{Plan, RATE_ONE};
use super::ranks::{paid_as, rank_bfs, BfsRanks, LegTotals};
use super::rollup::RollupInput;
use rayon::prelude::*;
use std::sync::Arc;

/// Partners per rayon task when the slots are built from scratch.
const PARTNERS_PER_TASK: usize = 4096;

/// What a partner's legs add to one rank of the plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegSlot {
    /// Σ GV of the legs under this rank's leg cap, units of 0.0001.
    pub below_units: i64,
    /// Legs whose GV is at least the cap: each adds exactly the cap.
    pub at_cap: u32,
    /// Legs holding a partner of this rank or higher (best code > index).
    pub at_least: u32,
}

/// One leg as its sponsor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Leg {
    /// GV of the leg (its recruit's GV), units.
    pub gv_units: i64,
    /// The best rank code in the leg.
    pub best: u8,
}

/// How one leg of a sponsor changes: `None` for a leg that is not there
/// (before an attachment, after a detachment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LegChange {
    /// The leg before the change.
    pub old: Option<Leg>,
    /// The leg after it.
    pub new: Option<Leg>,
}

impl LegChange {
    /// A leg joining (`sign` > 0) or leaving (`sign` < 0) its sponsor.
    pub fn attach(leg: Leg, sign: i64) -> LegChange {
        if sign > 0 {
            LegChange { old: None, new: Some(leg) }
        } else {
            LegChange { old: Some(leg), new: None }
        }
    }
}

/// The live ranks of one period (see the module documentation).
pub struct LiveRanks {
    /// The plan whose ranks these are.
    plan: Arc<Plan>,
    /// Per rank: the leg cap `max_leg_share × min_gv`, scaled by [`RATE_ONE`].
    caps: Vec<i128>,
    /// Per rank: a leg with GV (units) below this is under the cap
    /// (`ceil(cap / RATE_ONE)`, so the test is exact on integers).
    thresholds: Vec<i64>,
    /// Paid-as rank code per partner.
    rank: Vec<u8>,
    /// Best rank code in each partner's subtree, itself included.
    best: Vec<u8>,
    /// `caps.len()` slots per partner: index `x * ranks + i`.
    slots: Vec<LegSlot>,
}

impl LiveRanks {
    /// No ranks yet for `partners` partners (all codes 0, no legs).
    pub(super) fn new(plan: Arc<Plan>, partners: usize) -> LiveRanks {
        let caps: Vec<i128> = plan.ranks.iter().map(|r| r.leg_cap_scaled()).collect();
        let one = i128::from(RATE_ONE);
        let thresholds = caps.iter().map(|&c| i64::try_from((c + one - 1) / one).expect("caps fit")).collect();
        let slots = vec![LegSlot::default(); partners * caps.len()];
        LiveRanks { plan, caps, thresholds, rank: vec![0; partners], best: vec![0; partners], slots }
    }

    /// Ranks a whole period from scratch: [`rank_bfs`] over `input` (a
    /// capture of the period) for the codes, then every partner sums its
    /// recruits' legs, in parallel. `gv` is the period's GV by arena index.
    pub(super) fn build(plan: Arc<Plan>, g: &Genealogy, input: &RollupInput, gv: &[i64]) -> LiveRanks {
        let mut live = LiveRanks::new(plan, g.len());
        let bfs_gv: Vec<i64> = input.order().par_iter().map(|&x| gv[x as usize]).collect();
        let BfsRanks { rank, best } = rank_bfs(input, &bfs_gv, &live.plan);
        for (pos, &x) in input.order().iter().enumerate() {
            live.rank[x as usize] = rank[pos];
            live.best[x as usize] = best[pos];
        }
        let r = live.caps.len();
        let (best, thresholds) = (&live.best, &live.thresholds);
        live.slots.par_chunks_mut(r * PARTNERS_PER_TASK).enumerate().for_each(|(task, chunk)| {
            for (i, slots) in chunk.chunks_mut(r).enumerate() {
                let mut c = g.first_child_of((task * PARTNERS_PER_TASK + i) as u32);
                while c != NONE {
                    let leg = Leg { gv_units: gv[c as usize], best: best[c as usize] };
                    add_leg(slots, thresholds, leg, 1);
                    c = g.next_sibling_of(c);
                }
            }
        });
        live
    }

    /// The plan these ranks follow.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// Takes a new version of the plan whose ranks are the same as the
    /// current one's (a change of rates or caps): the codes stay valid.
    pub(super) fn keep_for(&mut self, plan: Arc<Plan>) {
        debug_assert_eq!(plan.ranks, self.plan.ranks);
        self.plan = plan;
    }

    /// Paid-as rank code of every partner by arena index (0: none; `i + 1`:
    /// `plan.ranks[i]`; 0 for terminated partners).
    pub fn codes(&self) -> &[u8] {
        &self.rank
    }

    /// Best rank code in every partner's subtree, by arena index.
    pub fn bests(&self) -> &[u8] {
        &self.best
    }

    /// The paid-as rank code of `x`.
    pub fn rank_of(&self, x: u32) -> u8 {
        self.rank.get(x as usize).copied().unwrap_or(0)
    }

    /// The leg slots of `x`, one per rank.
    pub fn slots_of(&self, x: u32) -> &[LegSlot] {
        let r = self.caps.len();
        self.slots.get(x as usize * r..(x as usize + 1) * r).unwrap_or(&[])
    }

    /// What `x`'s legs add up to, in the form the rank rules take.
    pub fn leg_totals(&self, x: u32) -> LegTotals {
        let mut totals = LegTotals::default();
        for (i, slot) in self.slots_of(x).iter().enumerate() {
            totals.qualifying_scaled[i] =
                i128::from(slot.below_units) * i128::from(RATE_ONE) + i128::from(slot.at_cap) * self.caps[i];
            totals.legs_at_least[i] = slot.at_least;
        }
        totals
    }

    /// Bytes these ranks hold in memory.
    pub fn heap_bytes(&self) -> usize {
        self.rank.capacity() + self.best.capacity() + self.slots.capacity() * size_of::<LegSlot>()
    }

    /// Grows the arrays to `partners` (new partners start with no rank).
    pub(super) fn grow(&mut self, partners: usize) {
        if partners > self.rank.len() {
            self.rank.resize(partners, 0);
            self.best.resize(partners, 0);
            self.slots.resize(partners * self.caps.len(), LegSlot::default());
        }
    }

    /// Forgets `x` (after its termination: no legs, no rank).
    pub(super) fn clear(&mut self, x: u32) {
        let r = self.caps.len();
        let xi = x as usize;
        self.rank[xi] = 0;
        self.best[xi] = 0;
        self.slots[xi * r..(xi + 1) * r].fill(LegSlot::default());
    }

    /// `x` as a leg of its sponsor, with GV `gv_units`.
    pub(super) fn leg(&self, x: u32, gv_units: i64) -> Leg {
        Leg { gv_units, best: self.best[x as usize] }
    }

    /// Re-evaluates `x`'s rank and best from its own PV, activity and legs;
    /// returns its best before and after.
    pub(super) fn rerank(&mut self, x: u32, pv_units: i64, active: bool) -> (u8, u8) {
        let xi = x as usize;
        let r = self.caps.len();
        let rank = paid_as(&self.plan, active, pv_units, &self.leg_totals(x));
        let below = self.slots[xi * r..(xi + 1) * r].iter().rposition(|s| s.at_least > 0).map_or(0, |i| i as u8 + 1);
        let before = self.best[xi];
        self.rank[xi] = rank;
        self.best[xi] = rank.max(below);
        (before, self.best[xi])
    }

    /// Re-ranks `x` after its own PV changed (GV from `gv_before` to
    /// `gv_after`) and returns what that is to its sponsor.
    pub(super) fn rerank_leg(
        &mut self,
        x: u32,
        pv_units: i64,
        active: bool,
        gv_before: i64,
        gv_after: i64,
    ) -> Option<LegChange> {
        let (before, after) = self.rerank(x, pv_units, active);
        leg_change(gv_before, before, gv_after, after)
    }

    /// Applies a change of one of `s`'s legs, re-ranks `s` (PV `pv_units`,
    /// activity `active`, GV from `gv_before` to `gv_after`) and returns the
    /// change `s` makes as a leg of its own sponsor: `None` when nothing
    /// changes further up.
    pub(super) fn climb(
        &mut self,
        s: u32,
        change: LegChange,
        pv_units: i64,
        active: bool,
        gv_before: i64,
        gv_after: i64,
    ) -> Option<LegChange> {
        let best = self.best[s as usize];
        if change.old == change.new {
            return leg_change(gv_before, best, gv_after, best);
        }
        let r = self.caps.len();
        let slots = &mut self.slots[s as usize * r..(s as usize + 1) * r];
        if let Some(old) = change.old {
            add_leg(slots, &self.thresholds, old, -1);
        }
        if let Some(new) = change.new {
            add_leg(slots, &self.thresholds, new, 1);
        }
        let (before, after) = self.rerank(s, pv_units, active);
        leg_change(gv_before, before, gv_after, after)
    }
}

/// A leg's change, or `None` when it does not change at all.
fn leg_change(gv_before: i64, best_before: u8, gv_after: i64, best_after: u8) -> Option<LegChange> {
    let (old, new) = (Leg { gv_units: gv_before, best: best_before }, Leg { gv_units: gv_after, best: best_after });
    (old != new).then_some(LegChange { old: Some(old), new: Some(new) })
}

/// Adds (`sign` 1) or removes (-1) one leg from a partner's slots.
fn add_leg(slots: &mut [LegSlot], thresholds: &[i64], leg: Leg, sign: i32) {
    for (i, (slot, &threshold)) in slots.iter_mut().zip(thresholds).enumerate() {
        if leg.gv_units < threshold {
            slot.below_units += i64::from(sign) * leg.gv_units;
        } else {
            slot.at_cap = slot.at_cap.wrapping_add_signed(sign);
        }
        if usize::from(leg.best) > i {
            slot.at_least = slot.at_least.wrapping_add_signed(sign);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cap test is exact on both sides of a fractional cap.
    #[test]
    fn a_leg_counts_exactly_up_to_a_fractional_cap() {
        let mut draft = super::super::plan::PlanDraft::reference();
        draft.ranks.truncate(1);
        draft.ranks[0].min_gv = "7.25".into();
        draft.ranks[0].max_leg_share = "0.333333".into();
        let plan = Arc::new(draft.validate(1).unwrap());
        let live = LiveRanks::new(plan, 1);
        // cap = 72,500 units × 333,333 ppm = 24,166.642… units.
        assert_eq!(live.caps[0], 72_500 * 333_333);
        assert_eq!(live.thresholds[0], 24_167);
        let mut slots = [LegSlot::default()];
        for gv in [24_166, 24_167, -5] {
            add_leg(&mut slots, &live.thresholds, Leg { gv_units: gv, best: 1 }, 1);
        }
        assert_eq!(slots[0], LegSlot { below_units: 24_161, at_cap: 1, at_least: 3 });
        add_leg(&mut slots, &live.thresholds, Leg { gv_units: 24_167, best: 1 }, -1);
        assert_eq!(slots[0], LegSlot { below_units: 24_161, at_cap: 0, at_least: 2 });
    }
}
