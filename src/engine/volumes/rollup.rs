//! The from-scratch rollup of a period: PV and RV from the orders alone,
//! then GV and every level profile bottom-up, in parallel with rayon.
//!
//! Partners are first laid out breadth-first (roots, then level 1, ...),
//! so each partner's recruits are contiguous and every depth is one slice.
//! Depths are processed deepest first; within a depth each sponsor *pulls*
//! from its own recruits, so rayon can split a depth at any sponsor
//! boundary without locks or atomics, and integer sums make the result
//! identical whatever the number of threads.
//!
//! The layout depends on the genealogy's structure only, so a
//! [`BfsLayout`] is shared (`Arc`) and kept between runs: a capture whose
//! genealogy has the same structure version and arena length reuses it
//! instead of walking the forest again (at 10M the walk is ~0.2 s and
//! 80 MB of fresh pages). Every structural write (a move, a termination)
//! bumps the version and every creation the length, so a kept layout is
//! never stale.

use super::orders::{OrderBook, OrderKind};
use super::period_volumes::{step, zeroed_totals, LevelTotals};
use super::snapshot_memory::written_zeros;
use super::volume_plan::VolumePlan;
use crate::engine::cancel::Cancel;
use crate::engine::genealogy::forest::Genealogy;
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::period::Period;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Sponsors per rayon task: large enough to amortise scheduling.
const SPONSORS_PER_TASK: usize = 4096;

/// The inputs of a rollup, captured from the network under its lock (O(n)
/// copies), so the computation itself can run while writes go on. A clone
/// shares the layout and the cancel flag and copies the columns.
#[derive(Clone)]
pub struct RollupInput {
    plan: VolumePlan,
    arena_len: usize,
    layout: Arc<BfsLayout>,
    pv: Vec<i64>,
    rv: Vec<i64>,
    active: Vec<bool>,
    /// Read by the loops over these inputs once per task (see `cancel.rs`).
    cancel: Arc<Cancel>,
}

/// The live partners laid out breadth-first (roots, then level 1, ...),
/// for one structure of the genealogy. Immutable once built.
#[derive(Debug)]
pub struct BfsLayout {
    /// The genealogy it was built from (none for a restored run's order,
    /// which has no recruits or depths and so never fits a genealogy).
    key: Option<LayoutKey>,
    /// Arena index of each breadth-first position.
    order: Vec<u32>,
    /// First breadth-first position of each position's recruits (len n+1).
    child_start: Vec<u32>,
    /// First position of each depth (the last entry is n).
    depth_start: Vec<u32>,
}

/// What a layout depends on: the genealogy's structure version (bumped by
/// every move and termination) and its arena length (grown by every
/// creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LayoutKey {
    structure_version: u64,
    arena_len: usize,
}

impl LayoutKey {
    fn of(g: &Genealogy) -> LayoutKey {
        LayoutKey { structure_version: g.structure_version(), arena_len: g.len() }
    }
}

impl BfsLayout {
    /// Lays `g`'s live partners out in `memory`'s columns. O(n).
    fn build(g: &Genealogy, memory: &mut InputMemory) -> BfsLayout {
        let n = g.len();
        let mut order = take_cleared(&mut memory.order, n);
        let mut child_start = take_cleared(&mut memory.child_start, n + 1);
        let mut depth_start = vec![0u32];
        g.lay_out_breadth_first(&mut order, &mut child_start, &mut depth_start);
        BfsLayout { key: Some(LayoutKey::of(g)), order, child_start, depth_start }
    }

    /// Whether this is the layout of `g` as it is now.
    pub fn fits(&self, g: &Genealogy) -> bool {
        self.key == Some(LayoutKey::of(g))
    }
}

/// GV and active frontlines of everyone while a rollup sums them.
struct Sums {
    gv: Vec<i64>,
    active_frontline: Vec<u32>,
}

/// The visitor of a full rollup: every profile stays in its output, so
/// nothing is looked at while the depths are summed.
fn keep_all(_first_pos: usize, _gv: &[i64], _profiles: &[LevelTotals], _active_frontline: &[u32]) {}

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

/// Memory the inputs of a rollup are built in: empty (allocated as they
/// are built) or reserved and faulted in beforehand
/// ([`InputMemory::prefaulted`]); the jobs capture on a copy-on-write
/// snapshot with no lock held, so they let it fault in as it goes.
#[derive(Debug, Default)]
pub struct InputMemory {
    /// Per arena index, PV and RV while the orders are summed: zero.
    pub(in crate::engine) sums: Vec<[i64; 2]>,
    /// PV by arena index (overwritten).
    pub(in crate::engine) pv: Vec<i64>,
    /// RV by arena index (overwritten).
    pub(in crate::engine) rv: Vec<i64>,
    /// The period's volume by kind (retail, self-purchase, fee), every order.
    pub(in crate::engine) kind_units: [i128; 3],
    /// A layout kept from an earlier capture: reused if it still fits
    /// the genealogy, else replaced.
    pub(in crate::engine) layout: Option<Arc<BfsLayout>>,
    /// The layout's columns (cleared before use; only their capacity counts).
    pub(in crate::engine) order: Vec<u32>,
    pub(in crate::engine) child_start: Vec<u32>,
    pub(in crate::engine) bfs_pv: Vec<i64>,
    pub(in crate::engine) bfs_rv: Vec<i64>,
    pub(in crate::engine) active: Vec<bool>,
}

/// Makes `values` `len` zeros: truncated when it is long enough (its
/// elements must be zero), else allocated and written in parallel
/// ([`written_zeros`]: the sums are `+=`-ed into, and a read before the
/// first write of a page costs a TLB flush on every core).
fn fit_zeroed<T: Copy + Default + Send>(values: &mut Vec<T>, len: usize) {
    if values.len() >= len {
        values.truncate(len);
    } else {
        *values = written_zeros(len);
    }
}

/// Takes `column` out of its `InputMemory`, empty, with room for `len` (its
/// reserved capacity kept: the pages stay mapped).
fn take_cleared<T>(column: &mut Vec<T>, len: usize) -> Vec<T> {
    let mut column = std::mem::take(column);
    column.clear();
    column.reserve(len);
    column
}

/// PV and RV of every partner in one period, from the orders alone
/// (terminated partners' orders no longer count).
///
/// Orders come in recording order, so each one lands on a random partner:
/// one cache miss per order is the cost floor. PV and RV are therefore
/// summed side by side in one array (one line per order instead of two),
/// and terminated partners are zeroed afterwards instead of checking each
/// order's partner (a third miss): at 10M partners and 10.5M orders,
/// 0.50–0.79 s before these changes, 0.27–0.39 s after (BENCHMARKS.md).
pub fn personal_volumes(g: &Genealogy, orders: &OrderBook, period: Period) -> (Vec<i64>, Vec<i64>) {
    let mut memory = InputMemory::default();
    personal_volumes_in(g, orders, period, &mut memory);
    (memory.pv, memory.rv)
}

/// [`personal_volumes`] into `memory.pv` and `memory.rv`, summing in
/// `memory.sums` (released afterwards).
pub(in crate::engine) fn personal_volumes_in(
    g: &Genealogy,
    orders: &OrderBook,
    period: Period,
    memory: &mut InputMemory,
) {
    let n = g.len();
    fit_zeroed(&mut memory.sums, n);
    let sums = &mut memory.sums;
    // One range of partners per thread: each thread reads every order and
    // sums those of its range (random writes split without atomics); each
    // order is in one range, so the ranges' kind sums add up to the period's.
    let range_len = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let kind_units = sums
        .par_chunks_mut(range_len)
        .enumerate()
        .map(|(r, range)| {
            let first = r * range_len;
            let mut kinds = [0i128; 3];
            orders.for_each_in_period(period, |partner, volume_units, kind| {
                let Some(sum) = (partner as usize).checked_sub(first).and_then(|i| range.get_mut(i)) else { return };
                match kind {
                    OrderKind::Retail => {
                        sum[0] += volume_units;
                        sum[1] += volume_units;
                        kinds[0] += i128::from(volume_units);
                    }
                    OrderKind::SelfPurchase => {
                        sum[0] += volume_units;
                        kinds[1] += i128::from(volume_units);
                    }
                    OrderKind::Fee => kinds[2] += i128::from(volume_units),
                }
            });
            kinds
        })
        .reduce(|| [0; 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]]);
    memory.kind_units = kind_units;
    fit_zeroed(&mut memory.pv, n);
    fit_zeroed(&mut memory.rv, n);
    let live = |x: usize| g.status_at(x as u32) != PartnerStatus::Terminated;
    let (pv, rv) = (&mut memory.pv, &mut memory.rv);
    pv.par_iter_mut().zip(rv.par_iter_mut()).zip(memory.sums.par_iter()).enumerate().for_each(
        |(x, ((pv, rv), sum))| {
            (*pv, *rv) = if live(x) { (sum[0], sum[1]) } else { (0, 0) };
        },
    );
    memory.sums = Vec::new();
}

impl RollupInput {
    /// Lays the live partners out breadth-first and gathers their PV, RV
    /// and activity. O(n).
    pub fn capture(g: &Genealogy, plan: &VolumePlan, pv: &[i64], rv: &[i64]) -> RollupInput {
        RollupInput::capture_in(g, plan, pv, rv, &mut InputMemory::default())
    }

    /// [`RollupInput::capture`] in the layout columns of `memory`.
    pub(in crate::engine) fn capture_in(
        g: &Genealogy,
        plan: &VolumePlan,
        pv: &[i64],
        rv: &[i64],
        memory: &mut InputMemory,
    ) -> RollupInput {
        let n = g.len();
        let layout = match memory.layout.take() {
            Some(kept) if kept.fits(g) => kept,
            _ => Arc::new(BfsLayout::build(g, memory)),
        };
        debug_assert!(layout.fits(g));
        let order = &layout.order;
        let gather = |column: &mut Vec<i64>, by_arena: &[i64]| {
            let mut column = take_cleared(column, order.len());
            column.extend(order.iter().map(|&x| by_arena[x as usize]));
            column
        };
        let pv = gather(&mut memory.bfs_pv, pv);
        let rv = gather(&mut memory.bfs_rv, rv);
        let mut active = take_cleared(&mut memory.active, order.len());
        let is_active =
            |(&x, &p): (&u32, &i64)| g.status_at(x) == PartnerStatus::Enrolled && p >= plan.min_active_pv_units;
        active.extend(order.iter().zip(&pv).map(is_active));
        let cancel = Arc::new(Cancel::new());
        RollupInput { plan: *plan, arena_len: n, layout, pv, rv, active, cancel }
    }

    /// The inputs of a finished run read back from the store: only what
    /// its answers read (the order, PV, RV, activity). There is no layout
    /// of recruits and depths, so these inputs can never be rolled up
    /// again; a restored run is never recomputed.
    pub(crate) fn restored(
        plan: VolumePlan,
        arena_len: usize,
        order: Vec<u32>,
        pv: Vec<i64>,
        rv: Vec<i64>,
        active: Vec<bool>,
    ) -> RollupInput {
        let layout = Arc::new(BfsLayout { key: None, order, child_start: Vec::new(), depth_start: Vec::new() });
        let cancel = Arc::new(Cancel::new());
        RollupInput { plan, arena_len, layout, pv, rv, active, cancel }
    }

    /// Makes the loops over these inputs (the rollup's, the ranks' and a
    /// run's passes) skip their remaining tasks once `cancel` is set.
    pub fn watch(&mut self, cancel: Arc<Cancel>) {
        self.cancel = cancel;
    }

    /// Whether the computation over these inputs was cancelled: its
    /// results are then incomplete and must be dropped.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The breadth-first layout, to keep for the next capture.
    pub fn layout(&self) -> &Arc<BfsLayout> {
        &self.layout
    }

    /// The number of live partners.
    pub fn partners(&self) -> usize {
        self.layout.order.len()
    }

    /// Arena index of each breadth-first position.
    pub fn order(&self) -> &[u32] {
        &self.layout.order
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
        &self.layout.child_start
    }

    /// First position of each depth; the last entry is `partners()`.
    pub fn depth_start(&self) -> &[u32] {
        &self.layout.depth_start
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
        let n = self.layout.order.len();
        let mut sums = Sums { gv: self.pv.clone(), active_frontline: written_zeros(n) };
        let mut profile = zeroed_totals(n * levels);
        for d in (0..self.depths()).rev() {
            let (start, split, end) = self.depth_bounds(d);
            let (upper, lower) = profile.split_at_mut(split * levels);
            let sponsors = &mut upper[start * levels..];
            let children = &lower[..(end - split) * levels];
            self.sum_depth(d, &mut sums, sponsors, children, done, &keep_all);
        }
        BfsRollup { gv: sums.gv, profile, active_frontline: sums.active_frontline }
    }

    /// Computes the same rollup, but keeps the level profiles of two
    /// depths only (the one being summed and the one below it): each
    /// depth's partners are final as soon as their task has summed them,
    /// so `visit(first_pos, gv, profiles, active_frontline)` sees them
    /// there, while they are still in cache, and their profiles are then
    /// dropped. The two buffers hold the widest depth (~9 % of a generated
    /// network) instead of everyone, so a recalculation writes ~1/5 of the
    /// memory and page-faults ~1/5 as many fresh pages. Returns GV and the
    /// active frontlines of everyone (the ranks need every GV).
    pub fn compute_streaming<F>(&self, done: &AtomicU64, visit: &F) -> (Vec<i64>, Vec<u32>)
    where
        F: Fn(usize, &[i64], &[LevelTotals], &[u32]) + Sync,
    {
        let levels = self.plan.levels;
        let widest = (0..self.depths()).map(|d| self.depth_bounds(d)).map(|(s, e, _)| e - s).max().unwrap_or(0);
        let (mut current, mut below) = (zeroed_totals(widest * levels), zeroed_totals(widest * levels));
        let mut sums = Sums { gv: self.pv.clone(), active_frontline: written_zeros(self.layout.order.len()) };
        let mut below_len = 0;
        for d in (0..self.depths()).rev() {
            let (start, split, _) = self.depth_bounds(d);
            let sponsors = &mut current[..(split - start) * levels];
            self.sum_depth(d, &mut sums, sponsors, &below[..below_len], done, visit);
            below_len = sponsors.len();
            std::mem::swap(&mut current, &mut below);
        }
        (sums.gv, sums.active_frontline)
    }

    /// The number of depths (0 for an empty network).
    fn depths(&self) -> usize {
        self.layout.depth_start.len() - 1
    }

    /// First position of depth `d`, of depth `d + 1` and after it.
    fn depth_bounds(&self, d: usize) -> (usize, usize, usize) {
        let at = |i: usize| self.layout.depth_start.get(i).map_or(self.layout.order.len(), |&p| p as usize);
        (at(d), at(d + 1), at(d + 2))
    }

    /// Sums the recruits of depth `d + 1` into their sponsors of depth `d`:
    /// `sponsors` and `children` hold the two depths' profiles (the
    /// sponsors' are overwritten), `sums` everyone's GV and frontline.
    /// Each task then hands its finished sponsors to `visit`.
    fn sum_depth<F>(
        &self,
        d: usize,
        sums: &mut Sums,
        sponsors: &mut [LevelTotals],
        children: &[LevelTotals],
        done: &AtomicU64,
        visit: &F,
    ) where
        F: Fn(usize, &[i64], &[LevelTotals], &[u32]) + Sync,
    {
        let levels = self.plan.levels;
        let (start, split, end) = self.depth_bounds(d);
        debug_assert_eq!(sponsors.len(), (split - start) * levels);
        debug_assert_eq!(children.len(), (end - split) * levels);
        let (gv_upper, gv_children) = sums.gv.split_at_mut(split);
        let tasks = (
            gv_upper[start..].par_chunks_mut(SPONSORS_PER_TASK),
            sponsors.par_chunks_mut(SPONSORS_PER_TASK * levels),
            sums.active_frontline[start..split].par_chunks_mut(SPONSORS_PER_TASK),
        );
        tasks.into_par_iter().enumerate().for_each(|(task, (gv_s, prof_s, af_s))| {
            // A cancelled rollup stops at a task boundary, never inside one.
            if self.cancel.is_cancelled() {
                return;
            }
            let first = start + task * SPONSORS_PER_TASK;
            for i in 0..gv_s.len() {
                let p = first + i;
                let mine = &mut prof_s[i * levels..(i + 1) * levels];
                mine.fill(LevelTotals::default());
                for c in self.layout.child_start[p] as usize..self.layout.child_start[p + 1] as usize {
                    let ci = c - split;
                    let c_active = self.active[c];
                    gv_s[i] += gv_children[ci];
                    af_s[i] += u32::from(c_active);
                    let own = &mut mine[0];
                    own.volume_units += self.pv[c];
                    own.partners += 1;
                    own.active += u32::from(c_active);
                    let shift = step(&self.plan, c_active);
                    let theirs = &children[ci * levels..(ci + 1) * levels];
                    for (k, totals) in theirs.iter().enumerate().take(levels.saturating_sub(shift)) {
                        let target = &mut mine[k + shift];
                        target.volume_units += totals.volume_units;
                        target.partners += totals.partners;
                        target.active += totals.active;
                    }
                }
            }
            let children = self.layout.child_start[first + gv_s.len()] - self.layout.child_start[first];
            // The roots are nobody's recruits: they count once, at depth 0.
            let roots = if d == 0 { gv_s.len() as u32 } else { 0 };
            done.fetch_add(u64::from(children + roots), Ordering::Relaxed);
            visit(first, gv_s, prof_s, af_s);
        });
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
        for (pos, &x) in self.layout.order.iter().enumerate() {
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
