//! What a genealogy write changed, in the form the store persists: which
//! partners changed and the audit events. The engine produces these; it
//! never writes them anywhere itself.

use super::date::Date;
use super::partner_ix::{PartnerIx, PartnerRange};
use crate::engine::compensation::Plan;
use crate::engine::genealogy::partner_status::PartnerStatus;
use std::ops::Range;
use std::sync::Arc;

/// The durable state of one partner. Recovery rebuilds the whole genealogy
/// from these records alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    /// The partner's index: its position in creation order. Dense and
    /// never reused, so recovery can place every record at its index.
    pub ix: PartnerIx,
    /// The external id.
    pub partner_id: String,
    /// The sponsor's index, or [`PartnerIx::NONE`] for a root. A terminated
    /// partner keeps the sponsor it had when it was terminated.
    pub sponsor_ix: PartnerIx,
    /// The current status.
    pub status: PartnerStatus,
    /// The joining day.
    pub joined_on: Date,
    /// The display name; may be empty.
    pub display_name: String,
}

/// What kind of change an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A partner was created.
    Created,
    /// A partner was moved under a new sponsor.
    Moved,
    /// A partner's status changed.
    StatusChanged,
    /// A partner got its grand-sponsor as sponsor because its sponsor was terminated.
    SponsorTerminated,
}

/// Who changed the genealogy, when and why: supplied by the caller of a write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audit {
    /// The caller's identity, or "unknown".
    pub actor: String,
    /// Why, as the caller said it.
    pub reason: String,
    /// When, as Unix time in milliseconds.
    pub at_unix_ms: i64,
}

/// One audit event. The store gives it its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenealogyEvent {
    /// What happened.
    pub kind: EventKind,
    /// The partner it happened to.
    pub partner_id: String,
    /// That partner's index (its record's `ix`).
    pub partner_ix: PartnerIx,
    /// The sponsor before (empty for a creation or a root).
    pub old_sponsor_id: String,
    /// The sponsor after (empty for a root).
    pub new_sponsor_id: String,
    /// The status before; `None` for a creation.
    pub old_status: Option<PartnerStatus>,
    /// The status after.
    pub new_status: PartnerStatus,
    /// Who, when and why.
    pub audit: Audit,
}

/// Everything one write changed. The store persists the current state of
/// every touched and created partner (read from the genealogy under the
/// same lock) and the events; replaying nothing else reproduces the
/// engine's state after the write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeSet {
    /// Existing partners whose state changed.
    pub touched: Vec<PartnerIx>,
    /// Partners this write created: a contiguous range at the end of the
    /// arena. Their creation events are implied (one per partner, with
    /// `audit`), which keeps an import of millions compact on disk.
    pub created: PartnerRange,
    /// Who created `created`, when and why.
    pub audit: Audit,
    /// The other audit events, in order.
    pub events: Vec<GenealogyEvent>,
    /// Orders this write recorded: a contiguous range of the order book.
    pub orders: Range<u32>,
    /// Team data this write changed (mentor assignments, training modules,
    /// completions): the store writes their current state.
    pub team: TeamChange,
    /// The plan version this write made (a plan update): the store writes
    /// it under its version key in the same batch.
    pub plan: Option<Arc<Plan>>,
}

/// The team data one write changed, by key: the store persists the current
/// state of each (an assignment that no longer exists is deleted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TeamChange {
    /// Partners whose mentor assignment was made, replaced or cleared.
    pub mentors: Vec<PartnerIx>,
    /// Training modules created or updated, by ordinal.
    pub modules: Vec<u32>,
    /// Partners whose training completions changed.
    pub completions: Vec<PartnerIx>,
}

impl TeamChange {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.mentors.is_empty() && self.modules.is_empty() && self.completions.is_empty()
    }
}
