//! Breadth-first pages of a downline that resume in O(page) from a small
//! cursor, without materialising the downline and without recursion.
//!
//! A level of `root`'s downline is walked in pre-order restricted to one
//! depth ("next at the same level"); the cursor remembers the first and
//! last partner of the current level, so the end of a level is known
//! without climbing to `root` (which would make a long chain quadratic),
//! and the next level starts at the first child of the first partner of
//! this level that has one.

use super::forest::{Genealogy, NONE};
use super::partner_status::PartnerStatus;
use crate::engine::partner_ix::PartnerIx;

/// Where a downline listing stands: the level being listed, its first and
/// last partner, and the next partner to return ([`PartnerIx::NONE`] once
/// the level is exhausted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownlineCursor {
    /// The level below the listed partner (1 = frontline).
    pub level: u32,
    /// The first partner of this level.
    pub first_ix: PartnerIx,
    /// The last partner of this level.
    pub last_ix: PartnerIx,
    /// The next partner to return, or [`PartnerIx::NONE`].
    pub next_ix: PartnerIx,
}

/// One page of a downline listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownlinePage {
    /// `(partner index, level)` pairs, breadth-first.
    pub members: Vec<(PartnerIx, u32)>,
    /// Where the next page starts; `None` after the last partner.
    pub next: Option<DownlineCursor>,
}

/// The walk's own cursor: [`DownlineCursor`] on raw column positions.
#[derive(Clone, Copy)]
struct Cursor {
    level: u32,
    first: u32,
    last: u32,
    next: u32,
}

impl Cursor {
    fn of(c: DownlineCursor) -> Cursor {
        Cursor { level: c.level, first: c.first_ix.get(), last: c.last_ix.get(), next: c.next_ix.get() }
    }

    fn public(self) -> DownlineCursor {
        let [first_ix, last_ix, next_ix] = [self.first, self.last, self.next].map(PartnerIx::new);
        DownlineCursor { level: self.level, first_ix, last_ix, next_ix }
    }
}

impl Genealogy {
    /// Returns up to `page_size` partners of `root_ix`'s downline, down to
    /// `max_depth` levels (0: all), starting at `cursor` (`None`: the start).
    pub fn downline_page(
        &self,
        root_ix: PartnerIx,
        max_depth: u32,
        cursor: Option<DownlineCursor>,
        page_size: usize,
    ) -> DownlinePage {
        let root = root_ix.get();
        let first = self.first_child_at(root);
        let start = Cursor { level: 1, first, last: self.last_child_at(root), next: first };
        let mut cur = cursor.map_or(start, Cursor::of);
        let mut members = Vec::with_capacity(page_size.min(self.downline_count_of(root_ix) as usize));
        loop {
            match self.settle(root, max_depth, cur) {
                None => return DownlinePage { members, next: None },
                Some(settled) => cur = settled,
            }
            if members.len() == page_size {
                return DownlinePage { members, next: Some(cur.public()) };
            }
            members.push((PartnerIx::new(cur.next), cur.level));
            cur.next = if cur.next == cur.last { NONE } else { self.next_same_level(root, cur.next) };
        }
    }

    /// Whether a cursor (from a page token) still describes a level of
    /// `root_ix`'s downline. O(1): the caller has already checked that no
    /// move or termination happened since the cursor was made (creations
    /// only append), so its partners are still below `root_ix` where they
    /// were.
    pub fn cursor_is_valid(&self, root_ix: PartnerIx, cursor: &DownlineCursor) -> bool {
        let n = self.len();
        let depth = u64::from(self.depth_of(root_ix)) + u64::from(cursor.level);
        let at_level = |ix: PartnerIx| {
            ix.as_usize() < n
                && self.status_of(ix) != PartnerStatus::Terminated
                && u64::from(self.depth_of(ix)) == depth
        };
        cursor.level >= 1
            && at_level(cursor.first_ix)
            && at_level(cursor.last_ix)
            && (cursor.next_ix.is_none() || at_level(cursor.next_ix))
    }

    /// Moves an exhausted cursor to the next level; `None` when the listing is over.
    fn settle(&self, root: u32, max_depth: u32, cur: Cursor) -> Option<Cursor> {
        if cur.next != NONE {
            return Some(cur);
        }
        if cur.first == NONE || (max_depth != 0 && cur.level >= max_depth) {
            return None;
        }
        let first = self.first_child_at_level(root, cur.first, cur.last)?;
        let last = self.last_child_at_level(root, cur.last, cur.first);
        debug_assert!(last != NONE);
        Some(Cursor { level: cur.level + 1, first, last, next: first })
    }

    /// The first child of the partners of one level, scanning forward from `from`.
    fn first_child_at_level(&self, root: u32, from: u32, last: u32) -> Option<u32> {
        let mut node = from;
        loop {
            let child = self.first_child_at(node);
            if child != NONE {
                return Some(child);
            }
            if node == last {
                return None;
            }
            node = self.next_same_level(root, node);
        }
    }

    /// The last child of the partners of one level, scanning backward from `from`.
    fn last_child_at_level(&self, root: u32, from: u32, first: u32) -> u32 {
        let mut node = from;
        loop {
            let child = self.last_child_at(node);
            if child != NONE || node == first {
                return child;
            }
            node = self.prev_same_level(root, node);
        }
    }

    /// The partner after `x` at `x`'s depth within `root`'s downline, in
    /// breadth-first order; `NONE` when there is none.
    fn next_same_level(&self, root: u32, x: u32) -> u32 {
        let target = self.depth_at(x);
        let mut node = self.next_in_subtree_skipping_children(root, x);
        while node != NONE {
            if self.depth_at(node) == target {
                return node;
            }
            let child = self.first_child_at(node);
            node = if child != NONE { child } else { self.next_in_subtree_skipping_children(root, node) };
        }
        NONE
    }

    /// The mirror of `next_same_level`: the partner before `x` at its depth.
    fn prev_same_level(&self, root: u32, x: u32) -> u32 {
        let target = self.depth_at(x);
        let mut node = self.prev_in_subtree_skipping_children(root, x);
        while node != NONE {
            if self.depth_at(node) == target {
                return node;
            }
            let child = self.last_child_at(node);
            node = if child != NONE { child } else { self.prev_in_subtree_skipping_children(root, node) };
        }
        NONE
    }

    /// The mirror of `next_in_subtree_skipping_children`, walking right to left.
    fn prev_in_subtree_skipping_children(&self, root: u32, mut node: u32) -> u32 {
        loop {
            let sibling = self.prev_sibling_at(node);
            if sibling != NONE {
                return sibling;
            }
            node = self.sponsor_at(node);
            if node == root || node == NONE {
                return NONE;
            }
        }
    }
}
