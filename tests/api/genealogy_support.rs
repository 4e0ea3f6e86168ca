//! Helpers of the genealogy tests: creation rows, calls that must succeed
//! (they fail loudly with the status when they do not), whole listings
//! page after page, and the sample tree.

use crate::harness::{as_actor, Client};
use downline::proto::v1 as pb;
use tonic::{Request, Status};

/// The joining day every helper-created partner gets.
pub const JOINED: &str = "2026-01-15";

/// A creation request joined on [`JOINED`], without a display name.
pub fn row(id: &str, sponsor: &str) -> pb::CreatePartnerRequest {
    pb::CreatePartnerRequest {
        partner_id: id.to_owned(),
        sponsor_id: sponsor.to_owned(),
        joined_on: JOINED.to_owned(),
        display_name: String::new(),
    }
}

/// Creates a partner (empty sponsor: a root) or panics with the status.
pub async fn create(c: &mut Client, id: &str, sponsor: &str) -> pb::Partner {
    c.create_partner(row(id, sponsor)).await.unwrap_or_else(|s| panic!("create {id}: {s:?}")).into_inner()
}

/// GetPartner or panic.
pub async fn get(c: &mut Client, id: &str) -> pb::Partner {
    c.get_partner(pb::GetPartnerRequest { partner_id: id.to_owned() })
        .await
        .unwrap_or_else(|s| panic!("get {id}: {s:?}"))
        .into_inner()
}

/// GetPartner of many partners.
pub async fn get_all(c: &mut Client, ids: &[&str]) -> Vec<pb::Partner> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get(c, id).await);
    }
    out
}

/// One ListDownline call.
pub async fn downline_page(
    c: &mut Client,
    id: &str,
    max_depth: u32,
    page_size: i32,
    token: &str,
) -> Result<pb::ListDownlineResponse, Status> {
    let request =
        pb::ListDownlineRequest { partner_id: id.to_owned(), max_depth, page_size, page_token: token.to_owned() };
    c.list_downline(request).await.map(tonic::Response::into_inner)
}

/// The whole downline listing, page after page, as (level, partner).
pub async fn downline_all(c: &mut Client, id: &str, max_depth: u32, page_size: i32) -> Vec<(u32, pb::Partner)> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page =
            downline_page(c, id, max_depth, page_size, &token).await.unwrap_or_else(|s| panic!("downline {id}: {s:?}"));
        if page_size > 0 {
            assert!(page.members.len() <= page_size as usize, "a page of {} exceeds {page_size}", page.members.len());
        }
        out.extend(page.members.into_iter().map(|m| (m.level, m.partner.expect("member partner"))));
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// The downline listing as (level, id).
pub async fn downline_ids(c: &mut Client, id: &str, max_depth: u32, page_size: i32) -> Vec<(u32, String)> {
    downline_all(c, id, max_depth, page_size).await.into_iter().map(|(l, p)| (l, p.partner_id)).collect()
}

/// GetUpline as (level, id).
pub async fn upline_ids(c: &mut Client, id: &str, max_levels: u32) -> Vec<(u32, String)> {
    c.get_upline(pb::GetUplineRequest { partner_id: id.to_owned(), max_levels })
        .await
        .unwrap_or_else(|s| panic!("upline {id}: {s:?}"))
        .into_inner()
        .members
        .into_iter()
        .map(|m| (m.level, m.partner.expect("upline partner").partner_id))
        .collect()
}

/// One ListGenealogyEvents call.
pub async fn events_page(
    c: &mut Client,
    partner_id: &str,
    page_size: i32,
    token: &str,
) -> Result<pb::ListGenealogyEventsResponse, Status> {
    let request =
        pb::ListGenealogyEventsRequest { partner_id: partner_id.to_owned(), page_size, page_token: token.to_owned() };
    c.list_genealogy_events(request).await.map(tonic::Response::into_inner)
}

/// Every event (of one partner, or all with ""), page after page.
pub async fn events_all(c: &mut Client, partner_id: &str, page_size: i32) -> Vec<pb::GenealogyEvent> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = events_page(c, partner_id, page_size, &token).await.unwrap_or_else(|s| panic!("events: {s:?}"));
        out.extend(page.events);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// ImportPartners with one stream message per chunk.
pub async fn import(
    c: &mut Client,
    chunks: Vec<Vec<pb::CreatePartnerRequest>>,
) -> Result<pb::ImportPartnersResponse, Status> {
    import_as(c, chunks, None).await
}

/// ImportPartners, optionally with an actor.
pub async fn import_as(
    c: &mut Client,
    chunks: Vec<Vec<pb::CreatePartnerRequest>>,
    actor: Option<&str>,
) -> Result<pb::ImportPartnersResponse, Status> {
    let stream = tokio_stream::iter(chunks.into_iter().map(|partners| pb::ImportPartnersRequest { partners }));
    let request = match actor {
        Some(actor) => as_actor(stream, actor),
        None => Request::new(stream),
    };
    c.import_partners(request).await.map(tonic::Response::into_inner)
}

/// MovePartner with a reason.
pub async fn move_partner(c: &mut Client, id: &str, new_sponsor: &str, reason: &str) -> Result<pb::Partner, Status> {
    let request = pb::MovePartnerRequest {
        partner_id: id.to_owned(),
        new_sponsor_id: new_sponsor.to_owned(),
        reason: reason.to_owned(),
    };
    c.move_partner(request).await.map(tonic::Response::into_inner)
}

/// SetPartnerStatus with a reason.
pub async fn set_status(
    c: &mut Client,
    id: &str,
    status: pb::PartnerStatus,
    reason: &str,
) -> Result<pb::Partner, Status> {
    let request =
        pb::SetPartnerStatusRequest { partner_id: id.to_owned(), status: status as i32, reason: reason.to_owned() };
    c.set_partner_status(request).await.map(tonic::Response::into_inner)
}

/// A partner as the API must show it.
pub fn partner(
    id: &str,
    sponsor: &str,
    status: pb::PartnerStatus,
    depth: u32,
    frontline: u32,
    downline: u64,
) -> pb::Partner {
    pb::Partner {
        partner_id: id.to_owned(),
        sponsor_id: sponsor.to_owned(),
        status: status as i32,
        depth,
        joined_on: JOINED.to_owned(),
        display_name: String::new(),
        frontline_count: frontline,
        downline_count: downline,
    }
}

/// The ids of the sample tree, in creation order.
pub const SAMPLE_IDS: [&str; 10] = ["root", "b", "a", "a1", "b1", "c", "a2", "b1x", "a1x", "b1y"];

/// The breadth-first downline of `root` in the sample tree.
pub const SAMPLE_BFS: [(u32, &str); 9] =
    [(1, "b"), (1, "a"), (1, "c"), (2, "b1"), (2, "a1"), (2, "a2"), (3, "b1x"), (3, "b1y"), (3, "a1x")];

/// Creates the sample tree (creation order differs from breadth-first
/// order, so the listing order is really by sponsor, then creation):
///
/// ```text
/// root ─┬─ b ── b1 ─┬─ b1x
///       │           └─ b1y
///       ├─ a ─┬─ a1 ── a1x
///       │     └─ a2
///       └─ c
/// ```
pub async fn sample_tree(c: &mut Client) {
    for (id, sponsor) in [
        ("root", ""),
        ("b", "root"),
        ("a", "root"),
        ("a1", "a"),
        ("b1", "b"),
        ("c", "root"),
        ("a2", "a"),
        ("b1x", "b1"),
        ("a1x", "a1"),
        ("b1y", "b1"),
    ] {
        create(c, id, sponsor).await;
    }
}
