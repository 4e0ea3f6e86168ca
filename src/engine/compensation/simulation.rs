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

use super::commission_run::{RunSnapshot, RunTotals};
use super::plan::{Plan, PlanDraft};
use super::run_figures::Commissions;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::genealogy::forest::NONE;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Zeroable)]
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

/// What a simulation starts from: the baseline's capture and the
/// candidate's (`simulation_run.rs` computes them).
pub struct SimulationInputs {
    /// The baseline's capture.
    pub(super) baseline: RunSnapshot,
    /// The candidate's side.
    pub(super) candidate: CandidateInput,
    /// The official run's totals (closed periods with a run).
    pub(super) official: Option<RunTotals>,
}

/// How the candidate side of a simulation is computed.
pub(super) enum CandidateInput {
    /// The candidate plan has the baseline's volume settings (levels,
    /// compression, activity), so its captured inputs and its rollup would
    /// be the baseline's: it reuses both (borrowed, no copy).
    Shared(Arc<Plan>),
    /// Other volume settings: its own capture and its own rollup.
    Own(Box<RunSnapshot>),
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
        self.simulation_inputs_with(period, candidate, InputMemory::default())
    }

    /// [`Network::simulation_inputs`] with the baseline captured in
    /// `memory` (e.g. [`InputMemory::keeping`] a layout kept by a job).
    pub fn simulation_inputs_with(
        &self,
        period: Period,
        candidate: Arc<Plan>,
        memory: InputMemory,
    ) -> EngineResult<SimulationInputs> {
        let official = self.official_run(period).map(Arc::clone);
        if !self.is_closed(period) {
            self.period(period)?;
        }
        let baseline_plan = match &official {
            Some(o) => Arc::clone(self.plan_version(o.plan_version)?),
            None => Arc::clone(self.current_plan()),
        };
        let baseline = self.capture_run(period, baseline_plan, memory);
        // Most candidates change rates, caps or ranks only: their inputs and
        // rollup are the baseline's, so they are neither copied nor summed
        // again. The others capture on the baseline's layout (same genealogy).
        let candidate = if candidate.volume == baseline.plan.volume {
            CandidateInput::Shared(candidate)
        } else {
            let memory = InputMemory::keeping(Some(baseline.layout()));
            CandidateInput::Own(Box::new(self.capture_run(period, candidate, memory)))
        };
        Ok(SimulationInputs { baseline, candidate, official: official.map(|o| o.totals.clone()) })
    }
}

/// One side of a comparison: a run's figures by breadth-first position,
/// its plan, and where each arena index sits (NONE: not in the run).
pub(super) struct Side<'a> {
    /// The side's plan.
    pub(super) plan: &'a Arc<Plan>,
    /// Arena index → breadth-first position.
    pub(super) position: &'a [u32],
    /// Paid-as rank codes.
    pub(super) rank: &'a [u8],
    /// Payables and totals.
    pub(super) commissions: &'a Commissions,
}

impl Side<'_> {
    /// Payable cents and rank code of arena index `x`, if it is in the run.
    fn at(&self, x: usize) -> Option<(i64, u8)> {
        let pos = self.position.get(x).copied().filter(|&p| p != NONE)? as usize;
        Some((self.commissions.payable_cents[pos], self.rank[pos]))
    }
}

/// Compares two finished sides of the same snapshot; `official` is the
/// official run's totals, if any.
pub(super) fn compare(baseline: Side, candidate: Side, official: Option<&RunTotals>, top_n: usize) -> Comparison {
    let rows = rows_in_arena_order(&baseline, &candidate);
    let by_difference = order_by_difference(&rows);
    let counts = Counts::of(&rows);
    let deciles = deciles(&rows, &by_difference);
    Comparison {
        baseline_plan: Arc::clone(baseline.plan),
        candidate_plan: Arc::clone(candidate.plan),
        baseline_matches_official: official.is_some_and(|o| *o == baseline.commissions.totals),
        baseline: baseline.commissions.totals.clone(),
        candidate: candidate.commissions.totals.clone(),
        paid: (counts.paid_old, counts.paid_new),
        rows,
        by_difference,
        winners: counts.winners,
        losers: counts.losers,
        unchanged: counts.unchanged,
        deciles,
        top_n: top_n.min(MAX_TOP_N),
    }
}

/// Every baseline partner's row, in arena order: each block of the arena
/// fills its own slice of one zeroed allocation (its pages faulted in by
/// the threads that write them), so nothing is sorted or copied.
fn rows_in_arena_order(baseline: &Side, candidate: &Side) -> Vec<SimRow> {
    let blocks = baseline.position.par_chunks(ROWS_PER_TASK);
    let live: Vec<usize> = blocks.map(|block| block.iter().filter(|&&p| p != NONE).count()).collect();
    let mut rows: Vec<SimRow> = bytemuck::zeroed_vec(live.iter().sum());
    let mut slices = Vec::with_capacity(live.len());
    let mut rest = rows.as_mut_slice();
    for &count in &live {
        let (slice, tail) = rest.split_at_mut(count);
        slices.push(slice);
        rest = tail;
    }
    slices.into_par_iter().enumerate().for_each(|(block, out)| {
        let first = block * ROWS_PER_TASK;
        let partners = (first..(first + ROWS_PER_TASK).min(baseline.position.len()))
            .filter_map(|x| baseline.at(x).map(|old| (x, old)));
        for (row, (x, (old_cents, old_rank))) in out.iter_mut().zip(partners) {
            // Both sides come from one snapshot: the same live partners.
            let (new_cents, new_rank) = candidate.at(x).unwrap_or((0, 0));
            *row = SimRow { partner: x as u32, old_cents, new_cents, old_rank, new_rank };
        }
    });
    rows
}

/// The counts of a comparison, in one parallel pass over its rows.
#[derive(Default)]
struct Counts {
    winners: u64,
    losers: u64,
    unchanged: u64,
    paid_old: u64,
    paid_new: u64,
}

impl Counts {
    fn of(rows: &[SimRow]) -> Counts {
        let count = |mut acc: Counts, row: &SimRow| {
            match row.difference().signum() {
                1 => acc.winners += 1,
                -1 => acc.losers += 1,
                _ => acc.unchanged += 1,
            }
            acc.paid_old += u64::from(row.old_cents > 0);
            acc.paid_new += u64::from(row.new_cents > 0);
            acc
        };
        let add = |a: Counts, b: Counts| Counts {
            winners: a.winners + b.winners,
            losers: a.losers + b.losers,
            unchanged: a.unchanged + b.unchanged,
            paid_old: a.paid_old + b.paid_old,
            paid_new: a.paid_new + b.paid_new,
        };
        rows.par_iter().with_min_len(ROWS_PER_TASK).fold(Counts::default, count).reduce(Counts::default, add)
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
    order.par_extend((0..rows.len() as u32).into_par_iter().filter(|&i| rows[i as usize].difference() == 0));
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
