//! A finished run taken apart into plain columns and put back together:
//! what the store keeps of a run of an open period, so that the run answers
//! the same after a restart without being computed again.
//!
//! A restored run holds exactly what its answers read: by breadth-first
//! position the partner, PV, RV, GV, activity, rank, payable amount and the
//! volume of each level. The level profiles' partner and active counts are
//! not kept (no answer of a run reads them; they are 0 once restored), and
//! nor is the layout of recruits and depths: a restored run is never rolled
//! up again.

use super::commission_run::{RunResult, RunTotals};
use super::network_plan::Freshness;
use super::plan::Plan;
use crate::engine::genealogy::forest::NONE;
use crate::engine::period::Period;
use crate::engine::volumes::period_volumes::{zeroed_totals, LevelTotals};
use crate::engine::volumes::rollup::RollupInput;
use std::ops::Range;
use std::sync::Arc;

/// A slice of a run's columns, by breadth-first position.
pub struct RunColumns<'a> {
    /// Arena index of each position.
    pub order: &'a [u32],
    /// PV, volume units.
    pub pv: &'a [i64],
    /// RV, volume units.
    pub rv: &'a [i64],
    /// GV, volume units.
    pub gv: &'a [i64],
    /// Whether each was active.
    pub active: &'a [bool],
    /// Paid-as rank codes.
    pub rank: &'a [u8],
    /// Payable amounts, cents.
    pub payable_cents: &'a [i64],
    /// LV_1..LV_L of each position in turn, volume units.
    pub levels: Vec<i64>,
}

/// Everything a finished run is made of, as plain columns (see
/// [`RunResult::from_parts`]).
pub struct RunParts {
    /// The period.
    pub period: Period,
    /// The plan version the run used.
    pub plan: Arc<Plan>,
    /// What the figures depended on.
    pub freshness: Freshness,
    /// The arena's length at the snapshot.
    pub arena_len: usize,
    /// Arena index of each position.
    pub order: Vec<u32>,
    /// PV by position.
    pub pv: Vec<i64>,
    /// RV by position.
    pub rv: Vec<i64>,
    /// GV by position.
    pub gv: Vec<i64>,
    /// Activity by position.
    pub active: Vec<bool>,
    /// Rank codes by position.
    pub rank: Vec<u8>,
    /// Payable cents by position.
    pub payable_cents: Vec<i64>,
    /// L level volumes per position.
    pub levels: Vec<i64>,
    /// The totals.
    pub totals: RunTotals,
    /// How long the run took.
    pub duration: std::time::Duration,
}

impl RunResult {
    /// The arena's length at the run's snapshot.
    pub fn arena_len(&self) -> usize {
        self.position.len()
    }

    /// The columns of the positions `range` (clamped to the run).
    pub fn columns(&self, range: Range<usize>) -> RunColumns<'_> {
        let end = range.end.min(self.partners());
        let r = range.start.min(end)..end;
        let levels = self.plan.volume.levels;
        let profile = &self.profile[r.start * levels..r.end * levels];
        RunColumns {
            order: &self.input.order()[r.clone()],
            pv: &self.input.pv()[r.clone()],
            rv: &self.input.rv()[r.clone()],
            gv: &self.gv[r.clone()],
            active: &self.input.active()[r.clone()],
            rank: &self.rank[r.clone()],
            payable_cents: &self.payable_cents[r],
            levels: profile.iter().map(|l| l.volume_units).collect(),
        }
    }

    /// A run put back together from its columns; an error names what does
    /// not fit (columns of different lengths, a partner outside the arena
    /// or twice, a rank the plan does not have).
    pub fn from_parts(parts: RunParts) -> Result<RunResult, String> {
        let n = parts.order.len();
        let levels = parts.plan.volume.levels;
        let lengths = [parts.pv.len(), parts.rv.len(), parts.gv.len(), parts.active.len(), parts.rank.len()];
        if lengths.iter().any(|&len| len != n) || parts.payable_cents.len() != n {
            return Err(format!("columns of different lengths ({n} partners)"));
        }
        if parts.levels.len() != n.saturating_mul(levels) {
            return Err(format!("{} level volumes for {n} partners of {levels} levels", parts.levels.len()));
        }
        if parts.rank.iter().any(|&r| usize::from(r) > parts.plan.ranks.len()) {
            return Err("a rank the plan does not have".into());
        }
        let mut position = vec![NONE; parts.arena_len];
        for (pos, &x) in parts.order.iter().enumerate() {
            match position.get_mut(x as usize) {
                Some(slot) if *slot == NONE => *slot = pos as u32,
                _ => return Err(format!("partner {x} is outside the arena or listed twice")),
            }
        }
        let mut profile: Vec<LevelTotals> = zeroed_totals(parts.levels.len());
        for (totals, &units) in profile.iter_mut().zip(&parts.levels) {
            totals.volume_units = units;
        }
        let input =
            RollupInput::restored(parts.plan.volume, parts.arena_len, parts.order, parts.pv, parts.rv, parts.active);
        Ok(RunResult {
            period: parts.period,
            plan: parts.plan,
            freshness: parts.freshness,
            input,
            position,
            gv: parts.gv,
            profile,
            rank: parts.rank,
            payable_cents: parts.payable_cents,
            totals: parts.totals,
            duration: parts.duration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compensation::commission_run::RunProgress;
    use crate::engine::{Network, VolumePlan};

    /// 3,000 generated partners with orders.
    fn example_network() -> (Network, Period) {
        let mut net = Network::new(Default::default(), VolumePlan::default());
        net.import(&crate::synth::partners(3_000, 11)).expect("an import");
        for order in crate::synth::orders(3_000, 11, "2026-11") {
            net.record_order(&order).expect("an order");
        }
        (net, Period::parse("period", "2026-11").expect("a period"))
    }

    /// Taking a run apart and putting it back gives the same figures.
    #[test]
    fn a_run_put_back_together_answers_the_same() {
        let (net, period) = example_network();
        let snapshot = net.commission_snapshot(&period.to_string()).expect("a snapshot");
        let run = snapshot.run(&RunProgress::default());
        let c = run.columns(0..run.partners());
        let parts = RunParts {
            period: run.period,
            plan: Arc::clone(&run.plan),
            freshness: run.freshness,
            arena_len: run.arena_len(),
            order: c.order.to_vec(),
            pv: c.pv.to_vec(),
            rv: c.rv.to_vec(),
            gv: c.gv.to_vec(),
            active: c.active.to_vec(),
            rank: c.rank.to_vec(),
            payable_cents: c.payable_cents.to_vec(),
            levels: c.levels.clone(),
            totals: run.totals.clone(),
            duration: run.duration,
        };
        let back = RunResult::from_parts(parts).expect("it fits");
        assert_eq!(back.partners(), run.partners());
        for pos in 0..run.partners() {
            assert_eq!(back.figures_at(pos), run.figures_at(pos));
            assert_eq!(back.position_of(crate::engine::PartnerIx::new(run.partner_at(pos))), Some(pos));
        }
        assert_eq!(back.ranks_by_partner(), run.ranks_by_partner());
    }
}
