//! GetTeamProgress (spec: team support): per level of a partner's
//! downline, how many partners there are, how many are active in a period,
//! how many joined in it, and how many completed each training module.
//!
//! Live, like GetVolumes, and computed on demand in one pass over the
//! downline, level by level down to `max_level`, reading per partner its
//! status, joining day, PV (for activity) and completion summary. Each
//! level is a few ranges of the breadth-first [`TeamLayout`] (streamed)
//! plus the partners the layout does not hold yet (read live). No
//! recursion; O(partners within `max_level` levels + their completions);
//! the allocations are two level sets and, per level, its counts and its
//! partners' completion masks (`tally.rs`). Nothing is cached: the
//! answer reflects every write acknowledged before it.
//!
//! This file also keeps the layout in step: every genealogy write and
//! completion reports here what it changed, and a layout with too many
//! changes is rebuilt (O(n), under the write lock; see BENCHMARKS.md).

use super::layout::{LevelSet, TeamLayout};
use super::tally::{tally_level, LevelTally, TallyInput};
use crate::engine::date::Date;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::id_index::validate_id;
use crate::engine::network::Network;
use crate::engine::period::Period;

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
    /// Tells the team layout that the recruits of `relinked` changed and
    /// that the status or completions of `refreshed` did; rebuilds it when
    /// so much changed that the partners it reads live cost more than a
    /// rebuild. `NONE` entries are ignored.
    pub(in crate::engine) fn team_layout_heard(&mut self, relinked: &[u32], refreshed: &[u32]) {
        if self.team_layout.is_stale(&self.genealogy) {
            self.rebuild_team_layout();
            return;
        }
        for &x in relinked {
            self.team_layout.relink(x);
        }
        for &x in refreshed {
            self.team_layout.refresh(&self.genealogy, &self.team.training, x);
        }
        self.team_layout.sync(&self.genealogy, self.changes, &self.team.training);
    }

    /// Lays the genealogy out for GetTeamProgress again, from scratch
    /// (start-up, and when [`TeamLayout::is_stale`]). O(n).
    pub fn rebuild_team_layout(&mut self) {
        self.team_layout = TeamLayout::build(&self.genealogy, self.changes, &self.team.training);
    }

    /// The team layout (for logs, benches and tests).
    pub fn team_layout(&self) -> &TeamLayout {
        &self.team_layout
    }

    /// Whether the team layout heard of every change so far, so
    /// GetTeamProgress reads it (otherwise it reads everything live).
    pub fn team_layout_is_in_step(&self) -> bool {
        self.team_layout.is_in_step(&self.genealogy, self.changes, &self.team.training)
    }

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
        let root = self.genealogy.lookup_live("partner_id", partner_id)?.get();
        if self.is_closed(period) {
            let message = format!("period {period} is closed; team progress is live, ask an open period");
            return Err(EngineError::precondition("period", message));
        }
        let volumes = self.periods.get(&period);
        let (first_day, last_day) = day_range(period);
        let input = TallyInput {
            genealogy: &self.genealogy,
            pv: volumes.map(|v| &v.pv),
            min_active_pv_units: self.plan.min_active_pv_units,
            training: &self.team.training,
            first_day,
            last_day,
            modules: self.team.training.modules().len(),
        };
        // The layout when it heard of every change; else an empty one, with
        // which every partner is loose and read live (slower, same answer).
        let empty = TeamLayout::default();
        let layout = if self.team_layout_is_in_step() { &self.team_layout } else { &empty };
        let g = &self.genealogy;
        let (mut level, mut next) = (LevelSet::default(), LevelSet::default());
        layout.expand(g, &layout.start(root), &mut level);
        let mut tallies: Vec<(u32, LevelTally)> = Vec::with_capacity(max_level);
        for l in 0..max_level {
            tallies.push((level.len() as u32, tally_level(&input, layout, &level)));
            if l + 1 < max_level {
                layout.expand(g, &level, &mut next);
                std::mem::swap(&mut level, &mut next);
                next.clear();
            }
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

    /// The write that finds the layout stale rebuilds it, and the answers
    /// stay those of a layout built afresh.
    #[test]
    fn the_write_that_finds_the_layout_stale_rebuilds_it() {
        use crate::engine::{Audit, NewPartner};
        let mut net = Network::default();
        let create = |net: &mut Network, i: usize| {
            let sponsor = if i == 0 { String::new() } else { format!("p{}", (i - 1) / 3) };
            let row = NewPartner::parse(&format!("p{i}"), &sponsor, "2026-01-15", "").unwrap();
            net.create_partner(&row, Audit::default()).unwrap();
        };
        for i in 0..4095 {
            create(&mut net, i);
        }
        assert_eq!(net.team_layout().counts(&net.genealogy), (0, 0, 4095), "nothing laid out yet");
        create(&mut net, 4095);
        assert_eq!(net.team_layout().counts(&net.genealogy), (4096, 0, 0), "the 4,096th creation laid out all");
        for i in 4096..5000 {
            create(&mut net, i);
        }
        // p4096..p4999 are loose; their sponsors p1365..p1666 had a place and are relinked.
        assert_eq!(net.team_layout().counts(&net.genealogy), (4096, 302, 904), "later partners are loose");
        assert!(net.team_layout_is_in_step());
        let live = net.team_progress("p0", "2026-01", 0).unwrap();
        // 3 + 9 + ... + 3^7 partners within 7 levels of a ternary tree, all joined in 2026-01.
        assert_eq!((live.totals.partners, live.totals.joined), (3_279, 3_279));
        net.rebuild_team_layout();
        assert_eq!(net.team_progress("p0", "2026-01", 0).unwrap(), live, "a fresh layout answers the same");
    }
}
