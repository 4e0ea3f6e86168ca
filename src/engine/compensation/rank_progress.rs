//! A partner's progress towards the next rank in an open period, read from
//! the period's live ranks in O(ranks), whatever the size of its frontline
//! or downline (the engine part of GetRankProgress).
//!
//! Units: PV and GV are volume units of 0.0001 as everywhere; qualifying GV
//! is kept *scaled*, in volume units × [`RATE_ONE`] (one scaled unit is
//! 10⁻¹⁰ of volume), because a leg cap `max_leg_share × min_gv` has up to 10
//! decimal places: it is never rounded. [`format_scaled`] writes it exactly.

use super::live_ranks::LiveRanks;
use super::plan::RATE_ONE;
use crate::engine::error::EngineResult;
use crate::engine::genealogy::forest::Genealogy;
use crate::engine::network::Network;
use crate::engine::period::Period;
use crate::engine::volumes::period_volumes::PeriodVolumes;
use crate::engine::volumes::volume_plan::VolumePlan;

/// A partner's rank and what it lacks for the next one, in one open period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankProgress {
    /// The plan version whose ranks these are.
    pub plan_version: u32,
    /// Paid-as rank code: 0 for none, `i + 1` for `plan.ranks[i]`.
    pub paid_as: u8,
    /// Whether the partner is active (enrolled, PV at least `min_active_pv`).
    pub active: bool,
    /// Personal volume, units of 0.0001.
    pub pv_units: i64,
    /// Group volume, units of 0.0001.
    pub gv_units: i64,
    /// The rank just above the paid-as one; `None` at the top rank.
    pub next: Option<RankTarget>,
}

/// The requirements of one rank for one partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankTarget {
    /// Index into the plan's ranks (its code is `rank + 1`).
    pub rank: usize,
    /// Every requirement of that rank, in this order: active, min PV,
    /// qualifying GV, and legs when the rank asks for legs.
    pub requirements: Vec<Requirement>,
}

/// One requirement of a rank: where the partner stands and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// Which requirement, and so the unit of `current` and `required`.
    pub kind: RequirementKind,
    /// The partner's figure.
    pub current: i128,
    /// The rank's minimum.
    pub required: i128,
    /// `current >= required`.
    pub met: bool,
}

impl Requirement {
    /// What is missing: `max(required - current, 0)`, in the same unit.
    pub fn missing(&self) -> i128 {
        (self.required - self.current).max(0)
    }
}

/// The kinds of requirement, each with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementKind {
    /// Being active: `current` is 1 or 0, `required` 1.
    Active,
    /// PV, in volume units of 0.0001.
    MinPv,
    /// Qualifying GV, `PV + Σ over legs min(GV(leg), max_leg_share × min_gv)`,
    /// scaled: volume units × [`RATE_ONE`] (exact; see [`format_scaled`]).
    MinQualifyingGv,
    /// Legs holding a partner of at least rank index `leg_min_rank`: a
    /// count of legs.
    Legs {
        /// Index into the plan's ranks of the rank a leg needs.
        leg_min_rank: usize,
    },
}

impl Network {
    /// A partner's paid-as rank and its progress towards the next rank in
    /// an open period, from the live ranks: O(ranks). Errors as
    /// [`Network::volumes`]: a malformed period or id is INVALID_ARGUMENT, an
    /// unknown partner NOT_FOUND (`partner_id`), a terminated one
    /// FAILED_PRECONDITION (`partner_id`), a period without orders NOT_FOUND
    /// (`period`), a closed period FAILED_PRECONDITION (`period`).
    pub fn rank_progress(&self, partner_id: &str, period: &str) -> EngineResult<RankProgress> {
        let period = Period::parse("period", period)?;
        let x = self.genealogy.lookup_live("partner_id", partner_id)?.get();
        Ok(progress(self.period(period)?, &self.genealogy, &self.plan, x))
    }

    /// The live ranks of an open period (codes and best-in-subtree by arena
    /// index, the plan they follow), e.g. to compare them with a batch
    /// [`super::ranks::rank_bfs`]. Errors as [`Network::period`].
    pub fn live_ranks(&self, period: Period) -> EngineResult<&LiveRanks> {
        Ok(self.period(period)?.ranks())
    }
}

/// The progress of live partner `x`.
fn progress(volumes: &PeriodVolumes, g: &Genealogy, volume_plan: &VolumePlan, x: u32) -> RankProgress {
    let ranks = volumes.ranks();
    let plan = ranks.plan();
    let active = volumes.is_active(g, volume_plan, x);
    let pv = volumes.pv_of(x);
    let paid_as = ranks.rank_of(x);
    let next = plan.ranks.get(usize::from(paid_as)).map(|rank| {
        let i = usize::from(paid_as);
        let legs = ranks.leg_totals(x);
        let scale = i128::from(RATE_ONE);
        let mut pairs = vec![
            (RequirementKind::Active, i128::from(active), 1),
            (RequirementKind::MinPv, i128::from(pv), i128::from(rank.min_pv_units)),
            (
                RequirementKind::MinQualifyingGv,
                i128::from(pv) * scale + legs.qualifying_scaled[i],
                i128::from(rank.min_gv_units) * scale,
            ),
        ];
        if let Some(j) = rank.leg_min_rank {
            pairs.push((RequirementKind::Legs { leg_min_rank: j }, legs.legs_at_least[j].into(), rank.min_legs.into()));
        }
        let requirements = pairs
            .into_iter()
            .map(|(kind, current, required)| Requirement { kind, current, required, met: current >= required })
            .collect();
        RankTarget { rank: i, requirements }
    });
    RankProgress {
        plan_version: plan.version,
        paid_as,
        active,
        pv_units: pv,
        gv_units: volumes.gv.get(x as usize).copied().unwrap_or(0),
        next,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::compensation::commission::format_scaled;

    #[test]
    fn formats_scaled_volumes_exactly() {
        assert_eq!(format_scaled(21_850_000_000_000), "2185.00");
        assert_eq!(format_scaled(72_500 * 333_333), "2.41666425");
        assert_eq!(format_scaled(-5), "-0.0000000005");
        assert_eq!(format_scaled(0), "0.00");
    }
}
