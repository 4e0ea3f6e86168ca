//! Mentors (spec: team support): a partner's mentor is its sponsor unless
//! it was assigned another partner of its upline.
//!
//! Only explicit assignments are stored. "The sponsor" is the default and
//! follows every move and termination by itself, so most partners cost
//! nothing here. An assignment is kept only while it means something:
//!
//! Architecture invariant: for every assignment `x → m`, `x` and `m` are
//! live (not terminated), `m` is strictly above `x`, and `m` is not `x`'s
//! sponsor. A move or a termination that breaks this clears the broken
//! assignments in the same change set (the mentor falls back to the
//! sponsor, durably), so moving a partner back later does not revive an
//! old assignment. `Mentors::check_invariants` checks it.

use crate::engine::change::Audit;
use crate::engine::cow_column::ColumnBytes;
use crate::engine::cow_map::CowMap;
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::partner_ix::PartnerIx;
use std::collections::BTreeSet;

/// Recruits of a mentor that ListMentees may skip (because they have
/// another mentor) before it answers a shorter page: bounds one page's work.
pub const MAX_SKIPPED_PER_PAGE: usize = 10_000;

/// An explicit mentor assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The mentor's index.
    pub mentor: u32,
    /// Who assigned it, when and why.
    pub audit: Audit,
}

/// Where a partner's mentor comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MentorSource {
    /// No assignment: the sponsor mentors.
    Sponsor,
    /// Assigned explicitly.
    Assigned,
    /// A root: nobody is above it.
    None,
}

/// A partner's mentor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentorView {
    /// The partner (the mentee).
    pub partner_ix: PartnerIx,
    /// The mentor's index; [`PartnerIx::NONE`] for a root.
    pub mentor_ix: PartnerIx,
    /// Where the mentor comes from.
    pub source: MentorSource,
    /// Who assigned the mentor, for an assignment.
    pub audit: Option<Audit>,
}

/// Where a ListMentees listing stands. Mentees are listed in index
/// (creation) order, merging the mentor's recruits and its assigned mentees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenteeCursor {
    /// The lowest index not examined yet: every candidate below it was
    /// listed or skipped.
    pub lower: u32,
    /// The mentor's next recruit to look at, or [`PartnerIx::NONE`]: a
    /// hint, checked on use, so that a page does not rescan the frontline.
    pub next_child_ix: PartnerIx,
}

/// One page of mentees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenteePage {
    /// The mentees, in index order.
    pub mentees: Vec<PartnerIx>,
    /// Where the next page starts; `None` after the last mentee.
    pub next: Option<MenteeCursor>,
}

/// The explicit mentor assignments, by mentee and by mentor, in maps a
/// snapshot shares.
#[derive(Default, Clone)]
pub struct Mentors {
    assigned: CowMap<Assignment>,
    by_mentor: CowMap<BTreeSet<u32>>,
}

/// Whether `top` is `node` or above it. O(depth difference) through the
/// depth column, so a deep chain costs only the levels between the two.
/// Both must be live.
fn is_at_or_below(g: &Genealogy, top: u32, node: u32) -> bool {
    let (top_depth, mut depth) = (g.depth_at(top), g.depth_at(node));
    if depth < top_depth {
        return false;
    }
    let mut n = node;
    while depth > top_depth {
        n = g.sponsor_at(n);
        depth -= 1;
    }
    n == top
}

impl Mentors {
    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        let index = self.by_mentor.bytes(|set| set.len() * 8 + 48);
        self.assigned.bytes(|a| std::mem::size_of_val(a) + a.audit.actor.len() + a.audit.reason.len()) + index
    }

    /// The number of explicit assignments.
    pub fn len(&self) -> usize {
        self.assigned.len()
    }

    /// Whether no partner has an explicit mentor.
    pub fn is_empty(&self) -> bool {
        self.assigned.is_empty()
    }

    /// The explicit assignment of a partner, if any.
    pub fn get(&self, mentee: u32) -> Option<&Assignment> {
        self.assigned.get(&mentee)
    }

    /// Every assignment, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Assignment)> {
        self.assigned.iter().map(|(&x, a)| (x, a))
    }

    /// Whether `mentor` may mentor `mentee` by assignment: both live, the
    /// mentor strictly above the mentee and not its sponsor.
    pub fn is_valid(g: &Genealogy, mentee: u32, mentor: u32) -> bool {
        let sponsor = g.sponsor_at(mentee);
        g.status_at(mentee) != PartnerStatus::Terminated
            && g.status_at(mentor) != PartnerStatus::Terminated
            && sponsor != NONE
            && sponsor != mentor
            && is_at_or_below(g, mentor, sponsor)
    }

    /// The mentor of a live partner.
    pub fn view(&self, g: &Genealogy, partner_ix: PartnerIx) -> MentorView {
        match self.assigned.get(&partner_ix.get()) {
            Some(a) => MentorView {
                partner_ix,
                mentor_ix: PartnerIx::new(a.mentor),
                source: MentorSource::Assigned,
                audit: Some(a.audit.clone()),
            },
            None => {
                let mentor_ix = g.sponsor_of(partner_ix);
                let source = if mentor_ix.is_none() { MentorSource::None } else { MentorSource::Sponsor };
                MentorView { partner_ix, mentor_ix, source, audit: None }
            }
        }
    }

    /// Stores (`Some`) or removes (`None`) the assignment of `mentee`. The
    /// caller checked it with [`Mentors::is_valid`].
    pub(in crate::engine) fn set(&mut self, mentee: u32, assignment: Option<Assignment>) {
        if let Some(old) = self.assigned.remove(&mentee) {
            if let Some(set) = self.by_mentor.get_mut(&old.mentor) {
                set.remove(&mentee);
                if set.is_empty() {
                    self.by_mentor.remove(&old.mentor);
                }
            }
        }
        if let Some(a) = assignment {
            self.by_mentor.get_or_default(a.mentor).insert(mentee);
            self.assigned.insert(mentee, a);
        }
    }

    /// Clears the assignments of `candidates` that are no longer valid and
    /// returns their mentees, sorted.
    fn clear_invalid(&mut self, g: &Genealogy, mut candidates: Vec<u32>) -> Vec<u32> {
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&y| self.assigned.get(&y).is_some_and(|a| !Mentors::is_valid(g, y, a.mentor)));
        for &y in &candidates {
            self.set(y, None);
        }
        candidates
    }

    /// After `x` moved (with its downline): clears the assignments the move
    /// broke (a mentor left outside the new upline, or a mentor that became
    /// the sponsor). Only mentees in `x`'s subtree can be affected; they are
    /// found by the cheaper of walking the subtree and testing every
    /// assignment, so the cost is at most O(subtree), like the move itself.
    pub(in crate::engine) fn after_move(&mut self, g: &Genealogy, x: u32) -> Vec<u32> {
        if self.assigned.is_empty() {
            return Vec::new();
        }
        let subtree = u64::from(g.downline_count_at(x)) + 1;
        let base = g.depth_at(x);
        let test_each = self.assigned.len() as u64 <= subtree
            && self.assigned.keys().map(|&y| u64::from(g.depth_at(y).saturating_sub(base))).sum::<u64>() <= subtree;
        let mut candidates = Vec::new();
        if test_each {
            candidates.extend(self.assigned.keys().copied().filter(|&y| is_at_or_below(g, x, y)));
        } else {
            if self.assigned.contains_key(&x) {
                candidates.push(x);
            }
            g.for_each_descendant(x, |y| {
                if self.assigned.contains_key(&y) {
                    candidates.push(y);
                }
            });
        }
        self.clear_invalid(g, candidates)
    }

    /// After `t` was terminated and its `recruits` went to its sponsor:
    /// clears `t`'s own assignment, every assignment to `t`, and recruits'
    /// assignments to their new sponsor (which now mentors them anyway).
    pub(in crate::engine) fn after_termination(&mut self, g: &Genealogy, t: u32, recruits: &[u32]) -> Vec<u32> {
        let mut candidates: Vec<u32> = self.by_mentor.get(&t).map(|s| s.iter().copied().collect()).unwrap_or_default();
        candidates.push(t);
        candidates.extend(recruits.iter().copied().filter(|r| self.assigned.contains_key(r)));
        self.clear_invalid(g, candidates)
    }

    /// The first recruit of `mentor` with an index of at least `lower`,
    /// starting from `hint` when it is still such a recruit with no
    /// unlisted recruit before it (the usual case: O(1)); otherwise walking
    /// back from the last recruit over the recruits not listed yet.
    fn first_child_from(g: &Genealogy, mentor: u32, lower: u32, hint: u32) -> u32 {
        let hint_ok = hint != NONE
            && hint >= lower
            && g.sponsor_at(hint) == mentor
            && g.status_at(hint) != PartnerStatus::Terminated;
        let mut c = if hint_ok { hint } else { g.last_child_at(mentor) };
        if c == NONE || c < lower {
            return NONE;
        }
        loop {
            let prev = g.prev_sibling_at(c);
            if prev == NONE || prev < lower {
                return c;
            }
            c = prev;
        }
    }

    /// Up to `size` (at least 1) mentees of `mentor` (its recruits without
    /// an explicit mentor, and the partners assigned to it) from `cursor`
    /// on, in index order. Skipping more than [`MAX_SKIPPED_PER_PAGE`]
    /// recruits that have another mentor ends the page early (with a cursor).
    pub fn mentees_page(&self, g: &Genealogy, mentor: u32, cursor: Option<MenteeCursor>, size: usize) -> MenteePage {
        let size = size.max(1);
        let mut lower = cursor.map_or(0, |c| c.lower);
        let mut child = match cursor {
            None => g.first_child_at(mentor),
            Some(c) => Mentors::first_child_from(g, mentor, lower, c.next_child_ix.get()),
        };
        let start = lower;
        let mut assigned = self.by_mentor.get(&mentor).into_iter().flat_map(|s| s.range(start..)).copied().peekable();
        let mut mentees = Vec::with_capacity(size.min(1024));
        let mut skipped = 0usize;
        loop {
            let next_assigned = assigned.peek().copied();
            // The next candidate in index order (the two sources never share one).
            let take_child = child != NONE && next_assigned.is_none_or(|a| child < a);
            let candidate = if take_child { child } else { next_assigned.unwrap_or(NONE) };
            if candidate == NONE {
                return MenteePage { mentees, next: None };
            }
            let skip = take_child && self.assigned.contains_key(&child);
            if mentees.len() == size || (skip && skipped == MAX_SKIPPED_PER_PAGE) {
                return MenteePage {
                    mentees,
                    next: Some(MenteeCursor { lower, next_child_ix: PartnerIx::new(child) }),
                };
            }
            if take_child {
                child = g.next_sibling_at(child);
            } else {
                assigned.next();
            }
            lower = candidate + 1;
            if skip {
                skipped += 1;
            } else {
                mentees.push(PartnerIx::new(candidate));
            }
        }
    }

    /// Checks the invariant of the module doc and the two maps' agreement.
    pub fn check_invariants(&self, g: &Genealogy) -> Result<(), String> {
        for (&y, a) in self.assigned.iter() {
            if (y as usize) >= g.len() || (a.mentor as usize) >= g.len() || !Mentors::is_valid(g, y, a.mentor) {
                return Err(format!("assignment of #{y} to #{} is not valid", a.mentor));
            }
            if !self.by_mentor.get(&a.mentor).is_some_and(|s| s.contains(&y)) {
                return Err(format!("assignment of #{y} is missing from the mentor index"));
            }
        }
        let indexed: usize = self.by_mentor.values().map(BTreeSet::len).sum();
        if indexed != self.assigned.len() {
            return Err(format!("the mentor index holds {indexed} mentees, not {}", self.assigned.len()));
        }
        Ok(())
    }
}
