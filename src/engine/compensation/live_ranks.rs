//! The live ranks of one open period, kept exact in the same upline walks
//! that keep GV exact (see [`crate::engine::volumes::period_volumes`]), so a rank query costs
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
//! change goes up to its sponsor, so a write costs O(depth × ranks). Most
//! steps are cheaper: a leg over every cap before and after changes no slot
//! (the usual case high in the upline: nothing is read), a change that
//! leaves the slots or an inactive sponsor's leg counts alone re-ranks
//! nothing, and a best that does not change is carried up as 0 on both
//! sides (only the difference matters to the sponsor), so the codes are
//! read and written only where a rank may change.
//!
//! Architecture invariant: the live ranks always equal [`rank_bfs`] over a
//! fresh capture of the period with the plan they were built with.

use super::plan::{Plan, RATE_ONE};
use super::ranks::{paid_as, rank_bfs, BfsRanks, LegTotals};
use crate::engine::cow_column::{ColumnBytes, CowColumn};
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::volumes::rollup::RollupInput;
use rayon::prelude::*;
use std::sync::Arc;

/// Partners per rayon task when the slots are built from scratch.
const PARTNERS_PER_TASK: usize = 4096;

/// What a partner's legs add to one rank of the plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct LegSlot {
    /// Σ GV of the legs under this rank's leg cap, units of 0.0001.
    pub below_units: i64,
    /// Legs whose GV is at least the cap: each adds exactly the cap.
    pub at_cap: u32,
    /// Legs holding a partner of this rank or higher (best code > index).
    pub at_least: u32,
}

/// One leg as its sponsor sees it. In a [`LegChange`] whose best does not
/// change, both sides carry `best` 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::engine) struct Leg {
    /// GV of the leg (its recruit's GV), units.
    pub gv_units: i64,
    /// The best rank code in the leg.
    pub best: u8,
}

/// How one leg of a sponsor changes: `None` for a leg that is not there
/// (before an attachment, after a detachment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::engine) struct LegChange {
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
#[derive(Clone)]
pub struct LiveRanks {
    /// The plan whose ranks these are.
    plan: Arc<Plan>,
    /// Per rank: the leg cap `max_leg_share × min_gv`, scaled by [`RATE_ONE`].
    caps: Vec<i128>,
    /// Per rank: a leg with GV (units) below this is under the cap
    /// (`ceil(cap / RATE_ONE)`, so the test is exact on integers).
    thresholds: Vec<i64>,
    /// The highest threshold: a leg at least this is at every cap.
    top_threshold: i64,
    /// Per partner: its paid-as rank code and the best rank code in its
    /// subtree, itself included (together: one cache line to touch).
    codes: CowColumn<[u8; 2]>,
    /// A row of `caps.len()` slots per partner: `slots.row(x)[i]`.
    slots: CowColumn<LegSlot>,
}

impl LiveRanks {
    /// No ranks yet for `partners` partners (all codes 0, no legs).
    pub(in crate::engine) fn new(plan: Arc<Plan>, partners: usize) -> LiveRanks {
        let caps: Vec<i128> = plan.ranks.iter().map(|r| r.leg_cap_scaled()).collect();
        let one = i128::from(RATE_ONE);
        let thresholds: Vec<i64> =
            caps.iter().map(|&c| i64::try_from((c + one - 1) / one).expect("caps fit")).collect();
        let top_threshold = thresholds.iter().copied().max().unwrap_or(0);
        let slots = CowColumn::zeroed(partners * caps.len(), caps.len().max(1));
        let codes = CowColumn::zeroed(partners, 1);
        LiveRanks { plan, caps, thresholds, top_threshold, codes, slots }
    }

    /// Ranks a whole period from scratch: [`rank_bfs`] over `input` (a
    /// capture of the period) for the codes, then every partner sums its
    /// recruits' legs, in parallel. `gv` is the period's GV by arena index.
    pub(in crate::engine) fn build(
        plan: Arc<Plan>,
        g: &Genealogy,
        input: &RollupInput,
        gv: &CowColumn<i64>,
    ) -> LiveRanks {
        let mut live = LiveRanks::new(plan, g.len());
        let bfs_gv: Vec<i64> = input.order().par_iter().map(|&x| gv[x as usize]).collect();
        let BfsRanks { rank, best } = rank_bfs(input, &bfs_gv, &live.plan);
        for (pos, &x) in input.order().iter().enumerate() {
            live.codes[x as usize] = [rank[pos], best[pos]];
        }
        let r = live.caps.len();
        let (codes, thresholds) = (&live.codes, &live.thresholds);
        live.slots.par_chunks_mut().for_each(|(first_row, column_chunk)| {
            column_chunk.par_chunks_mut(r * PARTNERS_PER_TASK).enumerate().for_each(|(task, chunk)| {
                for (i, slots) in chunk.chunks_mut(r).enumerate() {
                    let mut c = g.first_child_at((first_row + task * PARTNERS_PER_TASK + i) as u32);
                    while c != NONE {
                        let leg = Leg { gv_units: gv[c as usize], best: codes[c as usize][1] };
                        replace_leg(slots, thresholds, LegChange::attach(leg, 1));
                        c = g.next_sibling_at(c);
                    }
                }
            });
        });
        live
    }

    /// The plan these ranks follow.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// Takes a new version of the plan whose ranks are the same as the
    /// current one's (a change of rates or caps): the codes stay valid.
    pub(in crate::engine) fn keep_for(&mut self, plan: Arc<Plan>) {
        debug_assert_eq!(plan.ranks, self.plan.ranks);
        self.plan = plan;
    }

    /// Per partner by arena index: `[paid-as rank code, best rank code in
    /// its subtree]` (0: none; `i + 1`: `plan.ranks[i]`; `[0, 0]` for a
    /// terminated partner).
    pub fn codes(&self) -> &CowColumn<[u8; 2]> {
        &self.codes
    }

    /// The paid-as rank code of `x`.
    pub fn rank_of(&self, x: u32) -> u8 {
        self.codes.get(x as usize).map_or(0, |c| c[0])
    }

    /// The best rank code in `x`'s subtree, itself included.
    pub fn best_of(&self, x: u32) -> u8 {
        self.codes.get(x as usize).map_or(0, |c| c[1])
    }

    /// The leg slots of `x`, one per rank.
    pub fn slots_of(&self, x: u32) -> &[LegSlot] {
        if (x as usize) < self.slots.rows() && !self.caps.is_empty() {
            self.slots.row(x as usize)
        } else {
            &[]
        }
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
        self.codes.heap_bytes() + self.slots.heap_bytes()
    }

    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        self.codes.bytes() + self.slots.bytes()
    }

    /// These ranks' plan and caps without their columns (see
    /// `PeriodVolumes::hollow`).
    pub(in crate::engine) fn hollow(&self) -> LiveRanks {
        LiveRanks {
            plan: Arc::clone(&self.plan),
            caps: self.caps.clone(),
            thresholds: self.thresholds.clone(),
            top_threshold: self.top_threshold,
            codes: self.codes.empty_like(),
            slots: self.slots.empty_like(),
        }
    }

    /// Private copies of both columns' chunks of rows `rows` (see
    /// `PeriodVolumes::unshare`).
    pub(in crate::engine) fn unshare_rows(&mut self, rows: std::ops::Range<usize>) {
        self.slots.unshare_rows(rows.clone());
        self.codes.unshare_rows(rows);
    }

    /// Grows the arrays to `partners` (new partners start with no rank).
    pub(in crate::engine) fn grow(&mut self, partners: usize) {
        if partners > self.codes.len() {
            self.codes.resize(partners, [0; 2]);
            self.slots.resize(partners * self.caps.len(), LegSlot::default());
        }
    }

    /// Forgets `x` (after its termination: no legs, no rank).
    pub(in crate::engine) fn clear(&mut self, x: u32) {
        let xi = x as usize;
        self.codes[xi] = [0; 2];
        if !self.caps.is_empty() {
            self.slots.row_mut(xi).fill(LegSlot::default());
        }
    }

    /// `x` as a leg of its sponsor, with GV `gv_units`.
    pub(in crate::engine) fn leg(&self, x: u32, gv_units: i64) -> Leg {
        Leg { gv_units, best: self.codes[x as usize][1] }
    }

    /// Re-evaluates `x`'s rank and best from its own PV, activity and legs;
    /// returns its best before and after.
    pub(in crate::engine) fn rerank(&mut self, x: u32, pv_units: i64, active: bool) -> (u8, u8) {
        let xi = x as usize;
        let rank = if active { paid_as(&self.plan, active, pv_units, &self.leg_totals(x)) } else { 0 };
        let below = self.slots_of(x).iter().rposition(|s| s.at_least > 0).map_or(0, |i| i as u8 + 1);
        let codes = [rank, rank.max(below)];
        let before = self.codes[xi][1];
        if self.codes[xi] != codes {
            self.codes[xi] = codes;
        }
        (before, codes[1])
    }

    /// Sums `x`'s legs again from its recruits in `g` (GV from `gv`, bests
    /// from these ranks, so recruits go first) and re-evaluates its rank:
    /// how a re-ranking takes in a row the writes touched after its
    /// snapshot. O(recruits × ranks).
    pub(in crate::engine) fn rederive(
        &mut self,
        g: &Genealogy,
        x: u32,
        gv: &CowColumn<i64>,
        pv_units: i64,
        active: bool,
    ) {
        if !self.caps.is_empty() {
            let (slots, codes, thresholds) = (self.slots.row_mut(x as usize), &self.codes, &self.thresholds);
            slots.fill(LegSlot::default());
            let mut c = g.first_child_at(x);
            while c != NONE {
                let leg = Leg { gv_units: gv[c as usize], best: codes[c as usize][1] };
                replace_leg(slots, thresholds, LegChange::attach(leg, 1));
                c = g.next_sibling_at(c);
            }
        }
        self.rerank(x, pv_units, active);
    }

    /// Re-ranks `x` after its own PV changed (GV from `gv_before` to
    /// `gv_after`) and returns what that is to its sponsor.
    pub(in crate::engine) fn rerank_leg(
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
    pub(in crate::engine) fn climb(
        &mut self,
        s: u32,
        change: LegChange,
        pv_units: i64,
        active: bool,
        gv_before: i64,
        gv_after: i64,
    ) -> Option<LegChange> {
        let over_caps = match (change.old, change.new) {
            (Some(old), Some(new)) => old.best == new.best && old.gv_units.min(new.gv_units) >= self.top_threshold,
            _ => false,
        };
        if over_caps || change.old == change.new {
            return leg_change(gv_before, 0, gv_after, 0);
        }
        let slots = self.slots.row_mut(s as usize);
        let (slots_changed, counts_changed) = replace_leg(slots, &self.thresholds, change);
        // An inactive partner has no rank: only its legs' counts move its best.
        if !slots_changed || (!active && !counts_changed) {
            return leg_change(gv_before, 0, gv_after, 0);
        }
        let (best_before, best_after) = self.rerank(s, pv_units, active);
        leg_change(gv_before, best_before, gv_after, best_after)
    }
}

/// A leg's change, or `None` when it does not change at all; a best that
/// does not change is carried as 0 on both sides.
fn leg_change(gv_before: i64, best_before: u8, gv_after: i64, best_after: u8) -> Option<LegChange> {
    let (b0, b1) = if best_before == best_after { (0, 0) } else { (best_before, best_after) };
    let (old, new) = (Leg { gv_units: gv_before, best: b0 }, Leg { gv_units: gv_after, best: b1 });
    (old != new).then_some(LegChange { old: Some(old), new: Some(new) })
}

/// Replaces one leg of a partner's slots by its new state; returns whether
/// any slot changed, and whether a count of legs at least a rank did.
fn replace_leg(slots: &mut [LegSlot], thresholds: &[i64], change: LegChange) -> (bool, bool) {
    // (below, at cap, at least) of one leg for rank i with threshold t.
    let part = |leg: Option<Leg>, i: usize, t: i64| match leg {
        None => (0, 0, 0),
        Some(l) if l.gv_units < t => (l.gv_units, 0, i32::from(usize::from(l.best) > i)),
        Some(l) => (0, 1, i32::from(usize::from(l.best) > i)),
    };
    let (mut any, mut counts) = (false, false);
    for (i, (slot, &t)) in slots.iter_mut().zip(thresholds).enumerate() {
        let (old, new) = (part(change.old, i, t), part(change.new, i, t));
        if old != new {
            slot.below_units += new.0 - old.0;
            slot.at_cap = slot.at_cap.wrapping_add_signed(new.1 - old.1);
            slot.at_least = slot.at_least.wrapping_add_signed(new.2 - old.2);
            any = true;
            counts |= new.2 != old.2;
        }
    }
    (any, counts)
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
        let mut add = |gv_units: i64, sign: i64| {
            replace_leg(&mut slots, &live.thresholds, LegChange::attach(Leg { gv_units, best: 1 }, sign))
        };
        for gv in [24_166, 24_167, -5] {
            assert_eq!(add(gv, 1), (true, true));
        }
        assert_eq!(add(24_167, -1), (true, true));
        assert_eq!(slots[0], LegSlot { below_units: 24_161, at_cap: 0, at_least: 2 });
        // Over the cap before and after, same best: nothing changes.
        let change =
            LegChange { old: Some(Leg { gv_units: 30_000, best: 0 }), new: Some(Leg { gv_units: 40_000, best: 0 }) };
        assert_eq!(replace_leg(&mut slots, &live.thresholds, change), (false, false));
    }
}
