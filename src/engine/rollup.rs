//! The from-scratch rollup of a period: PV and RV from the orders alone,
//! then GV and every level profile bottom-up, in parallel with rayon.
//!
//! Partners are first laid out breadth-first (roots, then level 1, ...),
//! so each partner's recruits are contiguous and every depth is one slice.
//! Depths are processed deepest first; within a depth each sponsor *pulls*
//! from its own recruits, so rayon can split a depth at any sponsor
//! boundary without locks or atomics, and integer sums make the result
//! identical whatever the number of threads.

use super::genealogy::{Genealogy, NONE};
use super::orders::{OrderBook, OrderKind};
use super::period::Period;
use super::period_volumes::{step, zeroed_totals, LevelTotals};
use super::status::Status;
use super::volume_plan::VolumePlan;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sponsors per rayon task: large enough to amortise scheduling.
const SPONSORS_PER_TASK: usize = 4096;

/// The inputs of a rollup, captured from the network under its lock (O(n)
/// copies), so the computation itself can run while writes go on.
pub struct RollupInput {
    plan: VolumePlan,
    arena_len: usize,
    /// Arena index of each breadth-first position.
    order: Vec<u32>,
    /// First breadth-first position of each position's recruits (len n+1).
    child_start: Vec<u32>,
    /// First position of each depth (the last entry is n).
    depth_start: Vec<u32>,
    pv: Vec<i64>,
    rv: Vec<i64>,
    active: Vec<bool>,
}

/// A computed rollup in breadth-first order (position `pos` is partner
/// `order[pos]` of its [`RollupInput`]).
pub struct BfsRollup {
    /// Group volume.
    pub gv: Vec<i64>,
    /// `levels` entries per position.
    pub profile: Vec<LevelTotals>,
    /// Active direct recruits.
    pub active_frontline: Vec<u32>,
}

/// A computed rollup, by arena index (terminated partners are all zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    /// Personal volume.
    pub pv: Vec<i64>,
    /// Retail volume.
    pub rv: Vec<i64>,
    /// Group volume.
    pub gv: Vec<i64>,
    /// `levels` entries per partner.
    pub profile: Vec<LevelTotals>,
    /// Active direct recruits.
    pub active_frontline: Vec<u32>,
}

/// PV and RV of every partner in one period, from the orders alone
/// (terminated partners' orders no longer count).
pub fn personal_volumes(g: &Genealogy, orders: &OrderBook, period: Period) -> (Vec<i64>, Vec<i64>) {
    let mut pv = vec![0i64; g.len()];
    let mut rv = vec![0i64; g.len()];
    orders.for_each_in_period(period, |partner, volume_units, kind| {
        let p = partner as usize;
        if p >= pv.len() || g.status_of(partner) == Status::Terminated {
            return;
        }
        match kind {
            OrderKind::Retail => {
                pv[p] += volume_units;
                rv[p] += volume_units;
            }
            OrderKind::SelfPurchase => pv[p] += volume_units,
            OrderKind::Fee => {}
        }
    });
    (pv, rv)
}

impl RollupInput {
    /// Lays the live partners out breadth-first and gathers their PV, RV
    /// and activity. O(n).
    pub fn capture(g: &Genealogy, plan: &VolumePlan, pv: &[i64], rv: &[i64]) -> RollupInput {
        let n = g.len();
        let mut order: Vec<u32> =
            (0..n as u32).filter(|&x| g.sponsor_of(x) == NONE && g.status_of(x) != Status::Terminated).collect();
        order.reserve(n.saturating_sub(order.len()));
        let mut child_start = Vec::with_capacity(n + 1);
        let mut depth_start = vec![0u32];
        let mut depth_end = order.len();
        let mut head = 0;
        while head < order.len() {
            if head == depth_end {
                depth_start.push(head as u32);
                depth_end = order.len();
            }
            child_start.push(order.len() as u32);
            let mut child = g.first_child_of(order[head]);
            while child != NONE {
                order.push(child);
                child = g.next_sibling_of(child);
            }
            head += 1;
        }
        child_start.push(order.len() as u32);
        depth_start.push(order.len() as u32);
        let pv: Vec<i64> = order.iter().map(|&x| pv[x as usize]).collect();
        let rv: Vec<i64> = order.iter().map(|&x| rv[x as usize]).collect();
        let active = order
            .iter()
            .zip(&pv)
            .map(|(&x, &p)| g.status_of(x) == Status::Enrolled && p >= plan.min_active_pv_units)
            .collect();
        RollupInput { plan: *plan, arena_len: n, order, child_start, depth_start, pv, rv, active }
    }

    /// The number of live partners.
    pub fn partners(&self) -> usize {
        self.order.len()
    }

    /// Arena index of each breadth-first position.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// PV by breadth-first position.
    pub fn pv(&self) -> &[i64] {
        &self.pv
    }

    /// RV by breadth-first position.
    pub fn rv(&self) -> &[i64] {
        &self.rv
    }

    /// Whether each breadth-first position is active.
    pub fn active(&self) -> &[bool] {
        &self.active
    }

    /// First position of each position's recruits (len `partners() + 1`).
    pub fn child_start(&self) -> &[u32] {
        &self.child_start
    }

    /// First position of each depth; the last entry is `partners()`.
    pub fn depth_start(&self) -> &[u32] {
        &self.depth_start
    }

    /// Levels per partner.
    pub fn levels(&self) -> usize {
        self.plan.levels
    }

    /// Computes and returns the rollup by arena index.
    pub fn compute(&self, done: &AtomicU64) -> Rollup {
        let bfs = self.compute_bfs(done);
        self.scatter(bfs)
    }

    /// Computes GV and the level profiles in breadth-first order; `done`
    /// counts partners whose contribution is summed (it ends at `partners()`).
    pub fn compute_bfs(&self, done: &AtomicU64) -> BfsRollup {
        let levels = self.plan.levels;
        let n = self.order.len();
        let mut gv = self.pv.clone();
        let mut profile = zeroed_totals(n * levels);
        let mut active_frontline = vec![0u32; n];
        let depths = self.depth_start.len() - 1;
        for d in (0..depths.saturating_sub(1)).rev() {
            let (start, split) = (self.depth_start[d] as usize, self.depth_start[d + 1] as usize);
            let (gv_upper, gv_children) = gv.split_at_mut(split);
            let (prof_upper, prof_children) = profile.split_at_mut(split * levels);
            let sponsors = (
                gv_upper[start..].par_chunks_mut(SPONSORS_PER_TASK),
                prof_upper[start * levels..].par_chunks_mut(SPONSORS_PER_TASK * levels),
                active_frontline[start..split].par_chunks_mut(SPONSORS_PER_TASK),
            );
            sponsors.into_par_iter().enumerate().for_each(|(task, (gv_s, prof_s, af_s))| {
                let first = start + task * SPONSORS_PER_TASK;
                for i in 0..gv_s.len() {
                    let p = first + i;
                    let mine = &mut prof_s[i * levels..(i + 1) * levels];
                    for c in self.child_start[p] as usize..self.child_start[p + 1] as usize {
                        let ci = c - split;
                        let c_active = self.active[c];
                        gv_s[i] += gv_children[ci];
                        af_s[i] += u32::from(c_active);
                        let own = &mut mine[0];
                        own.volume_units += self.pv[c];
                        own.partners += 1;
                        own.active += u32::from(c_active);
                        let shift = step(&self.plan, c_active);
                        let theirs = &prof_children[ci * levels..(ci + 1) * levels];
                        for (k, totals) in theirs.iter().enumerate().take(levels.saturating_sub(shift)) {
                            let target = &mut mine[k + shift];
                            target.volume_units += totals.volume_units;
                            target.partners += totals.partners;
                            target.active += totals.active;
                        }
                    }
                }
                let children = self.child_start[first + gv_s.len()] - self.child_start[first];
                done.fetch_add(u64::from(children), Ordering::Relaxed);
            });
        }
        let roots = self.depth_start.get(1).copied().unwrap_or(0);
        done.fetch_add(u64::from(roots), Ordering::Relaxed);
        BfsRollup { gv, profile, active_frontline }
    }

    /// Moves breadth-first results back to arena order.
    fn scatter(&self, bfs: BfsRollup) -> Rollup {
        let levels = self.plan.levels;
        let mut out = Rollup {
            pv: vec![0; self.arena_len],
            rv: vec![0; self.arena_len],
            gv: vec![0; self.arena_len],
            profile: zeroed_totals(self.arena_len * levels),
            active_frontline: vec![0; self.arena_len],
        };
        for (pos, &x) in self.order.iter().enumerate() {
            let x = x as usize;
            out.pv[x] = self.pv[pos];
            out.rv[x] = self.rv[pos];
            out.gv[x] = bfs.gv[pos];
            out.active_frontline[x] = bfs.active_frontline[pos];
            out.profile[x * levels..(x + 1) * levels].copy_from_slice(&bfs.profile[pos * levels..(pos + 1) * levels]);
        }
        out
    }
}
