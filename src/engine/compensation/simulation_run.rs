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
use super::run_figures::{position_map, run_figures, RunFigures};
use super::simulation::{compare, CandidateInput, Comparison, Side, SimulationInputs};
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

/// One side computed on its own capture: its figures and position map.
struct OwnSide {
    figures: RunFigures,
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
        match candidate {
            CandidateInput::Shared(plan) => {
                let (old, new, position) = shared_sides(&baseline, &plan, progress, enter)?;
                // Its inputs (PV, RV, activity) are no longer read: freed
                // before the comparison allocates.
                let baseline_plan = Arc::clone(&baseline.plan);
                drop(baseline);
                let old = Side { plan: &baseline_plan, position: &position, figures: &old };
                let new = Side { plan: &plan, position: &position, figures: &new };
                Some(compare(old, new, official.as_ref(), top_n))
            }
            CandidateInput::Own(candidate) => {
                let (old, new) = own_sides(&baseline, &candidate, progress, enter)?;
                let plans = (Arc::clone(&baseline.plan), Arc::clone(&candidate.plan));
                drop((baseline, candidate));
                let old = Side { plan: &plans.0, position: &old.position, figures: &old.figures };
                let new = Side { plan: &plans.1, position: &new.position, figures: &new.figures };
                Some(compare(old, new, official.as_ref(), top_n))
            }
        }
    }
}

/// Both sides over the baseline's one rollup, then the one position map
/// (the rollup dropped first); `None` once cancelled.
fn shared_sides<F: FnMut(SimPhase)>(
    baseline: &RunSnapshot,
    plan: &Plan,
    progress: &RunProgress,
    mut enter: F,
) -> Option<(RunFigures, RunFigures, Vec<u32>)> {
    enter(SimPhase::Baseline);
    let rollup = baseline.rollup(progress);
    let old = run_figures(&baseline.input, &rollup, &baseline.plan, baseline.kinds, progress);
    enter(SimPhase::Candidate);
    let new = run_figures(&baseline.input, &rollup, plan, baseline.kinds, progress);
    drop(rollup);
    if baseline.input.is_cancelled() {
        return None;
    }
    enter(SimPhase::Compare);
    Some((old, new, position_map(baseline.input.order(), baseline.arena_len)))
}

/// Each side on its own capture and rollup, one after the other (each
/// rollup dropped before the next); `None` once cancelled.
fn own_sides<F: FnMut(SimPhase)>(
    baseline: &RunSnapshot,
    candidate: &RunSnapshot,
    progress: &RunProgress,
    mut enter: F,
) -> Option<(OwnSide, OwnSide)> {
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

/// A side's rollup, figures and position map, its rollup dropped.
fn own_side(snapshot: &RunSnapshot, progress: &RunProgress) -> OwnSide {
    let rollup = snapshot.rollup(progress);
    let figures = run_figures(&snapshot.input, &rollup, &snapshot.plan, snapshot.kinds, progress);
    OwnSide { figures, position: position_map(snapshot.input.order(), snapshot.arena_len) }
}
