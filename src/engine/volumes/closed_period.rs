//! Closed periods: their figures are frozen when the period closes, so later
//! moves, terminations and restarts never change them (the spec: history
//! stays in closed periods). The engine hands the frozen figures to the
//! store, which keeps them on disk; memory holds only the totals.

use super::period_volumes::{LevelTotals, PeriodVolumes, VolumeView};
use super::volume_plan::VolumePlan;
use crate::engine::compensation::commission_run::RunTotals;
use crate::engine::cow_column::CowColumn;
use crate::engine::genealogy::forest::Genealogy;
use crate::engine::partner_ix::PartnerIx;
use crate::engine::period::Period;
use std::sync::Arc;

/// The totals of a closed period, kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedPeriod {
    /// Orders recorded in the period, fees included.
    pub order_count: u64,
    /// The sum of its FEE orders, units of 0.0001.
    pub fee_units: i128,
    /// Every partner's figures, until the store has them on disk.
    pub frozen: Option<Arc<FrozenPeriod>>,
    /// The run frozen as the period's official one, if a run was made.
    pub official: Option<Arc<OfficialRun>>,
}

/// What is kept of the commission run a period closed with: its totals;
/// every partner's rank is kept with the frozen figures, and its
/// statement follows from them, the plan version and the payout factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialRun {
    /// The run's id.
    pub run_id: String,
    /// The plan version it used.
    pub plan_version: u32,
    /// Its totals.
    pub totals: RunTotals,
    /// How long it took, ms.
    pub duration_ms: u64,
}

/// Every partner's figures of a period at the moment it closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenPeriod {
    /// The period.
    pub period: Period,
    /// Levels per partner.
    pub levels: usize,
    /// Per partner, by index: PV, RV, GV.
    pub pv: CowColumn<i64>,
    /// Retail volume.
    pub rv: CowColumn<i64>,
    /// Group volume.
    pub gv: CowColumn<i64>,
    /// A row of `levels` entries per partner.
    pub profile: CowColumn<LevelTotals>,
    /// Whether each partner was active.
    pub active: Vec<bool>,
    /// Direct recruits at closing.
    pub frontline: Vec<u32>,
    /// Active direct recruits at closing.
    pub active_frontline: CowColumn<u32>,
    /// Per partner: 0 when not in the official run (or there is none),
    /// else its paid-as rank code plus one.
    pub rank: Vec<u8>,
}

impl FrozenPeriod {
    /// Freezes live volumes with the genealogy as it is now.
    pub fn freeze(volumes: PeriodVolumes, g: &Genealogy, plan: &VolumePlan, rank: Vec<u8>) -> FrozenPeriod {
        let n = g.len();
        let mut volumes = volumes;
        volumes.grow(n);
        let active = (0..n as u32).map(|x| volumes.is_active(g, plan, x)).collect();
        let frontline = (0..n as u32).map(|x| g.frontline_count_at(x)).collect();
        FrozenPeriod {
            period: volumes.period,
            levels: volumes.levels,
            pv: volumes.pv,
            rv: volumes.rv,
            gv: volumes.gv,
            profile: volumes.profile,
            active,
            frontline,
            active_frontline: volumes.active_frontline,
            rank,
        }
    }

    /// The number of partners the period knew.
    pub fn len(&self) -> usize {
        self.pv.len()
    }

    /// Whether the period knew no partner.
    pub fn is_empty(&self) -> bool {
        self.pv.is_empty()
    }

    /// Partner `x`'s entry of the rank column: 0 when not in the official
    /// run, else its rank code plus one.
    pub fn rank_of(&self, x: u32) -> u8 {
        self.rank.get(x as usize).copied().unwrap_or(0)
    }

    /// The figures of partner `x`, if it existed when the period closed.
    pub fn view(&self, x: u32) -> Option<VolumeView> {
        let i = x as usize;
        (i < self.len()).then(|| VolumeView {
            pv_units: self.pv[i],
            rv_units: self.rv[i],
            gv_units: self.gv[i],
            levels: self.profile.row(i).to_vec(),
            active: self.active[i],
            frontline: self.frontline[i],
            active_frontline: self.active_frontline[i],
        })
    }
}

/// Where a partner's volumes of a period are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeAnswer {
    /// An open period: the live figures.
    Live(VolumeView),
    /// A closed period whose figures are still in memory.
    Frozen(VolumeView),
    /// A closed period whose figures the store keeps: read partner `ix`.
    OnDisk {
        /// The period.
        period: Period,
        /// The partner's index.
        ix: PartnerIx,
    },
}
