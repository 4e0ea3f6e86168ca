//! Conversions between proto messages and engine types.

use crate::engine::{EventKind, GenealogyEvent, PartnerView, Status as PartnerStatus};
use crate::proto::v1 as pb;

/// The proto enum of a partner status.
pub fn status_to_proto(status: PartnerStatus) -> pb::PartnerStatus {
    match status {
        PartnerStatus::Enrolled => pb::PartnerStatus::Enrolled,
        PartnerStatus::Suspended => pb::PartnerStatus::Suspended,
        PartnerStatus::Terminated => pb::PartnerStatus::Terminated,
    }
}

/// The engine status of a proto enum value; `None` for UNSPECIFIED or
/// unknown numbers.
pub fn status_from_proto(value: i32) -> Option<PartnerStatus> {
    match pb::PartnerStatus::try_from(value).ok()? {
        pb::PartnerStatus::Unspecified => None,
        pb::PartnerStatus::Enrolled => Some(PartnerStatus::Enrolled),
        pb::PartnerStatus::Suspended => Some(PartnerStatus::Suspended),
        pb::PartnerStatus::Terminated => Some(PartnerStatus::Terminated),
    }
}

/// The proto message of a partner view.
pub fn partner_to_proto(view: PartnerView) -> pb::Partner {
    pb::Partner {
        partner_id: view.partner_id,
        sponsor_id: view.sponsor_id,
        status: status_to_proto(view.status) as i32,
        depth: view.depth,
        joined_on: view.joined_on.to_string(),
        display_name: view.display_name,
        frontline_count: view.frontline_count,
        downline_count: u64::from(view.downline_count),
    }
}

/// The proto message of an audit event with its sequence number.
pub fn event_to_proto(sequence: u64, event: GenealogyEvent) -> pb::GenealogyEvent {
    let kind = match event.kind {
        EventKind::Created => pb::GenealogyEventKind::Created,
        EventKind::Moved => pb::GenealogyEventKind::Moved,
        EventKind::StatusChanged => pb::GenealogyEventKind::StatusChanged,
        EventKind::SponsorTerminated => pb::GenealogyEventKind::SponsorTerminated,
    };
    pb::GenealogyEvent {
        sequence,
        kind: kind as i32,
        partner_id: event.partner_id,
        occurred_at_unix_ms: event.audit.at_unix_ms,
        actor: event.audit.actor,
        reason: event.audit.reason,
        old_sponsor_id: event.old_sponsor_id,
        new_sponsor_id: event.new_sponsor_id,
        old_status: event.old_status.map_or(pb::PartnerStatus::Unspecified, status_to_proto) as i32,
        new_status: status_to_proto(event.new_status) as i32,
    }
}
