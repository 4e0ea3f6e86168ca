//! The low-level column edits shared by single writes, bulk loads and
//! recovery: appending a partner, keeping child lists in index order, and
//! keeping depths and downline counts right.

use super::forest::{Genealogy, NONE};
use super::partner_status::PartnerStatus;
use crate::engine::date::Date;
use crate::engine::error::EngineResult;

impl Genealogy {
    /// Appends an enrolled partner with no links yet; the caller links it.
    pub(in crate::engine) fn push_partner(
        &mut self,
        id: &str,
        sponsor: u32,
        joined_on: Date,
        name: &str,
    ) -> EngineResult<u32> {
        let ix = self.ids.push(id)?;
        self.push_columns(ix, sponsor, joined_on, name);
        Ok(ix)
    }

    fn push_columns(&mut self, ix: u32, sponsor: u32, joined_on: Date, name: &str) {
        debug_assert_eq!(ix as usize, self.sponsor.len());
        self.sponsor.push(sponsor);
        self.first_child.push(NONE);
        self.last_child.push(NONE);
        self.next_sibling.push(NONE);
        self.prev_sibling.push(NONE);
        let depth = if sponsor == NONE { 0 } else { self.depth_at(sponsor) + 1 };
        self.depth.push(depth);
        let jump = self.jump_target(sponsor, ix);
        self.jump.push(jump);
        self.status.push(PartnerStatus::Enrolled);
        self.joined_on.push(joined_on);
        self.frontline.push(0);
        self.downline.push(0);
        if !name.is_empty() {
            self.names.insert(ix, name.into());
        }
    }

    /// Appends a root partner for the loader, refusing an id stored twice.
    pub(in crate::engine) fn push_partner_unique(
        &mut self,
        id: &str,
        joined_on: Date,
        name: &str,
    ) -> Result<u32, String> {
        let ix = match self.ids.push_unique(id) {
            Ok(Some(ix)) => ix,
            Ok(None) => return Err(format!("partner id '{id}' is stored twice")),
            Err(e) => return Err(e.to_string()),
        };
        self.push_columns(ix, NONE, joined_on, name);
        Ok(ix)
    }

    /// Reserves room for `additional` partners in every column.
    pub fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional, 8);
        for column in [
            &mut self.sponsor,
            &mut self.first_child,
            &mut self.last_child,
            &mut self.next_sibling,
            &mut self.prev_sibling,
            &mut self.depth,
            &mut self.jump,
            &mut self.frontline,
            &mut self.downline,
        ] {
            column.reserve(additional);
        }
        self.status.reserve(additional);
        self.joined_on.reserve(additional);
    }

    /// Links `child` into `parent`'s child list at its place in index order
    /// and counts it in `parent`'s frontline. New partners have the largest
    /// index, so for them the scan stops at once; a moved partner may scan
    /// the frontline.
    pub(in crate::engine) fn link_child(&mut self, parent: u32, child: u32) {
        let (p, c) = (parent as usize, child as usize);
        let mut after = self.last_child[p];
        while after != NONE && after > child {
            after = self.prev_sibling[after as usize];
        }
        let before = if after == NONE { self.first_child[p] } else { self.next_sibling[after as usize] };
        self.prev_sibling[c] = after;
        self.next_sibling[c] = before;
        if after == NONE {
            self.first_child[p] = child;
        } else {
            self.next_sibling[after as usize] = child;
        }
        if before == NONE {
            self.last_child[p] = child;
        } else {
            self.prev_sibling[before as usize] = child;
        }
        self.frontline[p] += 1;
    }

    /// Unlinks `child` from `parent`'s child list and frontline.
    pub(in crate::engine) fn unlink_child(&mut self, parent: u32, child: u32) {
        let (p, c) = (parent as usize, child as usize);
        let (before, after) = (self.prev_sibling[c], self.next_sibling[c]);
        if before == NONE {
            self.first_child[p] = after;
        } else {
            self.next_sibling[before as usize] = after;
        }
        if after == NONE {
            self.last_child[p] = before;
        } else {
            self.prev_sibling[after as usize] = before;
        }
        self.prev_sibling[c] = NONE;
        self.next_sibling[c] = NONE;
        self.frontline[p] -= 1;
    }

    /// Merges `incoming` (sorted, not linked anywhere) into `parent`'s
    /// sorted child list in one pass: O(frontline + incoming).
    pub(in crate::engine) fn merge_children(&mut self, parent: u32, incoming: &[u32]) {
        debug_assert!(incoming.windows(2).all(|w| w[0] < w[1]));
        let mut merged = Vec::with_capacity(self.frontline[parent as usize] as usize + incoming.len());
        let mut existing = self.first_child_at(parent);
        let mut next_in = incoming.iter().copied().peekable();
        while existing != NONE || next_in.peek().is_some() {
            let take_existing = match next_in.peek() {
                Some(&c) => existing != NONE && existing < c,
                None => true,
            };
            if take_existing {
                merged.push(existing);
                existing = self.next_sibling_at(existing);
            } else {
                merged.push(next_in.next().expect("peeked"));
            }
        }
        let mut prev = NONE;
        for &c in &merged {
            self.prev_sibling[c as usize] = prev;
            if prev == NONE {
                self.first_child[parent as usize] = c;
            } else {
                self.next_sibling[prev as usize] = c;
            }
            prev = c;
        }
        if prev != NONE {
            self.next_sibling[prev as usize] = NONE;
        }
        self.last_child[parent as usize] = prev;
        self.frontline[parent as usize] = merged.len() as u32;
    }

    /// Adds `delta` to the downline count of `from` and every sponsor above it.
    pub(in crate::engine) fn add_downline(&mut self, from: u32, delta: i64) {
        let mut node = from;
        while node != NONE {
            let count = &mut self.downline[node as usize];
            let updated = i64::from(*count) + delta;
            debug_assert!((0..=i64::from(u32::MAX)).contains(&updated));
            *count = updated as u32;
            node = self.sponsor[node as usize];
        }
    }

    /// Adds `delta` to the depth of every partner in `root`'s downline, and
    /// of `root` itself when `include_root`, and recomputes their jump
    /// pointers from their (new) sponsors. Iterative pre-order walk, so a
    /// sponsor is always done before its recruits. Runs even when `delta` is
    /// 0: a move at the same depth still changes every ancestor above.
    pub(in crate::engine) fn shift_depths(&mut self, root: u32, include_root: bool, delta: i64) {
        let shift = |g: &mut Genealogy, x: u32| {
            let depth = &mut g.depth[x as usize];
            let updated = i64::from(*depth) + delta;
            debug_assert!(updated >= 0);
            *depth = updated as u32;
            g.jump[x as usize] = g.jump_target(g.sponsor[x as usize], x);
        };
        if include_root {
            shift(self, root);
        }
        let mut node = self.first_child_at(root);
        while node != NONE {
            shift(self, node);
            let child = self.first_child_at(node);
            node = if child != NONE { child } else { self.next_in_subtree_skipping_children(root, node) };
        }
    }
}
