//! Conversions between proto messages and engine types.

use crate::engine::money::format_units;
use crate::engine::{
    EventKind, Genealogy, GenealogyEvent, Order, OrderKind, PartnerStatus, PartnerView, VolumePlan, VolumeView,
};
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

/// The engine kind of a proto order kind; `None` for UNSPECIFIED or unknown.
pub fn kind_from_proto(value: i32) -> Option<OrderKind> {
    match pb::OrderKind::try_from(value).ok()? {
        pb::OrderKind::Unspecified => None,
        pb::OrderKind::Retail => Some(OrderKind::Retail),
        pb::OrderKind::Self_ => Some(OrderKind::SelfPurchase),
        pb::OrderKind::Fee => Some(OrderKind::Fee),
    }
}

/// The proto kind of an engine kind.
pub fn kind_to_proto(kind: OrderKind) -> pb::OrderKind {
    match kind {
        OrderKind::Retail => pb::OrderKind::Retail,
        OrderKind::SelfPurchase => pb::OrderKind::Self_,
        OrderKind::Fee => pb::OrderKind::Fee,
    }
}

/// The proto message of a stored order: an adjustment shows its origin as
/// `period` and the period it counts in as `book_into_period`, as it was
/// sent, so a retry's answer equals the request.
pub fn order_to_proto(g: &Genealogy, order: &Order) -> pb::Order {
    let (period, book_into_period) = match order.origin {
        Some(origin) => (origin.to_string(), order.period.to_string()),
        None => (order.period.to_string(), String::new()),
    };
    pb::Order {
        order_id: order.order_id.clone(),
        partner_id: g.id(order.partner_ix).to_owned(),
        period,
        volume: order.volume_text(),
        kind: kind_to_proto(order.kind) as i32,
        adjusts_closed_period: order.origin.is_some(),
        book_into_period,
    }
}

/// The proto message of a partner's volumes.
pub fn volumes_to_proto(partner_id: &str, period: &str, plan: &VolumePlan, view: &VolumeView) -> pb::Volumes {
    let levels = view
        .levels
        .iter()
        .enumerate()
        .map(|(k, l)| pb::LevelVolume {
            level: k as u32 + 1,
            volume: format_units(i128::from(l.volume_units)),
            partner_count: u64::from(l.partners),
            active_count: u64::from(l.active),
        })
        .collect();
    pb::Volumes {
        partner_id: partner_id.to_owned(),
        period: period.to_owned(),
        pv: format_units(i128::from(view.pv_units)),
        rv: format_units(i128::from(view.rv_units)),
        gv: format_units(i128::from(view.gv_units)),
        levels,
        level_capped_volume: format_units(view.level_capped_units()),
        active: view.active,
        frontline_count: u64::from(view.frontline),
        active_frontline_count: u64::from(view.active_frontline),
        plan_levels: plan.levels as u32,
        compression: plan.compression,
    }
}
