//! The counting inside GetTeamProgress: one level's partners in (ranges
//! of the [`TeamLayout`] and loose partners), their counts out (active,
//! joined, completions per module).
//!
//! Each count is its own tight, branch-free loop over one or two columns,
//! so the loop keeps its state in registers and the CPU overlaps the loads
//! of consecutive partners. Measured in-process on the worst 100,000 shape
//! (BENCHMARKS.md): one loop doing everything over a gathered list ~34 ns
//! a partner, one loop per count ~30 ns, the same over the layout's ranges
//! ~17 ns, branch-free and with the masks summed by table ~7-9 ns.
//!
//! Sequential on purpose: a rayon split of the large levels was measured
//! (2026-11-29) and gave no lower latency on this 2-vCPU machine, only
//! more CPU per call (BENCHMARKS.md, *Team support*).

use super::layout::{LevelSet, TeamLayout};
use super::training::{CompletionSummary, Training, SUMMARY_MODULES};
use crate::engine::cow_column::CowColumn;
use crate::engine::date::Date;
use crate::engine::genealogy::forest::Genealogy;
use crate::engine::genealogy::partner_status::PartnerStatus;

/// What counting a level reads, fixed for one GetTeamProgress call.
pub(in crate::engine) struct TallyInput<'a> {
    /// The genealogy (status and joining day of the loose partners).
    pub genealogy: &'a Genealogy,
    /// The period's PV column, `None` when the period has no orders (then
    /// nobody is active).
    pub pv: Option<&'a CowColumn<i64>>,
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

/// The counts of one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::engine) struct LevelTally {
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

/// Counts one level: its ranges of laid-out positions (streaming through
/// the layout's copied columns) and its loose partners (read live).
pub(in crate::engine) fn tally_level(input: &TallyInput, layout: &TeamLayout, level: &LevelSet) -> LevelTally {
    let mut counts = LevelTally::zero(input.modules);
    let mut masks: Vec<u32> = Vec::with_capacity(level.len());
    for &(lo, hi) in &level.ranges {
        count_range(input, layout, lo, hi, &mut counts, &mut masks);
    }
    count_loose(input, &level.loose, &mut counts, &mut masks);
    match counts.completed.len().min(SUMMARY_MODULES as usize).div_ceil(8) {
        0 => {}
        1 => add_mask_bits::<1>(&masks, &mut counts.completed),
        2 => add_mask_bits::<2>(&masks, &mut counts.completed),
        3 => add_mask_bits::<3>(&masks, &mut counts.completed),
        _ => add_mask_bits::<4>(&masks, &mut counts.completed),
    }
    counts
}

/// Byte `i` of entry `b` is bit `i` of `b`: adding entries counts eight
/// bits at once, one per byte.
const SPREAD_BITS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 8 {
            table[b] |= (((b >> i) & 1) as u64) << (8 * i);
            i += 1;
        }
        b += 1;
    }
    table
};

/// Adds to `row[m]` how many of `masks` have bit `m`, for the modules of
/// the first `GROUPS` bytes. Per mask, one table entry per byte adds its
/// eight bits to eight byte-wide counters (no carry: flushed every 255
/// masks): ~4 instructions per 8 modules, where a pass per module took ~3
/// per module at 4 lanes.
fn add_mask_bits<const GROUPS: usize>(masks: &[u32], row: &mut [u32]) {
    for block in masks.chunks(255) {
        let mut counters = [0u64; GROUPS];
        for &bits in block {
            for (group, counter) in counters.iter_mut().enumerate() {
                *counter += SPREAD_BITS[((bits >> (8 * group)) & 0xff) as usize];
            }
        }
        for (module, count) in row.iter_mut().enumerate().take(8 * GROUPS) {
            *count += ((counters[module / 8] >> (8 * (module % 8))) & 0xff) as u32;
        }
    }
}

/// Counts the partners at positions `lo..hi` of the layout, from its
/// copied columns.
fn count_range(
    input: &TallyInput,
    layout: &TeamLayout,
    lo: u32,
    hi: u32,
    counts: &mut LevelTally,
    masks: &mut Vec<u32>,
) {
    // Chunk by chunk: the copied columns are one slice only within a chunk.
    let mut lo = lo;
    while lo < hi {
        let end = layout.chunk_end(lo, hi);
        let columns = Columns {
            xs: layout.order(lo, end),
            status: layout.status(lo, end),
            joined_on: layout.joined_on(lo, end),
            summaries: layout.summary(lo, end),
        };
        count_columns(input, &columns, counts, masks);
        lo = end;
    }
}

/// Counts loose partners (not laid out): their live columns are gathered
/// first, so both kinds of partner go through one count. Loose partners
/// are the few created or moved since the layout was built.
fn count_loose(input: &TallyInput, xs: &[u32], counts: &mut LevelTally, masks: &mut Vec<u32>) {
    if xs.is_empty() {
        return;
    }
    let g = input.genealogy;
    let status: Vec<PartnerStatus> = xs.iter().map(|&x| g.status_at(x)).collect();
    let joined_on: Vec<Date> = xs.iter().map(|&x| g.joined_on_at(x)).collect();
    let summaries: Vec<CompletionSummary> = xs.iter().map(|&x| input.training.summary_of(x)).collect();
    count_columns(input, &Columns { xs, status: &status, joined_on: &joined_on, summaries: &summaries }, counts, masks);
}

/// What the count reads of some partners, one entry per partner in each.
struct Columns<'a> {
    /// Arena indexes (for the PV of the period and the completion lists).
    xs: &'a [u32],
    status: &'a [PartnerStatus],
    joined_on: &'a [Date],
    summaries: &'a [CompletionSummary],
}

/// Adds the active, joined and completed partners of `columns` to
/// `counts`; the summary masks go to `masks`.
fn count_columns(input: &TallyInput, columns: &Columns, counts: &mut LevelTally, masks: &mut Vec<u32>) {
    // u32 counts: a level holds fewer than u32::MAX partners (indexes are u32).
    if let Some(pv) = input.pv {
        let min = input.min_active_pv_units;
        let mut active = 0u32;
        for (&status, &x) in columns.status.iter().zip(columns.xs) {
            // `&`, not `&&`: no branch on a status that varies from one partner to the next.
            let units = pv.get(x as usize).copied().unwrap_or(i64::MIN);
            active += u32::from((status == PartnerStatus::Enrolled) & (units >= min));
        }
        counts.active += active;
    }
    let (first, last) = (input.first_day, input.last_day);
    counts.joined += columns.joined_on.iter().filter(|&&d| first <= d && d <= last).count() as u32;
    count_summaries(input, columns.xs, columns.summaries, masks, &mut counts.completed);
}

/// Collects into `masks` what the summaries of `xs` say of modules 0 to
/// 30 by the period's last day (summed by [`add_mask_bits`] once the level
/// is done), and adds to `row` what only the lists hold.
///
/// Branch-free on purpose: 30 % of partners have completions, in no
/// pattern, so a branch per partner mispredicts often; each mask is
/// written and the write kept only when it has a bit. The lists are read
/// in a second loop, only when some partner needs it (rare: a module past
/// the 31st, or a completion after the period).
fn count_summaries(
    input: &TallyInput,
    xs: &[u32],
    summaries: &[CompletionSummary],
    masks: &mut Vec<u32>,
    row: &mut [u32],
) {
    debug_assert_eq!(xs.len(), summaries.len());
    let last_day = input.last_day;
    let start = masks.len();
    masks.resize(start + summaries.len(), 0);
    let (mut kept, mut any_listed) = (start, false);
    for summary in summaries {
        let bits = summary.modules_by(last_day).unwrap_or(0);
        masks[kept] = bits;
        kept += usize::from(bits != 0);
        any_listed |= summary.needs_list(last_day);
    }
    masks.truncate(kept);
    if !any_listed {
        return;
    }
    for (&x, summary) in xs.iter().zip(summaries) {
        if let Some(from) = summary.listed_from(last_day) {
            count_listed(input.training, x, from, last_day, row);
        }
    }
}

/// Adds `x`'s listed completions of modules `from` and later, by the end
/// of `last_day`, to `row`.
fn count_listed(training: &Training, x: u32, from: u32, last_day: Date, row: &mut [u32]) {
    for c in training.completions_at(x) {
        if c.module >= from && c.completed_on <= last_day {
            row[c.module as usize] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-wide counters against one pass per module, over more than
    /// one block of 255 masks, for every width.
    #[test]
    fn mask_bits_add_up_like_one_pass_per_module() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let masks: Vec<u32> = (0..1_000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Every bit set in the first 300 masks: counters reach 255 in one block.
                if i < 300 {
                    0x7fff_ffff
                } else {
                    state as u32 & 0x7fff_ffff
                }
            })
            .collect();
        let naive = |modules: usize| -> Vec<u32> {
            (0..modules).map(|m| masks.iter().map(|&b| (b >> m) & 1).sum::<u32>() + 7).collect()
        };
        for modules in [1, 8, 9, 20, 24, 31] {
            let mut row = vec![7u32; modules];
            match modules.div_ceil(8) {
                1 => add_mask_bits::<1>(&masks, &mut row),
                2 => add_mask_bits::<2>(&masks, &mut row),
                3 => add_mask_bits::<3>(&masks, &mut row),
                _ => add_mask_bits::<4>(&masks, &mut row),
            }
            assert_eq!(row, naive(modules), "{modules} modules");
        }
    }
}
