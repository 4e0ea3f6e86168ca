//! The counting inside GetTeamProgress: one level's partners in, their
//! counts (active, joined, completions per module) and the next level's
//! partners out.
//!
//! Each count is its own tight loop over the level's list, reading one or
//! two columns, so the loop keeps its state in registers and the CPU
//! overlaps the loads of consecutive partners (one loop doing everything
//! spilled to the stack: ~34 ns per partner in-process, ~30 ns after).
//!
//! Sequential on purpose: a rayon split of the large levels was measured
//! (2026-11-29) and gave no lower latency on this 2-vCPU machine, only
//! more CPU per call (BENCHMARKS.md, *Team support*).

use super::date::Date;
use super::genealogy::{Genealogy, NONE};
use super::status::Status;
use super::training::{Training, SUMMARY_MODULES};

/// What counting a level reads, fixed for one GetTeamProgress call.
pub(super) struct TallyInput<'a> {
    /// The genealogy (status, joining day, children).
    pub genealogy: &'a Genealogy,
    /// The period's PV column, `None` when the period has no orders (then
    /// nobody is active).
    pub pv: Option<&'a [i64]>,
    /// The plan's least PV of an active partner, in units.
    pub min_active_pv_units: i64,
    /// The training modules and completions.
    pub training: &'a Training,
    /// The period's first day: joining on or after it counts as joined.
    pub first_day: Date,
    /// The period's last day: the end of joining and of completions.
    pub last_day: Date,
    /// The number of training modules.
    pub modules: usize,
}

/// The counts of one level, or of a chunk of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LevelTally {
    /// Partners active in the period.
    pub active: u32,
    /// Partners who joined in the period.
    pub joined: u32,
    /// Per module ordinal, the partners who completed it by the last day.
    pub completed: Vec<u32>,
}

impl LevelTally {
    fn zero(modules: usize) -> LevelTally {
        LevelTally { active: 0, joined: 0, completed: vec![0; modules] }
    }
}

/// Counts `xs`, one level's partners, and, when `next` is given, appends
/// the partners of the level below to it in child-list order.
pub(super) fn tally_level(input: &TallyInput, xs: &[u32], next: Option<&mut Vec<u32>>) -> LevelTally {
    let g = input.genealogy;
    let mut counts = LevelTally::zero(input.modules);
    // u32 counts: a list holds fewer than u32::MAX partners (indexes are u32).
    if let Some(pv) = input.pv {
        let (status, min) = (&g.status[..], input.min_active_pv_units);
        let is_active = |x: usize| status[x] == Status::Enrolled && pv.get(x).is_some_and(|&units| units >= min);
        counts.active = xs.iter().filter(|&&x| is_active(x as usize)).count() as u32;
    }
    let (joined_on, first, last) = (&g.joined_on[..], input.first_day, input.last_day);
    counts.joined = xs.iter().filter(|&&x| (first..=last).contains(&joined_on[x as usize])).count() as u32;
    count_completions(input, xs, &mut counts.completed);
    if let Some(next) = next {
        let (first_child, next_sibling) = (&g.first_child[..], &g.next_sibling[..]);
        for &x in xs {
            let mut c = first_child[x as usize];
            while c != NONE {
                next.push(c);
                c = next_sibling[c as usize];
            }
        }
    }
    counts
}

/// Adds the completions of `xs` by the period's last day to `row` (per
/// module ordinal). Modules 0 to 30 come from the partners' summary masks,
/// counted one module at a time over the gathered masks (a loop the
/// compiler vectorises; incrementing a counter per set bit made
/// consecutive partners wait on each other's stores). The list is read
/// only for later modules, or when a summary holds a completion after the
/// last day.
fn count_completions(input: &TallyInput, xs: &[u32], row: &mut [u32]) {
    let (training, last_day) = (input.training, input.last_day);
    let mut masks: Vec<u32> = Vec::with_capacity(xs.len());
    for &x in xs {
        let summary = training.summary_of(x);
        if summary.mask == 0 {
            continue;
        }
        match summary.modules_by(last_day) {
            Some(bits) => {
                masks.push(bits);
                if summary.has_later_modules() {
                    count_listed(training, x, SUMMARY_MODULES, last_day, row);
                }
            }
            None => count_listed(training, x, 0, last_day, row),
        }
    }
    let summed = row.len().min(SUMMARY_MODULES as usize);
    for (module, count) in row[..summed].iter_mut().enumerate() {
        *count += masks.iter().map(|&bits| (bits >> module) & 1).sum::<u32>();
    }
}

/// Adds `x`'s listed completions of modules `from` and later, by the end
/// of `last_day`, to `row`.
fn count_listed(training: &Training, x: u32, from: u32, last_day: Date, row: &mut [u32]) {
    for c in training.completions_of(x) {
        if c.module >= from && c.completed_on <= last_day {
            row[c.module as usize] += 1;
        }
    }
}
