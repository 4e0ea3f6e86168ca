//! The genealogy: every partner in flat, arena-indexed columns.
//!
//! A partner is a dense index (its creation order): a `PartnerIx` in the
//! public reads (`sponsor_of`, `first_child_of`, ...), a raw `u32` column
//! position in their `pub(in crate::engine)` twins (`sponsor_at`, ...) that
//! the engine's loops use. Its sponsor, its
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
use crate::engine::partner_ix::PartnerIx;

/// "No partner" in the link columns (outside the engine:
/// [`PartnerIx::NONE`], the same bits).
pub(crate) const NONE: u32 = u32::MAX;

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
    pub fn find(&self, partner_id: &str) -> Option<PartnerIx> {
        self.ids.find(partner_id).map(PartnerIx::new)
    }

    /// The ids as they are now, shared with the live ones (O(chunks)): a
    /// long reader (a bulk export) sorts and reads them with no lock held.
    pub fn ids_snapshot(&self) -> crate::engine::id_index::IdIndex {
        self.ids.clone()
    }

    /// The external id of an index.
    pub fn id(&self, ix: PartnerIx) -> &str {
        self.id_at(ix.get())
    }

    /// The sponsor index, or [`PartnerIx::NONE`] for a root. A terminated
    /// partner keeps its last sponsor here.
    pub fn sponsor_of(&self, ix: PartnerIx) -> PartnerIx {
        PartnerIx::new(self.sponsor_at(ix.get()))
    }

    /// The status of a partner.
    pub fn status_of(&self, ix: PartnerIx) -> PartnerStatus {
        self.status_at(ix.get())
    }

    /// The depth of a partner (0 for roots and terminated partners).
    pub fn depth_of(&self, ix: PartnerIx) -> u32 {
        self.depth_at(ix.get())
    }

    /// The number of direct recruits.
    pub fn frontline_count_of(&self, ix: PartnerIx) -> u32 {
        self.frontline_count_at(ix.get())
    }

    /// The size of a partner's downline.
    pub fn downline_count_of(&self, ix: PartnerIx) -> u32 {
        self.downline_count_at(ix.get())
    }

    /// The first direct recruit, or [`PartnerIx::NONE`].
    pub fn first_child_of(&self, ix: PartnerIx) -> PartnerIx {
        PartnerIx::new(self.first_child_at(ix.get()))
    }

    /// The last direct recruit, or [`PartnerIx::NONE`].
    pub fn last_child_of(&self, ix: PartnerIx) -> PartnerIx {
        PartnerIx::new(self.last_child_at(ix.get()))
    }

    /// The next recruit of the same sponsor, or [`PartnerIx::NONE`].
    pub fn next_sibling_of(&self, ix: PartnerIx) -> PartnerIx {
        PartnerIx::new(self.next_sibling_at(ix.get()))
    }

    /// The previous recruit of the same sponsor, or [`PartnerIx::NONE`].
    pub fn prev_sibling_of(&self, ix: PartnerIx) -> PartnerIx {
        PartnerIx::new(self.prev_sibling_at(ix.get()))
    }

    /// The joining day of a partner.
    pub fn joined_on_of(&self, ix: PartnerIx) -> Date {
        self.joined_on_at(ix.get())
    }

    /// The display name of a partner ("" when it has none).
    pub fn name_of(&self, ix: PartnerIx) -> &str {
        self.name_at(ix.get())
    }

    /// The id of the sponsor, "" for a root.
    pub fn sponsor_id_of(&self, ix: PartnerIx) -> &str {
        self.sponsor_id_at(ix.get())
    }

    /// The API view of a partner.
    pub fn view(&self, ix: PartnerIx) -> PartnerView {
        let i = ix.as_usize();
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

    /// Whether `ancestor_ix` is `ix` itself or above it. O(depth).
    pub fn is_self_or_ancestor(&self, ancestor_ix: PartnerIx, ix: PartnerIx) -> bool {
        let (ancestor, mut node) = (ancestor_ix.get(), ix.get());
        while node != NONE {
            if node == ancestor {
                return true;
            }
            node = self.sponsor[node as usize];
        }
        false
    }

    /// Whether `ix` is in the downline of `ancestor_ix` (not `ancestor_ix`
    /// itself), both live. O(log depth) through the jump pointers, whatever
    /// the depth: this is the object-level access check of every partner
    /// request.
    pub fn is_in_downline_of(&self, ancestor_ix: PartnerIx, ix: PartnerIx) -> bool {
        let live = |x: PartnerIx| x.as_usize() < self.len() && self.status_of(x) != PartnerStatus::Terminated;
        if !live(ancestor_ix) || !live(ix) {
            return false;
        }
        let depth = self.depth_of(ancestor_ix);
        self.depth_of(ix) > depth && self.ancestor_at_depth(ix, depth) == ancestor_ix
    }

    /// The ancestor of live `ix` at `depth` (`ix` itself at its own depth;
    /// its root when `depth` is 0). Each step takes the jump pointer when it
    /// does not overshoot, else the sponsor: O(log depth) steps.
    pub fn ancestor_at_depth(&self, ix: PartnerIx, depth: u32) -> PartnerIx {
        let mut node = ix.get();
        while self.depth[node as usize] > depth {
            let jump = self.jump[node as usize];
            node = if self.depth[jump as usize] >= depth { jump } else { self.sponsor[node as usize] };
        }
        PartnerIx::new(node)
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
    pub fn upline(&self, ix: PartnerIx, max_levels: usize) -> Vec<PartnerIx> {
        let mut out = Vec::with_capacity(max_levels.min(self.depth_of(ix) as usize));
        if self.status_of(ix) == PartnerStatus::Terminated {
            return out;
        }
        let mut node = self.sponsor_of(ix);
        while !node.is_none() && out.len() < max_levels {
            out.push(node);
            node = self.sponsor_of(node);
        }
        out
    }

    /// Calls `visit` for every partner of `root`'s downline, depth-first in
    /// child order, without recursion.
    pub(in crate::engine) fn for_each_descendant(&self, root: u32, mut visit: impl FnMut(u32)) {
        let mut node = self.first_child_at(root);
        while node != NONE {
            visit(node);
            let child = self.first_child_at(node);
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
            let sibling = self.next_sibling_at(node);
            if sibling != NONE {
                return sibling;
            }
            node = self.sponsor_at(node);
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
    pub(in crate::engine) fn lay_out_breadth_first(
        &self,
        order: &mut Vec<u32>,
        child_start: &mut Vec<u32>,
        depth_start: &mut Vec<u32>,
    ) {
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

    // The same reads on a raw column position, for the engine's own loops
    // (`_of` takes a `PartnerIx`, `_at` the position it wraps).

    /// [`Genealogy::id`] at a column position.
    pub(in crate::engine) fn id_at(&self, x: u32) -> &str {
        self.ids.get(x)
    }

    /// [`Genealogy::sponsor_of`] at a column position (`NONE` for a root).
    pub(in crate::engine) fn sponsor_at(&self, x: u32) -> u32 {
        self.sponsor[x as usize]
    }

    /// [`Genealogy::status_of`] at a column position.
    pub(in crate::engine) fn status_at(&self, x: u32) -> PartnerStatus {
        self.status[x as usize]
    }

    /// [`Genealogy::depth_of`] at a column position.
    pub(in crate::engine) fn depth_at(&self, x: u32) -> u32 {
        self.depth[x as usize]
    }

    /// [`Genealogy::frontline_count_of`] at a column position.
    pub(in crate::engine) fn frontline_count_at(&self, x: u32) -> u32 {
        self.frontline[x as usize]
    }

    /// [`Genealogy::downline_count_of`] at a column position.
    pub(in crate::engine) fn downline_count_at(&self, x: u32) -> u32 {
        self.downline[x as usize]
    }

    /// [`Genealogy::first_child_of`] at a column position (`NONE` if none).
    pub(in crate::engine) fn first_child_at(&self, x: u32) -> u32 {
        self.first_child[x as usize]
    }

    /// [`Genealogy::last_child_of`] at a column position (`NONE` if none).
    pub(in crate::engine) fn last_child_at(&self, x: u32) -> u32 {
        self.last_child[x as usize]
    }

    /// [`Genealogy::next_sibling_of`] at a column position (`NONE` if none).
    pub(in crate::engine) fn next_sibling_at(&self, x: u32) -> u32 {
        self.next_sibling[x as usize]
    }

    /// [`Genealogy::prev_sibling_of`] at a column position (`NONE` if none).
    pub(in crate::engine) fn prev_sibling_at(&self, x: u32) -> u32 {
        self.prev_sibling[x as usize]
    }

    /// [`Genealogy::joined_on_of`] at a column position.
    pub(in crate::engine) fn joined_on_at(&self, x: u32) -> Date {
        self.joined_on[x as usize]
    }

    /// [`Genealogy::name_of`] at a column position.
    pub(in crate::engine) fn name_at(&self, x: u32) -> &str {
        self.names.get(&x).map_or("", |n| n)
    }

    /// [`Genealogy::sponsor_id_of`] at a column position.
    pub(in crate::engine) fn sponsor_id_at(&self, x: u32) -> &str {
        match self.sponsor_at(x) {
            NONE => "",
            s => self.id_at(s),
        }
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
