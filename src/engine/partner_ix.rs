//! [`PartnerIx`]: the one name of a partner's dense index, and
//! [`PartnerRange`], a contiguous run of them.
//!
//! A partner's index is its place in creation order: the row of every
//! genealogy column, the key of its state on disk, never reused. Wherever
//! an index leaves a room it is a `PartnerIx`, so it cannot be mixed up
//! with a depth, a count, an order or a module ordinal: the genealogy's
//! public reads (`Genealogy::find`, `id`, `sponsor_of`, the child and
//! sibling links, `upline`, the downline pages and their cursor, `lookup`,
//! `record`), the change set a write returns (`touched`, `created` as a
//! `PartnerRange`, the team's `mentors` and `completions`), the partner
//! records and audit events, a write's outcome, orders, mentor views and
//! mentee pages, run statements, the store's reads, and every signature of
//! the application (`App::read_frozen`, `App::list_events`, `RunRef::statement`)
//! and the services (`Caller::find`, `sees`, ...). Parameters and fields
//! holding one are named `ix` (or `partner_ix`, `sponsor_ix`, `root_ix`, ...).
//!
//! Inside the engine, the hot loops over columns (rollup, team tally,
//! commission run, the link edits, the downline walk) keep raw `u32`
//! positions: there an index is also a position in a `Vec`. The genealogy
//! offers each read twice: `sponsor_of(PartnerIx) -> PartnerIx` for
//! everyone, and the `pub(in crate::engine)` twin `sponsor_at(u32) -> u32`
//! for those loops; `PartnerIx::new`/`get`/`as_usize` are `const`, inlined
//! and `#[repr(transparent)]`, so the typed edge costs nothing. The
//! columns' `NONE` is `pub(crate)`; outside the engine "no partner" is
//! [`PartnerIx::NONE`] (the same bits) or an `Option<PartnerIx>`.
//! `tests/tidy.rs::app_and_service_signatures_take_partner_ix` refuses a
//! raw `partner: u32`-like parameter in a public signature of the app or the
//! services.

use std::fmt;
use std::ops::Range;

/// A partner's dense index: its place in creation order.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartnerIx(u32);

impl PartnerIx {
    /// No partner: the sponsor of a root, the end of a child list (the
    /// same bits as the link columns' `NONE`).
    pub const NONE: PartnerIx = PartnerIx(u32::MAX);

    /// The index `ix` (`u32::MAX` is [`PartnerIx::NONE`]).
    pub const fn new(ix: u32) -> PartnerIx {
        PartnerIx(ix)
    }

    /// The raw index, as the columns store it.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The raw index as a position in a column.
    pub const fn as_usize(self) -> usize {
        self.0 as usize
    }

    /// Whether this is [`PartnerIx::NONE`].
    pub const fn is_none(self) -> bool {
        self.0 == u32::MAX
    }
}

impl From<u32> for PartnerIx {
    fn from(ix: u32) -> PartnerIx {
        PartnerIx(ix)
    }
}

impl From<PartnerIx> for u32 {
    fn from(ix: PartnerIx) -> u32 {
        ix.0
    }
}

impl fmt::Display for PartnerIx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A contiguous range of partner indexes, `start..end`: the partners one
/// write created (always at the end of the arena).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PartnerRange {
    start: u32,
    end: u32,
}

impl PartnerRange {
    /// The partners from `start` up to, not including, `end` (empty when
    /// `end <= start`).
    pub const fn new(start: PartnerIx, end: PartnerIx) -> PartnerRange {
        PartnerRange { start: start.0, end: end.0 }
    }

    /// The first partner of the range (its end when empty).
    pub const fn start(self) -> PartnerIx {
        PartnerIx(self.start)
    }

    /// The first partner after the range.
    pub const fn end(self) -> PartnerIx {
        PartnerIx(self.end)
    }

    /// How many partners the range holds.
    pub const fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no partner.
    pub const fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// Whether `ix` is in the range.
    pub const fn contains(self, ix: PartnerIx) -> bool {
        self.start <= ix.0 && ix.0 < self.end
    }

    /// The partners of the range, in index order.
    pub fn iter(self) -> impl DoubleEndedIterator<Item = PartnerIx> + ExactSizeIterator {
        self.raw().map(PartnerIx)
    }

    /// The raw indexes, for the engine's loops over column positions.
    pub(crate) const fn raw(self) -> Range<u32> {
        self.start..self.end
    }
}

impl IntoIterator for PartnerRange {
    type Item = PartnerIx;
    type IntoIter = std::iter::Map<Range<u32>, fn(u32) -> PartnerIx>;

    fn into_iter(self) -> Self::IntoIter {
        self.raw().map(PartnerIx as fn(u32) -> PartnerIx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_the_columns_none_and_indexes_round_trip() {
        assert_eq!(PartnerIx::NONE.get(), crate::engine::genealogy::forest::NONE);
        assert!(PartnerIx::NONE.is_none());
        let ix = PartnerIx::new(41);
        assert!(!ix.is_none());
        assert_eq!((ix.get(), ix.as_usize(), u32::from(ix)), (41, 41, 41));
        assert_eq!(PartnerIx::from(41), ix);
        assert!(PartnerIx::new(3) < PartnerIx::new(4));
        assert_eq!(std::mem::size_of::<PartnerIx>(), 4);
    }

    #[test]
    fn a_range_counts_contains_and_iterates_its_partners() {
        let range = PartnerRange::new(PartnerIx::new(3), PartnerIx::new(6));
        assert_eq!((range.len(), range.is_empty()), (3, false));
        assert!(range.contains(PartnerIx::new(3)) && range.contains(PartnerIx::new(5)));
        assert!(!range.contains(PartnerIx::new(2)) && !range.contains(PartnerIx::new(6)));
        let ixs: Vec<u32> = range.into_iter().map(PartnerIx::get).collect();
        assert_eq!(ixs, [3, 4, 5]);
        assert_eq!(range.iter().len(), 3);
        let empty = PartnerRange::new(PartnerIx::new(6), PartnerIx::new(6));
        assert_eq!((empty.len(), empty.is_empty(), empty.iter().count()), (0, true, 0));
        assert_eq!(PartnerRange::default().len(), 0);
    }
}
