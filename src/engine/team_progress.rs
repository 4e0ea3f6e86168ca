//! GetTeamProgress (spec: team support): per level of a partner's
//! downline, how many partners there are, how many are active in a period,
//! how many joined in it, and how many completed each training module.
//!
//! Live, like GetVolumes, and computed on demand in one pass over the
//! downline, level by level down to `max_level`, reading per partner its
//! status, joining day, PV (for activity) and completion summary. No
//! recursion; O(partners within `max_level` levels + their completions);
//! the allocations are two lists of one level's partners and, per level,
//! its counts and its partners' completion masks (`team_tally.rs`). A
//! cache would have to follow every creation, move, order and completion;
//! the pass takes 1–3 ms of CPU at 100,000 partners without one (through
//! gRPC the worst shape still misses the 5 ms p99: see BENCHMARKS.md).

use super::date::Date;
use super::error::{EngineError, EngineResult};
use super::genealogy::NONE;
use super::id_index::validate_id;
use super::network::Network;
use super::period::Period;
use super::team_tally::{tally_level, LevelTally, TallyInput};

/// The counts of one level (or of all levels together).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LevelProgress {
    /// Partners at this level (enrolled and suspended; terminated partners
    /// are out of the tree).
    pub partners: u64,
    /// Of those, the active ones in the period (as GetVolumes says).
    pub active: u64,
    /// Of those, the ones who joined in the period (joining day in its month).
    pub joined: u64,
    /// Per module ordinal: of those, the ones who completed the module on
    /// or before the period's last day.
    pub completions: Vec<u64>,
}

/// A partner's team progress in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamProgress {
    /// The period.
    pub period: Period,
    /// The deepest level counted.
    pub max_level: usize,
    /// The plan's levels (the most `max_level` may be).
    pub plan_levels: usize,
    /// Whether the period has orders: without any, nobody is active.
    pub period_has_orders: bool,
    /// Levels 1..=max_level.
    pub levels: Vec<LevelProgress>,
    /// The sum of the levels.
    pub totals: LevelProgress,
}

/// The first and last day of a period.
fn day_range(period: Period) -> (Date, Date) {
    let (year, month) = ((period.code() / 12) as i32, period.code() % 12 + 1);
    let first = Date::from_ymd(year, month, 1).unwrap_or_default();
    let last = (28..=31).rev().find_map(|day| Date::from_ymd(year, month, day)).unwrap_or(first);
    (first, last)
}

impl Network {
    /// The levels of the plan as team support reads them: the one place to
    /// change when the plan becomes versioned (the levels of the plan in
    /// force in a period).
    pub fn team_levels(&self) -> usize {
        self.plan.levels
    }

    /// The team progress of a live partner in a period, levels 1 to
    /// `max_level` (0: the plan's levels; more is INVALID_ARGUMENT). Levels
    /// are sponsor levels, never compressed. A period without orders has
    /// nobody active; a closed period is FAILED_PRECONDITION (its activity
    /// is frozen on disk, the team is live).
    pub fn team_progress(&self, partner_id: &str, period: &str, max_level: u32) -> EngineResult<TeamProgress> {
        validate_id("partner_id", partner_id)?;
        let period = Period::parse("period", period)?;
        let plan_levels = self.team_levels();
        let max_level = match max_level as usize {
            0 => plan_levels,
            n if n > plan_levels => {
                let message = format!("{n} is more than the plan's {plan_levels} levels");
                return Err(EngineError::invalid("max_level", message));
            }
            n => n,
        };
        let root = self.genealogy.lookup_live("partner_id", partner_id)?;
        if self.is_closed(period) {
            let message = format!("period {period} is closed; team progress is live, ask an open period");
            return Err(EngineError::precondition("period", message));
        }
        let volumes = self.periods.get(&period);
        let (first_day, last_day) = day_range(period);
        let input = TallyInput {
            genealogy: &self.genealogy,
            pv: volumes.map(|v| &v.pv[..]),
            min_active_pv_units: self.plan.min_active_pv_units,
            training: &self.team.training,
            first_day,
            last_day,
            modules: self.team.training.modules().len(),
        };
        // Level by level: `level` holds the partners of one level, in child-list
        // order, so the loads of consecutive partners are independent and the
        // CPU overlaps their cache misses (a pre-order walk would chase one
        // link at a time).
        let g = &self.genealogy;
        let mut level: Vec<u32> = Vec::with_capacity(g.frontline_count_of(root) as usize);
        let mut c = g.first_child_of(root);
        while c != NONE {
            level.push(c);
            c = g.next_sibling_of(c);
        }
        let mut next: Vec<u32> = Vec::new();
        let mut tallies: Vec<(u32, LevelTally)> = Vec::with_capacity(max_level);
        for l in 0..max_level {
            let below = (l + 1 < max_level).then_some(&mut next);
            let counts = tally_level(&input, &level, below);
            tallies.push((level.len() as u32, counts));
            std::mem::swap(&mut level, &mut next);
            next.clear();
        }
        let mut totals = LevelProgress { completions: vec![0; input.modules], ..LevelProgress::default() };
        let levels = tallies
            .into_iter()
            .map(|(partners, counts)| {
                let level = LevelProgress {
                    partners: u64::from(partners),
                    active: u64::from(counts.active),
                    joined: u64::from(counts.joined),
                    completions: counts.completed.iter().map(|&c| u64::from(c)).collect(),
                };
                totals.partners += level.partners;
                totals.active += level.active;
                totals.joined += level.joined;
                totals.completions.iter_mut().zip(&level.completions).for_each(|(t, c)| *t += c);
                level
            })
            .collect();
        Ok(TeamProgress { period, max_level, plan_levels, period_has_orders: volumes.is_some(), levels, totals })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_ranges_cover_whole_months() {
        let range = |text: &str| {
            let (a, b) = day_range(Period::parse("period", text).unwrap());
            (a.to_string(), b.to_string())
        };
        assert_eq!(range("2026-02"), ("2026-02-01".into(), "2026-02-28".into()));
        assert_eq!(range("2024-02"), ("2024-02-01".into(), "2024-02-29".into()));
        assert_eq!(range("2026-12"), ("2026-12-01".into(), "2026-12-31".into()));
        assert_eq!(range("2999-12"), ("2999-12-01".into(), "2999-12-31".into()));
        assert_eq!(range("2026-04"), ("2026-04-01".into(), "2026-04-30".into()));
    }
}
