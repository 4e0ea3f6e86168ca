//! The genealogy: every partner in flat, arena-indexed columns.
//!
//! A partner is a dense `u32` index (its creation order). Its sponsor, its
//! children (an intrusive doubly linked list kept in index order), depth,
//! status and counts are one column each, so a partner costs about 60 bytes
//! and walks touch only the columns they need.
//!
//! Architecture invariants (checked by `check_invariants` in tests):
//! - the sponsor relation of non-terminated partners is a forest: following
//!   `sponsor` from any partner reaches a root in `depth` steps;
//! - a partner's children are exactly the non-terminated partners whose
//!   sponsor it is, linked in increasing index order;
//! - `frontline[p]` is the length of that list and `downline[p]` the size of
//!   p's subtree without p;
//! - a terminated partner has no children, depth 0 and counts 0, and is in no
//!   child list. Nothing here recurses: every walk is a loop.

use super::partner_status::PartnerStatus;
use crate::engine::cow_column::{ColumnBytes, CowColumn};
use crate::engine::cow_map::CowMap;
use crate::engine::date::Date;
use crate::engine::id_index::IdIndex;

/// "No partner" in the link columns.
pub const NONE: u32 = u32::MAX;

/// A read-only view of one partner, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerView {
    /// The external id.
    pub partner_id: String,
    /// The sponsor's id; empty for a root.
    pub sponsor_id: String,
    /// The status.
    pub status: PartnerStatus,
    /// Steps below its root (0 for roots and terminated partners).
    pub depth: u32,
    /// The joining day.
    pub joined_on: Date,
    /// The display name.
    pub display_name: String,
    /// Direct recruits.
    pub frontline_count: u32,
    /// Partners in the whole downline.
    pub downline_count: u32,
}

/// The whole sponsor forest in columns indexed by partner index; a clone
/// shares every column chunk by chunk (a snapshot costs O(chunks)).
#[derive(Default, Clone)]
pub struct Genealogy {
    pub(in crate::engine) ids: IdIndex,
    pub(in crate::engine) sponsor: CowColumn<u32>,
    pub(in crate::engine) first_child: CowColumn<u32>,
    pub(in crate::engine) last_child: CowColumn<u32>,
    pub(in crate::engine) next_sibling: CowColumn<u32>,
    pub(in crate::engine) prev_sibling: CowColumn<u32>,
    pub(in crate::engine) depth: CowColumn<u32>,
    /// A jump pointer per partner (Myers' skew-binary scheme): an ancestor
    /// chosen from the depths alone, so that any ancestor is reached in
    /// O(log depth) steps (see [`Genealogy::ancestor_at_depth`]). A root
    /// and a terminated partner point to themselves.
    pub(in crate::engine) jump: CowColumn<u32>,
    pub(in crate::engine) status: CowColumn<PartnerStatus>,
    pub(in crate::engine) joined_on: CowColumn<Date>,
    pub(in crate::engine) frontline: CowColumn<u32>,
    pub(in crate::engine) downline: CowColumn<u32>,
    /// Display names are rare in bulk data, so they live aside.
    pub(in crate::engine) names: CowMap<Box<str>>,
    pub(in crate::engine) structure_version: u64,
}

impl Genealogy {
    /// An empty genealogy.
    pub fn new() -> Genealogy {
        Genealogy::default()
    }

    /// The number of partners ever created (terminated ones included).
    pub fn len(&self) -> usize {
        self.sponsor.len()
    }

    /// Whether no partner was ever created.
    pub fn is_empty(&self) -> bool {
        self.sponsor.is_empty()
    }

    /// Bumped by every move and termination: the changes that reorder a
    /// downline listing. Creations only append, so they leave it alone.
    pub fn structure_version(&self) -> u64 {
        self.structure_version
    }

    /// The index of a partner id.
    pub fn find(&self, partner_id: &str) -> Option<u32> {
        self.ids.find(partner_id)
    }

    /// The external id of an index.
    pub fn id(&self, ix: u32) -> &str {
        self.ids.get(ix)
    }

    /// The sponsor index, or `NONE` for a root. A terminated partner keeps
    /// its last sponsor here.
    pub fn sponsor_of(&self, ix: u32) -> u32 {
        self.sponsor[ix as usize]
    }

    /// The status of a partner.
    pub fn status_of(&self, ix: u32) -> PartnerStatus {
        self.status[ix as usize]
    }

    /// The depth of a partner (0 for roots and terminated partners).
    pub fn depth_of(&self, ix: u32) -> u32 {
        self.depth[ix as usize]
    }

    /// The number of direct recruits.
    pub fn frontline_count_of(&self, ix: u32) -> u32 {
        self.frontline[ix as usize]
    }

    /// The size of a partner's downline.
    pub fn downline_count_of(&self, ix: u32) -> u32 {
        self.downline[ix as usize]
    }

    /// The first direct recruit, or `NONE`.
    pub fn first_child_of(&self, ix: u32) -> u32 {
        self.first_child[ix as usize]
    }

    /// The last direct recruit, or `NONE`.
    pub fn last_child_of(&self, ix: u32) -> u32 {
        self.last_child[ix as usize]
    }

    /// The next recruit of the same sponsor, or `NONE`.
    pub fn next_sibling_of(&self, ix: u32) -> u32 {
        self.next_sibling[ix as usize]
    }

    /// The previous recruit of the same sponsor, or `NONE`.
    pub fn prev_sibling_of(&self, ix: u32) -> u32 {
        self.prev_sibling[ix as usize]
    }

    /// The joining day of a partner.
    pub fn joined_on_of(&self, ix: u32) -> Date {
        self.joined_on[ix as usize]
    }

    /// The display name of a partner ("" when it has none).
    pub fn name_of(&self, ix: u32) -> &str {
        self.names.get(&ix).map_or("", |n| n)
    }

    /// The id of the sponsor, "" for a root.
    pub fn sponsor_id_of(&self, ix: u32) -> &str {
        match self.sponsor_of(ix) {
            NONE => "",
            s => self.id(s),
        }
    }

    /// The API view of a partner.
    pub fn view(&self, ix: u32) -> PartnerView {
        let i = ix as usize;
        PartnerView {
            partner_id: self.id(ix).to_owned(),
            sponsor_id: self.sponsor_id_of(ix).to_owned(),
            status: self.status[i],
            depth: self.depth[i],
            joined_on: self.joined_on[i],
            display_name: self.name_of(ix).to_owned(),
            frontline_count: self.frontline[i],
            downline_count: self.downline[i],
        }
    }

    /// Whether `ancestor` is `ix` itself or above it. O(depth).
    pub fn is_self_or_ancestor(&self, ancestor: u32, ix: u32) -> bool {
        let mut node = ix;
        while node != NONE {
            if node == ancestor {
                return true;
            }
            node = self.sponsor[node as usize];
        }
        false
    }

    /// Whether `ix` is in the downline of `ancestor` (not `ancestor` itself),
    /// both live. O(log depth) through the jump pointers, whatever the depth:
    /// this is the object-level access check of every partner request.
    pub fn is_in_downline_of(&self, ancestor: u32, ix: u32) -> bool {
        let live = |x: u32| (x as usize) < self.len() && self.status_of(x) != PartnerStatus::Terminated;
        if !live(ancestor) || !live(ix) {
            return false;
        }
        let depth = self.depth_of(ancestor);
        self.depth_of(ix) > depth && self.ancestor_at_depth(ix, depth) == ancestor
    }

    /// The ancestor of live `ix` at `depth` (`ix` itself at its own depth;
    /// its root when `depth` is 0). Each step takes the jump pointer when it
    /// does not overshoot, else the sponsor: O(log depth) steps.
    pub fn ancestor_at_depth(&self, mut ix: u32, depth: u32) -> u32 {
        while self.depth[ix as usize] > depth {
            let jump = self.jump[ix as usize];
            ix = if self.depth[jump as usize] >= depth { jump } else { self.sponsor[ix as usize] };
        }
        ix
    }

    /// The jump pointer a partner below `sponsor` gets (`ix` itself for a
    /// root): the sponsor's jump's jump when the sponsor's two jumps span the
    /// same number of levels, else the sponsor. Depends only on the chain
    /// above, so it is computed top-down.
    pub(in crate::engine) fn jump_target(&self, sponsor: u32, ix: u32) -> u32 {
        if sponsor == NONE {
            return ix;
        }
        let jump = self.jump[sponsor as usize];
        let jump2 = self.jump[jump as usize];
        let d = |x: u32| self.depth[x as usize];
        if d(sponsor) - d(jump) == d(jump) - d(jump2) {
            jump2
        } else {
            sponsor
        }
    }

    /// The sponsors above `ix`, nearest first, at most `max_levels` of them.
    pub fn upline(&self, ix: u32, max_levels: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(max_levels.min(self.depth_of(ix) as usize));
        let mut node = self.sponsor_of(ix);
        if self.status_of(ix) == PartnerStatus::Terminated {
            return out;
        }
        while node != NONE && out.len() < max_levels {
            out.push(node);
            node = self.sponsor_of(node);
        }
        out
    }

    /// Calls `visit` for every partner of `root`'s downline, depth-first in
    /// child order, without recursion.
    pub fn for_each_descendant(&self, root: u32, mut visit: impl FnMut(u32)) {
        let mut node = self.first_child_of(root);
        while node != NONE {
            visit(node);
            let child = self.first_child_of(node);
            if child != NONE {
                node = child;
                continue;
            }
            node = self.next_in_subtree_skipping_children(root, node);
        }
    }

    /// The next partner after `node` in pre-order within `root`'s subtree,
    /// skipping `node`'s own children; `NONE` at the end.
    pub(in crate::engine) fn next_in_subtree_skipping_children(&self, root: u32, mut node: u32) -> u32 {
        loop {
            let sibling = self.next_sibling_of(node);
            if sibling != NONE {
                return sibling;
            }
            node = self.sponsor_of(node);
            if node == root || node == NONE {
                return NONE;
            }
        }
    }

    /// Lays the live partners out breadth-first into `order` (roots in index
    /// order, then level 1, ...; each partner's recruits contiguous, in
    /// child-list order) and `child_start` (the first position of each
    /// position's recruits, one entry more than `order`, so the recruits of
    /// position `p` are `child_start[p]..child_start[p + 1]`). Pushes the
    /// first position of each depth after the roots, and the end, to
    /// `depth_start`. O(n), no recursion; both vectors are cleared first.
    ///
    /// Architecture invariant: the partners of one depth below any partner
    /// form one contiguous range of positions (siblings are laid out in
    /// their sponsors' order), which the rollup and GetTeamProgress rely on.
    pub fn lay_out_breadth_first(&self, order: &mut Vec<u32>, child_start: &mut Vec<u32>, depth_start: &mut Vec<u32>) {
        order.clear();
        child_start.clear();
        let live_root =
            |&x: &u32| self.sponsor[x as usize] == NONE && self.status[x as usize] != PartnerStatus::Terminated;
        order.extend((0..self.len() as u32).filter(live_root));
        let mut depth_end = order.len();
        let mut head = 0;
        while head < order.len() {
            if head == depth_end {
                depth_start.push(head as u32);
                depth_end = order.len();
            }
            child_start.push(order.len() as u32);
            let mut child = self.first_child[order[head] as usize];
            while child != NONE {
                order.push(child);
                child = self.next_sibling[child as usize];
            }
            head += 1;
        }
        child_start.push(order.len() as u32);
        depth_start.push(order.len() as u32);
    }

    /// Approximate heap bytes held, for capacity planning and BENCHMARKS.md.
    pub fn heap_bytes(&self) -> usize {
        let bytes = self.bytes();
        bytes.owned_bytes + bytes.shared_bytes
    }

    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        let links = [&self.sponsor, &self.first_child, &self.last_child, &self.next_sibling, &self.prev_sibling];
        let counts = [&self.depth, &self.jump, &self.frontline, &self.downline];
        let columns = links.into_iter().chain(counts).map(CowColumn::bytes).fold(ColumnBytes::default(), |a, b| a + b);
        columns + self.ids.bytes() + self.status.bytes() + self.joined_on.bytes() + self.names.bytes(|n| n.len() + 16)
    }

    /// Checks every architecture invariant of the module doc in O(n).
    /// Returns the first violation. Used by tests and after recovery.
    pub fn check_invariants(&self) -> Result<(), String> {
        super::invariants::check(self)
    }
}
