//! [`PartnerIx`]: the one name of a partner's dense index.
//!
//! A partner's index is its place in creation order: the row of every
//! genealogy column, the key of its state on disk, never reused. Where an
//! index crosses from the engine to the store it is a `PartnerIx`, so it
//! cannot be mixed up with a depth, a count, an order or a module ordinal:
//! the change set a write returns (`touched`, the team's `mentors` and
//! `completions`), the partner records and audit events, a write's
//! outcome, the loader and the team data the store reads back at start-up,
//! and the mentor of a mentee page. The genealogy's column reads
//! (`Genealogy::id`, `sponsor_of`, ...) and the hot loops over columns
//! (rollup, team tally, commission run, the link edits) still take raw
//! `u32`/`usize`: there an index is also a position in a `Vec`, and the
//! loops stay the same machine code. `ChangeSet::created` stays a range of
//! raw indexes, because a range of them is iterated.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_the_columns_none_and_indexes_round_trip() {
        assert_eq!(PartnerIx::NONE.get(), crate::engine::NONE);
        assert!(PartnerIx::NONE.is_none());
        let ix = PartnerIx::new(41);
        assert!(!ix.is_none());
        assert_eq!((ix.get(), ix.as_usize(), u32::from(ix)), (41, 41, 41));
        assert_eq!(PartnerIx::from(41), ix);
        assert!(PartnerIx::new(3) < PartnerIx::new(4));
        assert_eq!(std::mem::size_of::<PartnerIx>(), 4);
    }
}
