//! The live volumes of one open period, kept exact after every order, creation,
//! move, status change and termination, so a query reads them in O(L).
//!
//! For each partner `x`: PV, RV, GV, and its *level profile*: for each
//! level k in 1..=L, the volume, partners and active partners of its
//! downline at (compressed) level k. A change below `x` reaches every
//! ancestor within L levels, so a write costs O(depth + reach × L).
//!
//! The one rule everything follows from: a partner `y` at level `la` below
//! an ancestor `a` puts its own PV at `la`, and every partner at level `j`
//! of its own profile at `la + step(y) + j - 1`, where `step(y)` is 1
//! without compression and `[y active]` with it.
//!
//! The same walks keep the period's live ranks ([`LiveRanks`]) exact: each
//! ancestor whose GV changes passes the change of its leg to its sponsor.
//!
//! Architecture invariant: the live arrays always equal a from-scratch
//! rollup of the period's orders over the current genealogy (checked by
//! RecalculateVolumes and by the property tests).

use super::touched::TouchLog;
use super::volume_plan::{VolumePlan, MAX_LEVELS};
use crate::engine::compensation::live_ranks::{LegChange, LiveRanks};
use crate::engine::compensation::plan::Plan;
use crate::engine::cow_column::{ColumnBytes, CowColumn};
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::period::Period;
use std::sync::Arc;

/// The volume, partners and active partners of one level below a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, bytemuck::Zeroable)]
pub struct LevelTotals {
    /// Sum of PV at this level, units of 0.0001.
    pub volume_units: i64,
    /// Partners at this level.
    pub partners: u32,
    /// Active partners at this level.
    pub active: u32,
}

/// `len` zeroed level totals, from zeroed memory: the pages are not
/// touched here, so the kernel zero-fills each one on its first write, by
/// whichever rayon thread writes it. `vec![LevelTotals::default(); len]`
/// writes every element on one thread first: at 7 levels that faulted in
/// 112 MB per million partners at ~2.6 µs per 4 KiB page on this project's
/// VM, 83 ms of a 1M rollup's ~100 (BENCHMARKS.md).
pub fn zeroed_totals(len: usize) -> Vec<LevelTotals> {
    bytemuck::zeroed_vec(len)
}

impl LevelTotals {
    fn add(&mut self, volume_units: i64, partners: i64, active: i64) {
        self.volume_units += volume_units;
        self.partners = (i64::from(self.partners) + partners) as u32;
        self.active = (i64::from(self.active) + active) as u32;
    }
}

/// The live volumes of one period, in columns a snapshot shares.
/// Rows [`PeriodVolumes::unshare`] copies in one step, in every column
/// (~15 MB at 7 levels).
const UNSHARE_ROWS_PER_STEP: usize = 65_536;

#[derive(Clone)]
pub struct PeriodVolumes {
    /// The period.
    pub period: Period,
    pub(in crate::engine) levels: usize,
    pub(in crate::engine) pv: CowColumn<i64>,
    pub(in crate::engine) rv: CowColumn<i64>,
    pub(in crate::engine) gv: CowColumn<i64>,
    /// A row of `levels` entries per partner: `profile.row(x)[k - 1]`.
    pub(in crate::engine) profile: CowColumn<LevelTotals>,
    pub(in crate::engine) active_frontline: CowColumn<u32>,
    /// Sum of |volume| of every order of the period: bounds every partial
    /// sum, so no rollup can overflow an i64 (checked when recording).
    pub(in crate::engine) absolute_units: i128,
    /// Sum of the FEE orders (never volume), for the compliance report.
    pub(in crate::engine) fee_units: i128,
    /// Orders recorded in the period, fees included.
    pub(in crate::engine) order_count: u64,
    /// The live ranks, kept exact by the same walks.
    pub(in crate::engine) ranks: LiveRanks,
    /// The partners touched while a background re-ranking runs (`touched.rs`).
    pub(in crate::engine) touched: TouchLog,
}

/// What a query shows of one partner in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeView {
    /// Personal volume.
    pub pv_units: i64,
    /// Retail volume.
    pub rv_units: i64,
    /// Group volume.
    pub gv_units: i64,
    /// Levels 1..=L.
    pub levels: Vec<LevelTotals>,
    /// Whether the partner is active.
    pub active: bool,
    /// Direct recruits.
    pub frontline: u32,
    /// Active direct recruits.
    pub active_frontline: u32,
}

impl VolumeView {
    /// Partner `x`'s volumes in a period without any order yet: zeros,
    /// its frontline count, and `plan.levels` levels of zeros. The level
    /// partner counts come from a period's rollup, which starts with its
    /// first order (README: GetVolumes), so they are zero too.
    pub fn before_orders(g: &Genealogy, plan: &VolumePlan, x: u32) -> VolumeView {
        VolumeView {
            pv_units: 0,
            rv_units: 0,
            gv_units: 0,
            levels: vec![LevelTotals::default(); plan.levels],
            active: g.status_at(x) == PartnerStatus::Enrolled && plan.min_active_pv_units <= 0,
            frontline: g.frontline_count_at(x),
            active_frontline: 0,
        }
    }

    /// LV_1 + … + LV_L.
    pub fn level_capped_units(&self) -> i128 {
        self.levels.iter().map(|l| i128::from(l.volume_units)).sum()
    }
}

/// How many levels a partner occupies between an ancestor and its own
/// downline: always 1 without compression, 1 only when active with it.
pub fn step(plan: &VolumePlan, active: bool) -> usize {
    if plan.compression {
        usize::from(active)
    } else {
        1
    }
}

impl PeriodVolumes {
    /// Empty volumes for `partners` partners, ranked by `ranks_plan`.
    pub fn new(period: Period, plan: &VolumePlan, ranks_plan: Arc<Plan>, partners: usize) -> PeriodVolumes {
        PeriodVolumes {
            period,
            levels: plan.levels,
            pv: CowColumn::zeroed(partners, 1),
            rv: CowColumn::zeroed(partners, 1),
            gv: CowColumn::zeroed(partners, 1),
            profile: CowColumn::zeroed(partners * plan.levels, plan.levels),
            active_frontline: CowColumn::zeroed(partners, 1),
            absolute_units: 0,
            fee_units: 0,
            order_count: 0,
            ranks: LiveRanks::new(ranks_plan, partners),
            touched: TouchLog::Off,
        }
    }

    /// The live ranks of the period.
    pub fn ranks(&self) -> &LiveRanks {
        &self.ranks
    }

    /// Re-evaluates `x`'s own rank (after a change of its status or at its
    /// creation, before it is attached to its sponsor).
    pub(in crate::engine) fn rerank(&mut self, g: &Genealogy, plan: &VolumePlan, x: u32) {
        let active = self.is_active(g, plan, x);
        self.touched.record(x);
        self.ranks.rerank(x, self.pv[x as usize], active);
    }

    /// Whether `x` is active: enrolled with PV at least the plan's minimum.
    pub fn is_active(&self, g: &Genealogy, plan: &VolumePlan, x: u32) -> bool {
        g.status_at(x) == PartnerStatus::Enrolled && self.pv_of(x) >= plan.min_active_pv_units
    }

    /// The PV of a partner (0 for one created after the period closed).
    pub fn pv_of(&self, x: u32) -> i64 {
        self.pv.get(x as usize).copied().unwrap_or(0)
    }

    /// The RV of a partner.
    pub fn rv_of(&self, x: u32) -> i64 {
        self.rv.get(x as usize).copied().unwrap_or(0)
    }

    /// LV_k of partner `x` (k in 1..=levels).
    pub fn level_volume_units(&self, x: u32, k: usize) -> i64 {
        let x = x as usize;
        if x < self.profile.rows() {
            self.profile.row(x).get(k - 1).map_or(0, |t| t.volume_units)
        } else {
            0
        }
    }

    /// The totals kept once the period closes.
    pub fn totals(&self) -> (u64, i128) {
        (self.order_count, self.fee_units)
    }

    /// Orders recorded in the period, fees included.
    pub fn order_count(&self) -> u64 {
        self.order_count
    }

    /// The sum of all FEE orders of the period.
    pub fn fee_units(&self) -> i128 {
        self.fee_units
    }

    /// The query view of a partner.
    pub fn view(&self, g: &Genealogy, plan: &VolumePlan, x: u32) -> VolumeView {
        let i = x as usize;
        let known = i < self.pv.len();
        let levels = if known { self.profile.row(i).to_vec() } else { vec![LevelTotals::default(); self.levels] };
        VolumeView {
            pv_units: self.pv_of(x),
            rv_units: self.rv_of(x),
            gv_units: self.gv.get(i).copied().unwrap_or(0),
            levels,
            active: known && self.is_active(g, plan, x),
            frontline: g.frontline_count_at(x),
            active_frontline: self.active_frontline.get(i).copied().unwrap_or(0),
        }
    }

    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        let scalars = [&self.pv, &self.rv, &self.gv].map(CowColumn::bytes);
        scalars.into_iter().fold(self.profile.bytes() + self.active_frontline.bytes(), |a, b| a + b)
            + self.ranks.bytes()
    }

    /// This period for a snapshot that reads its inputs only: the counters
    /// and PV/RV (shared: an order rewrites one chunk of each), without the
    /// columns every order's upline walk rewrites (GV, level profiles,
    /// active frontlines, live ranks: left empty). A write to the live
    /// period then never copies a chunk of those for this snapshot's sake.
    /// Reading a hollow period's live figures is a bug (they are empty).
    pub(in crate::engine) fn hollow(&self) -> PeriodVolumes {
        PeriodVolumes {
            period: self.period,
            levels: self.levels,
            pv: self.pv.clone(),
            rv: self.rv.clone(),
            gv: self.gv.empty_like(),
            profile: self.profile.empty_like(),
            active_frontline: self.active_frontline.empty_like(),
            absolute_units: self.absolute_units,
            fee_units: self.fee_units,
            order_count: self.order_count,
            ranks: self.ranks.hollow(),
            touched: TouchLog::Off,
        }
    }

    /// A copy of every column, O(chunks), without the touch log (a
    /// recalculation compares with these figures and never reads the log,
    /// which holds up to 4M rows while a plan change runs).
    pub(in crate::engine) fn figures(&self) -> PeriodVolumes {
        PeriodVolumes {
            period: self.period,
            levels: self.levels,
            pv: self.pv.clone(),
            rv: self.rv.clone(),
            gv: self.gv.clone(),
            profile: self.profile.clone(),
            active_frontline: self.active_frontline.clone(),
            absolute_units: self.absolute_units,
            fee_units: self.fee_units,
            order_count: self.order_count,
            ranks: self.ranks.clone(),
            touched: TouchLog::Off,
        }
    }

    /// Gives this copy (a snapshot's) private chunks of every column, so
    /// the live period stops sharing them (see [`CowColumn::unshare`]).
    ///
    /// Row-major, oldest rows first: every column's chunks of the first
    /// [`UNSHARE_ROWS_PER_STEP`] rows, then the next ones. The
    /// oldest partners are everyone's uplines, so their chunks are the ones
    /// nearly every live write touches: once they are private, a write
    /// copies only the chunks of its own deeper rows not reached yet.
    pub(in crate::engine) fn unshare(&mut self) {
        let rows = self.pv.rows();
        for first in (0..rows).step_by(UNSHARE_ROWS_PER_STEP) {
            let range = first..first + UNSHARE_ROWS_PER_STEP;
            let PeriodVolumes { pv, rv, gv, profile, active_frontline, ranks, .. } = self;
            rayon::scope(|s| {
                s.spawn(|_| profile.unshare_rows(range.clone()));
                s.spawn(|_| ranks.unshare_rows(range.clone()));
                s.spawn(|_| gv.unshare_rows(range.clone()));
                s.spawn(|_| active_frontline.unshare_rows(range.clone()));
                s.spawn(|_| pv.unshare_rows(range.clone()));
                s.spawn(|_| rv.unshare_rows(range.clone()));
            });
        }
    }

    /// Grows the arrays to the genealogy's size (new partners start at 0).
    pub(in crate::engine) fn grow(&mut self, partners: usize) {
        if partners > self.pv.len() {
            self.pv.resize(partners, 0);
            self.rv.resize(partners, 0);
            self.gv.resize(partners, 0);
            self.profile.resize(partners * self.levels, LevelTotals::default());
            self.active_frontline.resize(partners, 0);
        }
        self.ranks.grow(partners);
    }

    /// Adds (`sign` = 1) or removes (-1) everything `x`'s subtree puts into
    /// the ancestors from `anchor` (x's sponsor) up, with `x_active` as x's
    /// activity. The walk goes to the root for GV; each ancestor passes the
    /// change of its leg (GV, best rank) up for the live ranks.
    pub(in crate::engine) fn apply_subtree(
        &mut self,
        g: &Genealogy,
        plan: &VolumePlan,
        x: u32,
        anchor: u32,
        x_active: bool,
        sign: i64,
    ) {
        let levels = self.levels;
        let xi = x as usize;
        self.touched.record(x);
        self.touched.record(anchor);
        let x_step = step(plan, x_active);
        let (x_pv, x_gv) = (self.pv[xi], self.gv[xi]);
        // A copy on the stack: the walk below writes into `self.profile`.
        let mut copy = [LevelTotals::default(); MAX_LEVELS];
        copy[..levels].copy_from_slice(self.profile.row(xi));
        let x_profile = &copy[..levels];
        let mut carry = Some(LegChange::attach(self.ranks.leg(x, x_gv), sign)).filter(|_| anchor != NONE);
        if anchor != NONE {
            let f = &mut self.active_frontline[anchor as usize];
            *f = (i64::from(*f) + sign * i64::from(x_active)) as u32;
        }
        let mut a = anchor;
        let mut la = 1usize;
        while a != NONE {
            let ai = a as usize;
            let gv_before = self.gv[ai];
            self.gv[ai] += sign * x_gv;
            let a_active = self.is_active(g, plan, a);
            if let Some(change) = carry {
                carry = self.ranks.climb(a, change, self.pv[ai], a_active, gv_before, self.gv[ai]);
            }
            if la <= levels {
                let row = self.profile.row_mut(ai);
                row[la - 1].add(sign * x_pv, sign, sign * i64::from(x_active));
                for (j, totals) in x_profile.iter().enumerate() {
                    let k = la + x_step + j;
                    if k > levels {
                        break;
                    }
                    row[k - 1].add(
                        sign * totals.volume_units,
                        sign * i64::from(totals.partners),
                        sign * i64::from(totals.active),
                    );
                }
            } else if x_gv == 0 && carry.is_none() {
                break;
            }
            la += step(plan, a_active);
            a = g.sponsor_at(a);
        }
    }

    /// Adds PV (and RV) to `x`, keeping every ancestor exact. The caller
    /// checked the period's overflow bound.
    pub(in crate::engine) fn add_volume(
        &mut self,
        g: &Genealogy,
        plan: &VolumePlan,
        x: u32,
        pv_units: i64,
        rv_units: i64,
    ) {
        let xi = x as usize;
        self.touched.record(x);
        let sponsor = g.sponsor_at(x);
        let was = self.is_active(g, plan, x);
        let now = g.status_at(x) == PartnerStatus::Enrolled && self.pv[xi] + pv_units >= plan.min_active_pv_units;
        self.rv[xi] += rv_units;
        if was != now && sponsor != NONE {
            self.apply_subtree(g, plan, x, sponsor, was, -1);
            self.pv[xi] += pv_units;
            self.gv[xi] += pv_units;
            self.ranks.rerank(x, self.pv[xi], now);
            self.apply_subtree(g, plan, x, sponsor, now, 1);
            return;
        }
        self.pv[xi] += pv_units;
        self.gv[xi] += pv_units;
        let mut carry = self.ranks.rerank_leg(x, self.pv[xi], now, self.gv[xi] - pv_units, self.gv[xi]);
        let levels = self.levels;
        let mut a = sponsor;
        let mut la = 1usize;
        while a != NONE {
            let ai = a as usize;
            self.gv[ai] += pv_units;
            let a_active = self.is_active(g, plan, a);
            if let Some(change) = carry {
                carry = self.ranks.climb(a, change, self.pv[ai], a_active, self.gv[ai] - pv_units, self.gv[ai]);
            }
            if la <= levels {
                self.profile.row_mut(ai)[la - 1].volume_units += pv_units;
            }
            la += step(plan, a_active);
            a = g.sponsor_at(a);
        }
    }

    /// Forgets everything of `x` (after its termination).
    pub(in crate::engine) fn clear(&mut self, x: u32) {
        let xi = x as usize;
        self.touched.record(x);
        self.pv[xi] = 0;
        self.rv[xi] = 0;
        self.gv[xi] = 0;
        self.active_frontline[xi] = 0;
        self.profile.row_mut(xi).fill(LevelTotals::default());
        self.ranks.clear(x);
    }
}
