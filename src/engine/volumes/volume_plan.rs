//! The settings of a plan that volumes depend on: how many levels count,
//! whether compression is on, and the PV that makes a partner active.

use crate::engine::money::UNITS_PER_ONE;

/// The most levels a plan may pay (a sane bound; the spec's plan has 7).
pub const MAX_LEVELS: usize = 50;

/// The volume settings of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumePlan {
    /// `L`: levels counted, 1..=MAX_LEVELS.
    pub levels: usize,
    /// Dynamic compression: inactive partners do not occupy a level.
    pub compression: bool,
    /// The PV a partner needs to be active, in units of 0.0001.
    pub min_active_pv_units: i64,
}

impl Default for VolumePlan {
    /// The spec's reference plan: 7 levels, compression on, 50.00 PV.
    fn default() -> VolumePlan {
        VolumePlan { levels: 7, compression: true, min_active_pv_units: 50 * UNITS_PER_ONE }
    }
}
