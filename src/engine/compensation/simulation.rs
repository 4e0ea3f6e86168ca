//! What-if simulations (issue #18): a period replayed under a candidate
//! plan and compared, partner by partner, with its baseline (the plan of
//! its official run once closed, the plan in force while open).
//!
//! Both sides are ordinary commission runs (`commission_run.rs`), captured
//! from the period's orders and the genealogy of one snapshot, so a
//! simulation of the baseline's own plan differs from it by exactly zero.
//! Nothing here changes the network. The comparison is deterministic:
//! every order is total (difference, then arena index, which is the
//! partner creation order), every sum an exact integer.

use super::commission_run::{RunProgress, RunResult, RunSnapshot, RunTotals};
use super::plan::{Plan, PlanDraft};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::network::Network;
use crate::engine::period::Period;
use crate::engine::volumes::rollup::InputMemory;
use rayon::prelude::*;
use std::sync::Arc;

/// Rows per rayon task of the comparison.
const ROWS_PER_TASK: usize = 16_384;

/// The most winners (and losers) a comparison lists.
pub const MAX_TOP_N: usize = 1000;
/// Points of the difference distribution: 0 %, 10 %, ..., 100 %.
pub const DECILE_POINTS: usize = 11;

/// One partner compared: payable in cents and rank code on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimRow {
    /// Arena index (partner creation order).
    pub partner: u32,
    /// Payable under the baseline, cents.
    pub old_cents: i64,
    /// Payable under the candidate, cents.
    pub new_cents: i64,
    /// Paid-as rank code under the baseline.
    pub old_rank: u8,
    /// Paid-as rank code under the candidate.
    pub new_rank: u8,
}

impl SimRow {
    /// New minus old, cents (exact: both fit in `i64`, so their difference
    /// fits in `i128`).
    pub fn difference(&self) -> i128 {
        i128::from(self.new_cents) - i128::from(self.old_cents)
    }
}

/// What a simulation starts from: both runs' captures.
pub struct SimulationInputs {
    /// The baseline's capture.
    pub baseline: RunSnapshot,
    /// The candidate's capture.
    pub candidate: RunSnapshot,
    /// The official run's totals (closed periods with a run).
    pub official: Option<RunTotals>,
}

/// A finished comparison.
pub struct Comparison {
    /// The baseline's plan.
    pub baseline_plan: Arc<Plan>,
    /// The candidate plan.
    pub candidate_plan: Arc<Plan>,
    /// The baseline's totals.
    pub baseline: RunTotals,
    /// The candidate's totals.
    pub candidate: RunTotals,
    /// Partners paid more than zero under the baseline and the candidate.
    pub paid: (u64, u64),
    /// Every partner's row, in arena order.
    pub rows: Vec<SimRow>,
    /// Indices into `rows`, largest difference first (ties: arena order).
    pub by_difference: Vec<u32>,
    /// Partners whose payable rises, falls, stays.
    pub winners: u64,
    /// Partners whose payable falls.
    pub losers: u64,
    /// Partners whose payable stays.
    pub unchanged: u64,
    /// The difference at 0 %, 10 %, ..., 100 % (empty without partners).
    pub deciles: Vec<i128>,
    /// Whether the baseline equals the official run's totals.
    pub baseline_matches_official: bool,
    /// Winners and losers the result lists (at most [`MAX_TOP_N`]).
    pub top_n: usize,
}

impl Network {
    /// Validates a candidate plan exactly as `UpdatePlan` does (same
    /// function, same field-level violations); it becomes no version.
    pub fn validate_candidate(&self, draft: &PlanDraft) -> EngineResult<Plan> {
        draft.validate(self.current_plan().version + 1).map_err(EngineError::InvalidPlan)
    }

    /// Captures both runs of a simulation of `period` (NOT_FOUND when the
    /// period has no orders and is not closed). The baseline plan is the
    /// official run's version for a closed period (else the plan in force).
    pub fn simulation_inputs(&self, period: Period, candidate: Arc<Plan>) -> EngineResult<SimulationInputs> {
        let official = self.official_run(period).map(Arc::clone);
        if !self.is_closed(period) {
            self.period(period)?;
        }
        let baseline_plan = match &official {
            Some(o) => Arc::clone(self.plan_version(o.plan_version)?),
            None => Arc::clone(self.current_plan()),
        };
        let baseline = self.capture_run(period, baseline_plan, InputMemory::default());
        // Most candidates change rates, caps or ranks only: their inputs are
        // the baseline's (10M: a 0.2 s copy instead of a 1.3 s capture).
        let candidate = match baseline.with_plan(Arc::clone(&candidate)) {
            Some(same_volumes) => same_volumes,
            None => self.capture_run(period, candidate, InputMemory::default()),
        };
        Ok(SimulationInputs { baseline, candidate, official: official.map(|o| o.totals.clone()) })
    }
}

/// Compares two finished runs of the same capture; `official` is the
/// official run's totals, if any.
pub fn compare(baseline: &RunResult, candidate: &RunResult, official: Option<&RunTotals>, top_n: usize) -> Comparison {
    let mut rows: Vec<SimRow> = (0..baseline.partners())
        .into_par_iter()
        .with_min_len(ROWS_PER_TASK)
        .map(|pos| {
            let partner = baseline.partner_at(pos);
            // Both captures come from one snapshot: the same live partners,
            // and in the same order when the candidate copied the
            // baseline's inputs (then no lookup).
            let same_place = pos < candidate.partners() && candidate.partner_at(pos) == partner;
            let cpos =
                if same_place { Some(pos) } else { candidate.position_of(crate::engine::PartnerIx::new(partner)) };
            let (new_cents, new_rank) = cpos.map_or((0, 0), |c| (candidate.payable_at(c), candidate.rank_at(c)));
            SimRow {
                partner,
                old_cents: baseline.payable_at(pos),
                new_cents,
                old_rank: baseline.rank_at(pos),
                new_rank,
            }
        })
        .collect();
    rows.par_sort_unstable_by_key(|r| r.partner);
    let by_difference = order_by_difference(&rows);
    let (mut winners, mut losers, mut unchanged) = (0u64, 0u64, 0u64);
    for row in &rows {
        match row.difference().signum() {
            1 => winners += 1,
            -1 => losers += 1,
            _ => unchanged += 1,
        }
    }
    let paid = (
        rows.iter().filter(|r| r.old_cents > 0).count() as u64,
        rows.iter().filter(|r| r.new_cents > 0).count() as u64,
    );
    let deciles = deciles(&rows, &by_difference);
    Comparison {
        baseline_plan: Arc::clone(&baseline.plan),
        candidate_plan: Arc::clone(&candidate.plan),
        baseline_matches_official: official.is_some_and(|o| *o == baseline.totals),
        baseline: baseline.totals.clone(),
        candidate: candidate.totals.clone(),
        paid,
        rows,
        by_difference,
        winners,
        losers,
        unchanged,
        deciles,
        top_n: top_n.min(MAX_TOP_N),
    }
}

/// Row indices by difference, largest first, ties in arena order (the
/// rows' order). Only the changed rows are sorted: the unchanged ones (most
/// of them, for most candidates) sit between the rises and the falls in
/// the order they already have.
fn order_by_difference(rows: &[SimRow]) -> Vec<u32> {
    let changed = |sign: i128| -> Vec<u32> {
        let mut keys: Vec<(std::cmp::Reverse<i128>, u32)> = (rows.par_iter().enumerate())
            .filter(|(_, r)| r.difference().signum() == sign)
            .map(|(i, r)| (std::cmp::Reverse(r.difference()), i as u32))
            .collect();
        keys.par_sort_unstable();
        keys.into_iter().map(|(_, i)| i).collect()
    };
    let mut order = changed(1);
    order.extend((0..rows.len() as u32).filter(|&i| rows[i as usize].difference() == 0));
    order.extend(changed(-1));
    debug_assert_eq!(order.len(), rows.len());
    order
}

/// The differences at 0 %, 10 %, ..., 100 % by nearest rank, ascending.
fn deciles(rows: &[SimRow], by_difference: &[u32]) -> Vec<i128> {
    let n = by_difference.len();
    if n == 0 {
        return Vec::new();
    }
    // `by_difference` is descending: the k-th smallest is at n - 1 - k.
    (0..DECILE_POINTS)
        .map(|point| {
            let rank = (point * (n - 1) + (DECILE_POINTS - 1) / 2) / (DECILE_POINTS - 1);
            rows[by_difference[n - 1 - rank] as usize].difference()
        })
        .collect()
}

impl SimulationInputs {
    /// Runs both sides one after the other (each is parallel inside) and
    /// compares them; `progress` follows the runs (benches, tests).
    pub fn run(self, progress: &RunProgress, top_n: usize) -> Comparison {
        let official = self.official;
        let baseline = self.baseline.run(progress);
        let candidate = self.candidate.run(progress);
        compare(&baseline, &candidate, official.as_ref(), top_n)
    }
}

impl Comparison {
    /// The `top_n` largest rises (difference > 0), biggest first.
    pub fn top_winners(&self, top_n: usize) -> Vec<SimRow> {
        let rows = self.by_difference.iter().map(|&i| self.rows[i as usize]);
        rows.take_while(|r| r.difference() > 0).take(top_n.min(MAX_TOP_N)).collect()
    }

    /// The `top_n` largest falls (difference < 0), biggest first; ties in
    /// arena order.
    pub fn top_losers(&self, top_n: usize) -> Vec<SimRow> {
        let losers = &self.by_difference[self.by_difference.len() - self.losers as usize..];
        let mut out: Vec<SimRow> = losers.iter().map(|&i| self.rows[i as usize]).collect();
        out.sort_by_key(|r| (r.difference(), r.partner));
        out.truncate(top_n.min(MAX_TOP_N));
        out
    }
}
