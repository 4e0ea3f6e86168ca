//! A breadth-first copy of the genealogy that GetTeamProgress reads, so
//! each level of a team is a few contiguous ranges of positions instead of
//! a list gathered by following child links one partner at a time.
//!
//! Laid out breadth-first (roots, then depth 1, ...; each partner's
//! recruits contiguous, in child-list order), the partners of one level
//! below any partner form one range of positions, and the range of the
//! next level is `child_start[lo]..child_start[hi]`: two loads, whatever
//! the level's size. The layout keeps a copy of the columns the count
//! reads (status, joining day, completion summary) in position order, so
//! counting a range streams through memory.
//!
//! Writes keep it exact without moving anything:
//! - a partner whose list of recruits changed since the build (a recruit
//!   created, moved in or out, or terminated) is marked *relinked*: its
//!   recruits are then read from the live genealogy, one by one;
//! - a partner created since the build has no position (*loose*): it and
//!   its recruits are read from the live genealogy too;
//! - a status change or a completion updates the copied column at once.
//!
//! So a level is a list of ranges plus a list of loose partners, and a
//! clean team costs one range per level. [`TeamLayout::is_stale`] says
//! when so much changed that a rebuild pays (O(n), under the write lock).
//!
//! Architecture invariant: a position that is not relinked has exactly
//! the recruits it had at the build, at `child_start[p]..child_start[p +
//! 1]`; the copied columns equal the live ones for every laid-out partner
//! that is still in the tree. [`TeamLayout::is_in_step`] guards the
//! bookkeeping: a query whose genealogy or completions moved on without
//! the layout hearing of it reads everything live.

use super::training::{CompletionSummary, Training};
use crate::engine::cow_column::{ColumnBytes, CowColumn};
use crate::engine::date::Date;
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::genealogy::partner_status::PartnerStatus;
use std::sync::Arc;

/// Changes (relinked or loose partners) that make a rebuild due: at least
/// this many, and at least one per [`STALE_SHARE`] laid-out partners.
const STALE_MIN: usize = 4096;
/// See [`STALE_MIN`]: a rebuild is due when this share (1/16) changed,
/// which bounds its amortised cost to ~16 partners laid out per change.
const STALE_SHARE: usize = 16;

/// What the layout was built from and has heard of since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Synced {
    /// Partners ever created.
    partners: usize,
    /// The network's count of moves and status changes.
    changes: u64,
    /// Completions recorded.
    completions: u64,
}

impl Synced {
    fn now(g: &Genealogy, changes: u64, training: &Training) -> Synced {
        Synced { partners: g.len(), changes, completions: training.completion_count() }
    }
}

/// The breadth-first copy of the genealogy (see the module doc). A clone
/// (a snapshot) shares it: the columns only a build writes behind `Arc`s,
/// the ones writes keep up to date in [`CowColumn`]s.
#[derive(Default, Clone)]
pub struct TeamLayout {
    /// Arena index at each position.
    order: Arc<Vec<u32>>,
    /// Position of each arena index laid out; `NONE` for a partner
    /// terminated before the build. Partners created since are past its end.
    position: Arc<Vec<u32>>,
    /// First position of each position's recruits (one entry more than `order`).
    child_start: Arc<Vec<u32>>,
    /// Whether the list of recruits of the partner at a position changed
    /// since the build.
    relinked: CowColumn<bool>,
    /// Relinked positions.
    relinked_count: usize,
    /// The partner status at each position.
    status: CowColumn<PartnerStatus>,
    /// Joining day at each position.
    joined_on: Arc<Vec<Date>>,
    /// Completion summary at each position.
    summary: CowColumn<CompletionSummary>,
    synced: Synced,
}

/// The partners of one level: ranges of positions and loose partners.
#[derive(Debug, Default)]
pub(in crate::engine) struct LevelSet {
    /// Half-open ranges of positions, disjoint.
    pub ranges: Vec<(u32, u32)>,
    /// Arena indexes of partners read from the live genealogy.
    pub loose: Vec<u32>,
}

impl LevelSet {
    /// The number of partners.
    pub fn len(&self) -> usize {
        self.ranges.iter().map(|&(lo, hi)| (hi - lo) as usize).sum::<usize>() + self.loose.len()
    }

    /// Adds a range, merged into the last one when they touch.
    fn push_range(&mut self, lo: u32, hi: u32) {
        if lo >= hi {
            return;
        }
        match self.ranges.last_mut() {
            Some(last) if last.1 == lo => last.1 = hi,
            _ => self.ranges.push((lo, hi)),
        }
    }

    /// Empties both lists, keeping their memory.
    pub fn clear(&mut self) {
        self.ranges.clear();
        self.loose.clear();
    }
}

impl TeamLayout {
    /// Lays out every live partner of `g`, copying the columns the count
    /// reads. O(n).
    pub fn build(g: &Genealogy, changes: u64, training: &Training) -> TeamLayout {
        let mut depth_start = Vec::new();
        // Exact room up front: grown by doubling, the two columns would be
        // copied on the way and hold up to twice the memory.
        let mut order = Vec::with_capacity(g.len());
        let mut child_start = Vec::with_capacity(g.len() + 1);
        g.lay_out_breadth_first(&mut order, &mut child_start, &mut depth_start);
        let mut position = vec![NONE; g.len()];
        for (pos, &x) in order.iter().enumerate() {
            position[x as usize] = pos as u32;
        }
        let mut relinked = CowColumn::default();
        relinked.resize(order.len(), false);
        // Sequential: copying in parallel with rayon was slower at 10M (the
        // two threads fault the new pages in; BENCHMARKS.md).
        let (mut status, mut summary) = (CowColumn::default(), CowColumn::default());
        for &x in &order {
            status.push(g.status_at(x));
            summary.push(training.summary_of(x));
        }
        let joined_on = order.iter().map(|&x| g.joined_on_at(x)).collect();
        let mut layout = TeamLayout {
            order: Arc::new(order),
            position: Arc::new(position),
            child_start: Arc::new(child_start),
            relinked,
            relinked_count: 0,
            status,
            joined_on: Arc::new(joined_on),
            summary,
            synced: Synced::default(),
        };
        layout.sync(g, changes, training);
        layout
    }

    /// The position of a partner, if it has one.
    pub fn position_of(&self, x: u32) -> Option<u32> {
        self.position.get(x as usize).copied().filter(|&p| p != NONE)
    }

    /// Marks that `x`'s list of recruits changed.
    pub(in crate::engine) fn relink(&mut self, x: u32) {
        if let Some(pos) = self.position_of(x) {
            let flag = &mut self.relinked[pos as usize];
            self.relinked_count += usize::from(!*flag);
            *flag = true;
        }
    }

    /// Copies `x`'s status and completion summary again.
    pub(in crate::engine) fn refresh(&mut self, g: &Genealogy, training: &Training, x: u32) {
        if let Some(pos) = self.position_of(x) {
            self.status[pos as usize] = g.status_at(x);
            self.summary[pos as usize] = training.summary_of(x);
        }
    }

    /// Records that the layout has heard of every change so far.
    pub(in crate::engine) fn sync(&mut self, g: &Genealogy, changes: u64, training: &Training) {
        self.synced = Synced::now(g, changes, training);
    }

    /// Whether the layout heard of every creation, move, status change
    /// (`changes` counts them) and completion so far.
    pub fn is_in_step(&self, g: &Genealogy, changes: u64, training: &Training) -> bool {
        self.synced == Synced::now(g, changes, training)
    }

    /// Whether so many partners changed (relinked, or created since the
    /// build) that a rebuild is due.
    pub fn is_stale(&self, g: &Genealogy) -> bool {
        let changed = self.relinked_count + g.len().saturating_sub(self.position.len());
        changed >= STALE_MIN.max(self.order.len() / STALE_SHARE)
    }

    /// Partners laid out, relinked, and created since the build.
    pub fn counts(&self, g: &Genealogy) -> (usize, usize, usize) {
        (self.order.len(), self.relinked_count, g.len().saturating_sub(self.position.len()))
    }

    /// The level of `x` itself: one position, or one loose partner.
    pub(in crate::engine) fn start(&self, x: u32) -> LevelSet {
        let mut set = LevelSet::default();
        match self.position_of(x) {
            Some(pos) => set.push_range(pos, pos + 1),
            None => set.loose.push(x),
        }
        set
    }

    /// Appends the recruits of every partner of `level` to `next`.
    pub(in crate::engine) fn expand(&self, g: &Genealogy, level: &LevelSet, next: &mut LevelSet) {
        for &(lo, hi) in &level.ranges {
            let mut run = lo;
            if self.relinked_count > 0 {
                for pos in lo..hi {
                    if self.relinked[pos as usize] {
                        next.push_range(self.child_start[run as usize], self.child_start[pos as usize]);
                        self.push_live_recruits(g, self.order[pos as usize], next);
                        run = pos + 1;
                    }
                }
            }
            next.push_range(self.child_start[run as usize], self.child_start[hi as usize]);
        }
        for &x in &level.loose {
            self.push_live_recruits(g, x, next);
        }
    }

    /// Appends `x`'s live recruits: each at its position, or loose.
    fn push_live_recruits(&self, g: &Genealogy, x: u32, next: &mut LevelSet) {
        let mut c = g.first_child_at(x);
        while c != NONE {
            match self.position_of(c) {
                Some(pos) => next.push_range(pos, pos + 1),
                None => next.loose.push(c),
            }
            c = g.next_sibling_at(c);
        }
    }

    /// The arena indexes of a range of positions.
    pub(in crate::engine) fn order(&self, lo: u32, hi: u32) -> &[u32] {
        &self.order[lo as usize..hi as usize]
    }

    /// The end of the part of positions `lo..hi` that lies in `lo`'s chunk
    /// of the copied columns (`status`, `summary`): a range is counted chunk
    /// by chunk, one slice each. Chunk sizes are powers of two, so a chunk
    /// of the column with the fewer rows a chunk lies within one of the other.
    pub(in crate::engine) fn chunk_end(&self, lo: u32, hi: u32) -> u32 {
        let rows = self.status.chunk_rows().min(self.summary.chunk_rows()) as u64;
        let next_chunk = (u64::from(lo) | (rows - 1)) + 1;
        next_chunk.min(u64::from(hi)) as u32
    }

    /// The statuses of a range of positions within one chunk (see
    /// [`TeamLayout::chunk_end`]).
    pub(in crate::engine) fn status(&self, lo: u32, hi: u32) -> &[PartnerStatus] {
        self.status.slice_in_chunk(lo as usize..hi as usize)
    }

    /// The joining days of a range of positions.
    pub(in crate::engine) fn joined_on(&self, lo: u32, hi: u32) -> &[Date] {
        &self.joined_on[lo as usize..hi as usize]
    }

    /// The completion summaries of a range of positions within one chunk
    /// (see [`TeamLayout::chunk_end`]).
    pub(in crate::engine) fn summary(&self, lo: u32, hi: u32) -> &[CompletionSummary] {
        self.summary.slice_in_chunk(lo as usize..hi as usize)
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        let bytes = self.bytes();
        bytes.owned_bytes + bytes.shared_bytes
    }

    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        let fixed = self.order.capacity() * 4
            + self.child_start.capacity() * 4
            + self.position.capacity() * 4
            + self.joined_on.capacity() * std::mem::size_of::<Date>();
        let fixed = if Arc::strong_count(&self.order) == 1 {
            ColumnBytes { owned_bytes: fixed, shared_bytes: 0 }
        } else {
            ColumnBytes { owned_bytes: 0, shared_bytes: fixed }
        };
        fixed + self.relinked.bytes() + self.status.bytes() + self.summary.bytes()
    }
}
