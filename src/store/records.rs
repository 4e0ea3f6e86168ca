//! The on-disk encoding of partners and events: prost messages, so fields
//! can be added later without a migration (unknown fields are skipped,
//! missing ones read as defaults).

use crate::engine::{Audit, Date, EventKind, GenealogyEvent, PartnerIx, PartnerRecord, PartnerStatus};

/// The partners of one chunk, stored under `p` + chunk number: partner
/// `seq` is at position `seq % CHUNK_PARTNERS` of chunk `seq / CHUNK_PARTNERS`.
/// A write rewrites only the chunks it touched; an import writes each chunk
/// once.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PartnerChunk {
    /// The partners, in seq order.
    #[prost(message, repeated, tag = "1")]
    pub partners: Vec<StoredPartner>,
}

/// A partner inside a [`PartnerChunk`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredPartner {
    /// The external id.
    #[prost(string, tag = "1")]
    pub partner_id: String,
    /// The sponsor's seq plus one; 0 for a root.
    #[prost(uint32, tag = "2")]
    pub sponsor_seq_plus_one: u32,
    /// The status code (1 enrolled, 2 suspended, 3 terminated).
    #[prost(uint32, tag = "3")]
    pub status: u32,
    /// The joining day as days since 1970-01-01.
    #[prost(sint32, tag = "4")]
    pub joined_on_days: i32,
    /// The display name.
    #[prost(string, tag = "5")]
    pub display_name: String,
}

impl StoredPartner {
    /// The stored form of an engine record.
    pub fn from_record(r: &PartnerRecord) -> StoredPartner {
        StoredPartner {
            partner_id: r.partner_id.clone(),
            sponsor_seq_plus_one: if r.sponsor_ix.is_none() { 0 } else { r.sponsor_ix.get() + 1 },
            status: u32::from(r.status.code()),
            joined_on_days: r.joined_on.days(),
            display_name: r.display_name.clone(),
        }
    }

    /// The sponsor's index, or [`PartnerIx::NONE`].
    pub fn sponsor_ix(&self) -> PartnerIx {
        self.sponsor_seq_plus_one.checked_sub(1).map_or(PartnerIx::NONE, PartnerIx::new)
    }

    /// The status, if the code is known.
    pub fn status(&self) -> Option<PartnerStatus> {
        u8::try_from(self.status).ok().and_then(PartnerStatus::from_code)
    }

    /// The joining day.
    pub fn joined_on(&self) -> Date {
        Date::from_days(self.joined_on_days)
    }
}

/// An audit event as stored under `e` + event seq. A creation event is a
/// block: `count` partners from `first_partner_seq` on, created together,
/// which take the event seqs from this one on, one each.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredEvent {
    /// 1 created, 2 moved, 3 status changed, 4 sponsor terminated.
    #[prost(uint32, tag = "1")]
    pub kind: u32,
    /// The partner's id.
    #[prost(string, tag = "2")]
    pub partner_id: String,
    /// The partner's seq.
    #[prost(uint32, tag = "3")]
    pub partner_seq: u32,
    /// The sponsor before.
    #[prost(string, tag = "4")]
    pub old_sponsor_id: String,
    /// The sponsor after.
    #[prost(string, tag = "5")]
    pub new_sponsor_id: String,
    /// The status code before; 0 for none.
    #[prost(uint32, tag = "6")]
    pub old_status: u32,
    /// The status code after.
    #[prost(uint32, tag = "7")]
    pub new_status: u32,
    /// Who.
    #[prost(string, tag = "8")]
    pub actor: String,
    /// Why.
    #[prost(string, tag = "9")]
    pub reason: String,
    /// When, Unix milliseconds.
    #[prost(int64, tag = "10")]
    pub at_unix_ms: i64,
    /// For a creation block: how many partners it created.
    #[prost(uint32, tag = "11")]
    pub count: u32,
    /// For a creation block: each created partner's sponsor seq plus one
    /// (0 for a root), in seq order from `partner_seq`.
    #[prost(uint32, repeated, tag = "12")]
    pub sponsor_seqs_plus_one: Vec<u32>,
}

/// The stored code of a creation event.
pub const CREATED: u32 = 1;

fn kind_code(kind: EventKind) -> u32 {
    match kind {
        EventKind::Created => 1,
        EventKind::Moved => 2,
        EventKind::StatusChanged => 3,
        EventKind::SponsorTerminated => 4,
    }
}

fn kind_from_code(code: u32) -> Option<EventKind> {
    Some(match code {
        1 => EventKind::Created,
        2 => EventKind::Moved,
        3 => EventKind::StatusChanged,
        4 => EventKind::SponsorTerminated,
        _ => return None,
    })
}

impl StoredEvent {
    /// The stored form of an engine event.
    pub fn from_event(e: &GenealogyEvent) -> StoredEvent {
        StoredEvent {
            kind: kind_code(e.kind),
            partner_id: e.partner_id.clone(),
            partner_seq: e.partner_ix.get(),
            old_sponsor_id: e.old_sponsor_id.clone(),
            new_sponsor_id: e.new_sponsor_id.clone(),
            old_status: e.old_status.map_or(0, |s| u32::from(s.code())),
            new_status: u32::from(e.new_status.code()),
            actor: e.audit.actor.clone(),
            reason: e.audit.reason.clone(),
            at_unix_ms: e.audit.at_unix_ms,
            count: 1,
            sponsor_seqs_plus_one: Vec::new(),
        }
    }

    /// The engine event, or `None` when a code is unknown (corrupt data).
    pub fn to_event(&self) -> Option<GenealogyEvent> {
        let status = |code: u32| u8::try_from(code).ok().and_then(PartnerStatus::from_code);
        Some(GenealogyEvent {
            kind: kind_from_code(self.kind)?,
            partner_id: self.partner_id.clone(),
            partner_ix: PartnerIx::new(self.partner_seq),
            old_sponsor_id: self.old_sponsor_id.clone(),
            new_sponsor_id: self.new_sponsor_id.clone(),
            old_status: if self.old_status == 0 { None } else { Some(status(self.old_status)?) },
            new_status: status(self.new_status)?,
            audit: Audit { actor: self.actor.clone(), reason: self.reason.clone(), at_unix_ms: self.at_unix_ms },
        })
    }
}

/// A block of orders, stored under `o` + block seq, in recording order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OrderBlock {
    /// The orders.
    #[prost(message, repeated, tag = "1")]
    pub orders: Vec<StoredOrder>,
}

/// One order inside an [`OrderBlock`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredOrder {
    /// The idempotency key.
    #[prost(string, tag = "1")]
    pub order_id: String,
    /// The partner's seq.
    #[prost(uint32, tag = "2")]
    pub partner_seq: u32,
    /// The period code (months since year 0).
    #[prost(uint32, tag = "3")]
    pub period: u32,
    /// The volume in units of 0.0001.
    #[prost(sint64, tag = "4")]
    pub volume_units: i64,
    /// The kind code (1 retail, 2 self, 3 fee).
    #[prost(uint32, tag = "5")]
    pub kind: u32,
    /// For an adjustment, the code of the closed period it belongs to
    /// (`period` is then the period it is booked into); absent for an
    /// ordinary order, so blocks written before adjustments existed read
    /// as ordinary orders.
    #[prost(uint32, optional, tag = "6")]
    pub origin_period: Option<u32>,
}

impl StoredOrder {
    /// The stored form of an order.
    pub fn from_order(order: &crate::engine::Order) -> StoredOrder {
        StoredOrder {
            order_id: order.order_id.clone(),
            partner_seq: order.partner_ix.get(),
            period: order.period.code(),
            volume_units: order.volume_units,
            kind: u32::from(order.kind.code()),
            origin_period: order.origin.map(crate::engine::Period::code),
        }
    }

    /// The order, or `None` when a code is unknown.
    pub fn to_order(&self) -> Option<crate::engine::Order> {
        Some(crate::engine::Order {
            order_id: self.order_id.clone(),
            partner_ix: PartnerIx::new(self.partner_seq),
            period: crate::engine::Period::from_code(self.period),
            volume_units: self.volume_units,
            kind: u8::try_from(self.kind).ok().and_then(crate::engine::OrderKind::from_code)?,
            origin: self.origin_period.map(crate::engine::Period::from_code),
        })
    }
}

/// The summary of a closed period, stored under `m:closed:` + period.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClosedSummary {
    /// Orders recorded in the period.
    #[prost(uint64, tag = "1")]
    pub order_count: u64,
    /// The sum of its FEE orders, units of 0.0001.
    #[prost(sint64, tag = "2")]
    pub fee_units: i64,
    /// The official commission run, when the period closed with one.
    #[prost(message, optional, tag = "3")]
    pub official: Option<super::compensation_records::OfficialRunRecord>,
}

/// The frozen figures of up to 64 partners of a closed period.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FrozenChunk {
    /// The partners, in index order from the chunk's first.
    #[prost(message, repeated, tag = "1")]
    pub partners: Vec<FrozenPartner>,
}

/// One partner's figures in a closed period.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FrozenPartner {
    /// PV, units of 0.0001.
    #[prost(sint64, tag = "1")]
    pub pv: i64,
    /// RV.
    #[prost(sint64, tag = "2")]
    pub rv: i64,
    /// GV.
    #[prost(sint64, tag = "3")]
    pub gv: i64,
    /// Volume of each level.
    #[prost(sint64, repeated, tag = "4")]
    pub level_volumes: Vec<i64>,
    /// Partners of each level.
    #[prost(uint32, repeated, tag = "5")]
    pub level_partners: Vec<u32>,
    /// Active partners of each level.
    #[prost(uint32, repeated, tag = "6")]
    pub level_active: Vec<u32>,
    /// Whether it was active.
    #[prost(bool, tag = "7")]
    pub active: bool,
    /// Direct recruits.
    #[prost(uint32, tag = "8")]
    pub frontline: u32,
    /// Active direct recruits.
    #[prost(uint32, tag = "9")]
    pub active_frontline: u32,
    /// 0 when not in the official run (or there is none), else its
    /// paid-as rank code plus one.
    #[prost(uint32, tag = "10")]
    pub rank: u32,
}

/// An explicit mentor assignment, stored under `a` + mentee seq (no key:
/// the sponsor mentors).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredMentor {
    /// The mentor's seq.
    #[prost(uint32, tag = "1")]
    pub mentor_seq: u32,
    /// Who assigned it.
    #[prost(string, tag = "2")]
    pub actor: String,
    /// Why.
    #[prost(string, tag = "3")]
    pub reason: String,
    /// When, Unix milliseconds.
    #[prost(int64, tag = "4")]
    pub at_unix_ms: i64,
}

/// A training module, stored under `t` + its ordinal (creation order).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredModule {
    /// The module id.
    #[prost(string, tag = "1")]
    pub module_id: String,
    /// The title.
    #[prost(string, tag = "2")]
    pub title: String,
    /// The link.
    #[prost(string, tag = "3")]
    pub link: String,
    /// The rank it prepares for; empty for none.
    #[prost(string, tag = "4")]
    pub prepares_for_rank: String,
}

/// The training completions of the partners of one chunk (64 partners, as
/// for partner chunks), stored under `q` + chunk number.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CompletionChunk {
    /// The completions, by partner seq, then module ordinal.
    #[prost(message, repeated, tag = "1")]
    pub completions: Vec<StoredCompletion>,
}

/// One completion inside a [`CompletionChunk`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredCompletion {
    /// The partner's seq.
    #[prost(uint32, tag = "1")]
    pub partner_seq: u32,
    /// The module's ordinal.
    #[prost(uint32, tag = "2")]
    pub module: u32,
    /// The day it was completed, days since 1970-01-01.
    #[prost(sint32, tag = "3")]
    pub completed_on_days: i32,
}

pub use super::compensation_records::{OfficialRunRecord, PlanRecord, RankRecord};
