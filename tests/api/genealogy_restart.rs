//! Durability of `downline.v1.GenealogyService` across restarts: the
//! server is shut down and a new one starts over the same data directory.
//!
//! What it proves: after creations, moves, status changes, terminations
//! and imports, the restarted server shows every partner (GetPartner),
//! every downline listing and upline, and the whole audit trail (all of it
//! and per partner, with timestamps) exactly as before; new events continue
//! the sequence; page tokens issued before a restart still work after it
//! when no move happened, and are stale when one did.

use crate::genealogy_support::*;
use crate::harness::*;
use downline::proto::v1 as pb;
use pb::PartnerStatus::{Suspended, Terminated};
use tonic::Code;

/// Every id the restart scenario creates.
fn all_ids() -> Vec<String> {
    let mut ids: Vec<String> = SAMPLE_IDS.iter().map(|s| (*s).to_owned()).collect();
    ids.extend(["r2", "solo"].map(str::to_owned));
    ids.extend((0..150).map(|i| format!("imp-{i:03}")));
    ids
}

/// Everything a client can read: partners, their downlines (paged in
/// threes) and uplines, and the audit trail, all of it and per partner.
#[derive(Debug, PartialEq)]
struct Observed {
    partners: Vec<pb::Partner>,
    downlines: Vec<Vec<(u32, pb::Partner)>>,
    uplines: Vec<Vec<(u32, String)>>,
    events: Vec<pb::GenealogyEvent>,
    events_by_partner: Vec<Vec<pb::GenealogyEvent>>,
}

async fn observe(c: &mut Client) -> Observed {
    let ids = all_ids();
    let mut o = Observed {
        partners: Vec::new(),
        downlines: Vec::new(),
        uplines: Vec::new(),
        events: events_all(c, "", 7).await,
        events_by_partner: Vec::new(),
    };
    for id in &ids {
        let p = get(c, id).await;
        if p.status() != Terminated {
            o.downlines.push(downline_all(c, id, 0, 3).await);
            // Sponsors and depths already fix every upline: a sample will do.
            if !id.starts_with("imp-") || id.ends_with('0') {
                o.uplines.push(upline_ids(c, id, 0).await);
            }
        }
        o.partners.push(p);
        // Paged for the sample tree; one page each for the imported ones.
        let size = if id.starts_with("imp-") { 100 } else { 2 };
        o.events_by_partner.push(events_all(c, id, size).await);
    }
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_shows_everything_as_before() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    create(c, "r2", "").await;
    create(c, "solo", "").await;
    move_partner(c, "a", "b1", "realign").await.expect("move a");
    set_status(c, "b1x", Suspended, "audit").await.expect("suspend");
    c.set_partner_status(as_actor(
        pb::SetPartnerStatusRequest { partner_id: "b".into(), status: Terminated as i32, reason: "left".into() },
        "erin",
    ))
    .await
    .expect("terminate b");
    set_status(c, "solo", Terminated, "").await.expect("terminate solo");
    // An import (sponsors after recruits) under a moved partner and a new root.
    let mut rows: Vec<pb::CreatePartnerRequest> =
        (1..150).rev().map(|i| row(&format!("imp-{i:03}"), &format!("imp-{:03}", (i - 1) / 3))).collect();
    rows.push(row("imp-000", "a2"));
    let done = import_as(c, rows.chunks(40).map(<[_]>::to_vec).collect(), Some("loader")).await.expect("import");
    assert_eq!((done.created_count, done.unchanged_count), (150, 0));
    move_partner(c, "root", "r2", "merger").await.expect("move root");

    let before = observe(c).await;
    // Spot checks, so the comparison is about the right state.
    assert_eq!(before.partners[0], partner("root", "r2", pb::PartnerStatus::Enrolled, 1, 2, 158));
    assert_eq!(get(c, "a").await.depth, 3);
    assert_eq!(get(c, "imp-000").await.depth, 5);
    assert_eq!(get(c, "b").await, partner("b", "root", Terminated, 0, 0, 0));
    assert_eq!(before.events.len(), 12 + 1 + 1 + 2 + 1 + 150 + 1);

    let recovered = h.restart().await;
    assert_eq!(recovered, 162);
    let c = &mut h.client;
    let after = observe(c).await;
    assert_eq!(after.partners, before.partners);
    assert_eq!(after.downlines, before.downlines);
    assert_eq!(after.uplines, before.uplines);
    assert_eq!(after.events, before.events);
    assert_eq!(after.events_by_partner, before.events_by_partner);

    // The trail continues where it stopped, and writes work.
    let last = before.events.last().unwrap().sequence;
    create(c, "late", "imp-149").await;
    move_partner(c, "c", "late", "after restart").await.expect("move after restart");
    let tail: Vec<(u64, String)> = events_all(c, "", 1000)
        .await
        .iter()
        .skip(before.events.len())
        .map(|e| (e.sequence, e.partner_id.clone()))
        .collect();
    assert_eq!(tail, [(last + 1, "late".to_owned()), (last + 2, "c".to_owned())]);
    assert_eq!(get(c, "c").await.depth, get(c, "imp-149").await.depth + 2);
    // Terminated stays terminated and its id reserved.
    expect_err(c.create_partner(row("b", "root")).await, Code::AlreadyExists, &["partner_id"]);
    expect_err(set_status(c, "b", Suspended, "").await, Code::FailedPrecondition, &["partner_id"]);

    // A second restart right away recovers the latest writes too.
    let mid = observe(&mut h.client).await;
    assert_eq!(h.restart().await, 163);
    assert_eq!(observe(&mut h.client).await, mid);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_tokens_survive_a_restart_without_moves() {
    let mut h = Harness::new().await;
    sample_tree(&mut h.client).await;
    move_partner(&mut h.client, "a2", "c", "before the tokens").await.expect("move");
    let c = &mut h.client;
    let full = downline_ids(c, "root", 0, 100).await;
    let first = downline_page(c, "root", 0, 2, "").await.expect("page 1");
    let deep = downline_page(c, "root", 3, 1, "").await.expect("max_depth page");
    let events_first = events_page(c, "", 4, "").await.expect("events page 1");
    let expected_second = downline_page(c, "root", 0, 2, &first.next_page_token).await.expect("page 2");
    let expected_events = events_page(c, "", 4, &events_first.next_page_token).await.expect("events page 2");

    h.restart().await;
    let c = &mut h.client;
    let second = downline_page(c, "root", 0, 2, &first.next_page_token).await.expect("token after restart");
    assert_eq!(second, expected_second);
    let events_second = events_page(c, "", 4, &events_first.next_page_token).await.expect("events token after restart");
    assert_eq!(events_second, expected_events);
    assert_eq!(events_second.events[0].sequence, 5);
    // Paging to the end across the restart gives the full listing.
    let mut listed: Vec<(u32, String)> =
        first.members.iter().map(|m| (m.level, m.partner.clone().unwrap().partner_id)).collect();
    let mut token = first.next_page_token.clone();
    while !token.is_empty() {
        let page = downline_page(c, "root", 0, 2, &token).await.expect("page");
        listed.extend(page.members.into_iter().map(|m| (m.level, m.partner.unwrap().partner_id)));
        token = page.next_page_token;
    }
    assert_eq!(listed, full);

    // A creation after the restart keeps tokens valid; a move after it makes
    // the old ones stale, in a restart too.
    create(c, "late", "b1y").await;
    downline_page(c, "root", 3, 1, &deep.next_page_token).await.expect("token survives a creation");
    move_partner(c, "late", "a", "").await.expect("move");
    h.restart().await;
    let c = &mut h.client;
    expect_err(
        downline_page(c, "root", 3, 1, &deep.next_page_token).await,
        Code::InvalidArgument,
        &["page_token", "stale"],
    );
    expect_err(
        downline_page(c, "root", 0, 2, &first.next_page_token).await,
        Code::InvalidArgument,
        &["page_token", "stale"],
    );
    // Events tokens do not depend on the genealogy's shape.
    assert_eq!(
        events_page(c, "", 4, &events_first.next_page_token).await.expect("events token").events,
        expected_events.events
    );
    h.stop().await;
}
