//! Which partners a period's writes touched while a background re-ranking
//! works on a [`Network::inputs_snapshot`](crate::engine::Network::inputs_snapshot): the
//! meanwhile-writes the ranking must take in when it is installed
//! (`compensation/plan_change.rs`).
//!
//! Every change to a period's volumes or live ranks goes through four
//! [`PeriodVolumes`](super::period_volumes::PeriodVolumes) methods (a
//! partner's own re-rank, a subtree attached to or detached from an
//! anchor, an order's volume, a termination's clear); each records the
//! partner it starts from and the anchor it attaches to, so the partners
//! whose ranks may differ from the snapshot's are exactly those records
//! and their uplines (the proof is in `plan_change.rs`). A rebuild of the
//! whole period (bulk orders re-level it) cannot be replayed by rows: the
//! log then says so, and the installation ranks that period from scratch.

use crate::engine::genealogy::forest::NONE;

/// Most rows logged before the log gives up (16 MiB): past that, ranking
/// the period from scratch at installation is no dearer than the log.
const MAX_LOGGED: usize = 1 << 22;

/// The touch log of one period (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TouchLog {
    /// No re-ranking is in progress: nothing is recorded.
    #[default]
    Off,
    /// The partners touched since the snapshot, in write order, repeats kept.
    On(Vec<u32>),
    /// Too much changed, or the period was rebuilt whole: rank it again.
    Overflowed,
}

impl TouchLog {
    /// Notes that `x` (a partner, or `NONE`: ignored) was touched.
    pub fn record(&mut self, x: u32) {
        if let TouchLog::On(rows) = self {
            if rows.len() >= MAX_LOGGED {
                *self = TouchLog::Overflowed;
            } else if x != NONE {
                rows.push(x);
            }
        }
    }

    /// Notes that the period was rebuilt whole.
    pub fn overflow(&mut self) {
        if *self != TouchLog::Off {
            *self = TouchLog::Overflowed;
        }
    }
}
