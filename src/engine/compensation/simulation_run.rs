//! A simulation's computation, in three phases (baseline, candidate,
//! compare). When the candidate keeps the baseline's volume settings (the
//! common case: a compensation team changes rates, caps or ranks) the
//! rollup (GV and level profiles, the expensive part of a run) is computed
//! once and both plans' ranks and commissions (`run_figures.rs`) read it
//! and the baseline's captured inputs, borrowed; the position map is built
//! once for both. Otherwise each side is captured and rolled up on its
//! own, as two commission runs. Either way each side's figures are what a
//! commission run under its plan gives (the property tests check it).

use super::commission_run::{RunProgress, RunSnapshot};
use super::plan::Plan;
use super::run_figures::{commissions, position_map, rank_all, Commissions};
use super::simulation::{compare, CandidateInput, Comparison, Side, SimulationInputs};
use super::streaming_sides::streamed_sides;
use crate::engine::cancel::Cancel;
use crate::engine::volumes::rollup::BfsLayout;
use std::sync::Arc;

/// The phases of a simulation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimPhase {
    /// The baseline's rollup (shared or not) and figures.
    Baseline,
    /// The candidate's figures (and its own rollup when not shared).
    Candidate,
    /// The partner-by-partner comparison.
    Compare,
}

impl SimPhase {
    /// The phase's name, as a job shows it.
    pub fn name(self) -> &'static str {
        match self {
            SimPhase::Baseline => "baseline",
            SimPhase::Candidate => "candidate",
            SimPhase::Compare => "compare",
        }
    }
}

/// One side's result: its paid-as ranks (none when it has the other
/// side's), its commissions and, computed on its own capture, its
/// position map (empty when it shares the other side's).
struct SideResult {
    rank: Option<Vec<u8>>,
    commissions: Commissions,
    position: Vec<u32>,
}

impl SimulationInputs {
    /// Live partners in the baseline.
    pub fn partners(&self) -> usize {
        self.baseline.partners()
    }

    /// Whether the candidate shares the baseline's inputs and rollup.
    pub fn rollup_shared(&self) -> bool {
        matches!(self.candidate, CandidateInput::Shared(_))
    }

    /// The breadth-first layout the baseline captured (to keep for the
    /// next job's capture).
    pub fn layout(&self) -> Arc<BfsLayout> {
        self.baseline.layout()
    }

    /// Makes both sides stop at their next chunk once `cancel` is set.
    pub fn watch(&mut self, cancel: Arc<Cancel>) {
        self.baseline.watch(Arc::clone(&cancel));
        if let CandidateInput::Own(candidate) = &mut self.candidate {
            candidate.watch(cancel);
        }
    }

    /// Computes both sides and compares them; `progress` follows the runs
    /// (benches, tests). `None` once cancelled ([`SimulationInputs::watch`]).
    pub fn run(self, progress: &RunProgress, top_n: usize) -> Option<Comparison> {
        self.run_phases(progress, top_n, |_| {})
    }

    /// [`SimulationInputs::run`], calling `enter` as each phase starts.
    pub fn run_phases<F: FnMut(SimPhase)>(self, progress: &RunProgress, top_n: usize, enter: F) -> Option<Comparison> {
        let SimulationInputs { baseline, candidate, official } = self;
        let (new_plan, old, new) = match candidate {
            CandidateInput::Shared(plan) => {
                let (old, new) = shared_sides(&baseline, &plan, progress, enter)?;
                (plan, old, new)
            }
            CandidateInput::Own(candidate) => {
                let (old, new) = own_sides(&baseline, &candidate, progress, enter)?;
                (Arc::clone(&candidate.plan), old, new)
            }
        };
        // The inputs (PV, RV, activity) are no longer read: freed before
        // the comparison allocates.
        let old_plan = Arc::clone(&baseline.plan);
        drop(baseline);
        // The baseline always has its own ranks.
        let old_rank = old.rank.as_deref().unwrap_or_default();
        let new_position = if new.position.is_empty() { &old.position } else { &new.position };
        let old_side = Side { plan: &old_plan, position: &old.position, rank: old_rank, commissions: &old.commissions };
        let new_rank = new.rank.as_deref().unwrap_or(old_rank);
        let new_side = Side { plan: &new_plan, position: new_position, rank: new_rank, commissions: &new.commissions };
        Some(compare(old_side, new_side, official.as_ref(), top_n))
    }
}

/// Both sides over the baseline's one capture, streamed (`streaming_sides.rs`:
/// no side holds every level profile; one ranking when the ranks are
/// equal), then the one position map; `None` once cancelled.
fn shared_sides<F: FnMut(SimPhase)>(
    baseline: &RunSnapshot,
    plan: &Plan,
    progress: &RunProgress,
    mut enter: F,
) -> Option<(SideResult, SideResult)> {
    let input = &baseline.input;
    // Both sides are computed in one streamed pass: the baseline phase
    // covers it, the candidate phase is empty.
    enter(SimPhase::Baseline);
    let [old, new] = streamed_sides(input, [&baseline.plan, plan], baseline.kinds, progress)?;
    enter(SimPhase::Candidate);
    enter(SimPhase::Compare);
    let position = position_map(input.order(), baseline.arena_len);
    let old = SideResult { rank: old.rank, commissions: old.commissions, position };
    Some((old, SideResult { rank: new.rank, commissions: new.commissions, position: Vec::new() }))
}

/// Each side on its own capture and rollup, one after the other (each
/// rollup dropped before the next); `None` once cancelled.
fn own_sides<F: FnMut(SimPhase)>(
    baseline: &RunSnapshot,
    candidate: &RunSnapshot,
    progress: &RunProgress,
    mut enter: F,
) -> Option<(SideResult, SideResult)> {
    enter(SimPhase::Baseline);
    let old = own_side(baseline, progress);
    enter(SimPhase::Candidate);
    let new = own_side(candidate, progress);
    if baseline.input.is_cancelled() || candidate.input.is_cancelled() {
        return None;
    }
    enter(SimPhase::Compare);
    Some((old, new))
}

/// A side's rollup, ranks, commissions and position map, its rollup dropped.
fn own_side(snapshot: &RunSnapshot, progress: &RunProgress) -> SideResult {
    let rollup = snapshot.rollup(progress);
    let rank = rank_all(&snapshot.input, &rollup, &snapshot.plan, progress);
    let commissions = commissions(&snapshot.input, &rollup, &snapshot.plan, &rank, snapshot.kinds, progress);
    SideResult { rank: Some(rank), commissions, position: position_map(snapshot.input.order(), snapshot.arena_len) }
}
