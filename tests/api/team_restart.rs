//! Team data across moves, terminations and restarts, through the real
//! server.
//!
//! What it proves: a move that takes an assigned mentor out of the upline
//! clears the assignment (the sponsor mentors again) and moving back does
//! not revive it, while assignments the move leaves valid stay; a mentor's
//! termination clears its assignments; a termination that makes the
//! assigned mentor the sponsor turns the assignment into the default; and
//! a restart over the same directory shows every mentor, mentee list,
//! module, completion and team progress exactly as before, also after
//! further writes and a second restart.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::team_support::*;
use downline::proto::v1 as pb;
use pb::MentorSource::{Assigned, Sponsor};
use pb::PartnerStatus::Terminated;

/// Everything a client can read of the team data of `ids`.
async fn snapshot(t: &mut TeamClient, ids: &[&str]) -> Vec<String> {
    let mut out = vec![format!("{:?}", all_modules(t, 2).await)];
    for id in ids {
        out.push(format!("{:?}", mentor(t, id).await.map_err(|s| s.code())));
        out.push(format!("{:?}", mentees_page(t, id, 1000, "").await.map_err(|s| s.code())));
        out.push(format!("{:?}", all_completions(t, id, 1).await));
        for period in [TEAM_PERIOD, "2026-10"] {
            out.push(format!("{:?}", progress(t, id, period, 0).await.map_err(|s| s.code())));
        }
    }
    out
}

const IDS: [&str; 12] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_data_survives_restarts() {
    let (mut h, mut t, _v) = team_network().await;
    assign(&mut t, "E", "A", "coach").await.expect("E");
    assign(&mut t, "K", "B", "").await.expect("K");
    assign(&mut t, "J", "C", "").await.expect("J");
    let intro = module("intro", "Welcome, revised", "https://learn.example/intro-2", "Bronze");
    update_module(&mut t, intro, None).await.expect("update");
    let before = snapshot(&mut t, &IDS).await;
    let e = mentor(&mut t, "E").await.expect("E");
    assert_eq!(h.restart().await, 12);
    let mut t = team_client(h.addr).await;
    assert_eq!(snapshot(&mut t, &IDS).await, before, "the restart changed the team data");
    assert_eq!(mentor(&mut t, "E").await.expect("E"), e, "who, when and why of an assignment survive");

    // Writes after a restart continue where the stored ones stopped.
    create_module(&mut t, module("close", "Closing a sale", "https://learn.example/close", "")).await.expect("module");
    complete(&mut t, "H", "close", "2026-09-12").await.expect("H");
    complete(&mut t, "H", "intro", "2026-09-13").await.expect("H intro");
    assign(&mut t, "K", "E", "").await.expect("K's sponsor: the assignment goes");
    assign(&mut t, "I", "A", "").await.expect("I");
    let before = snapshot(&mut t, &IDS).await;
    assert_eq!(all_modules(&mut t, 10).await.last().map(|m| m.module_id.as_str()), Some("close"));
    h.restart().await;
    let mut t = team_client(h.addr).await;
    assert_eq!(snapshot(&mut t, &IDS).await, before, "the second restart changed the team data");
    assert_eq!(mentor_of(&mut t, "K").await, ("E".into(), Sponsor));
    let progress_h = progress(&mut t, "C", TEAM_PERIOD, 1).await.expect("C");
    let h_level = &progress_h.levels[0];
    assert_eq!((h_level.partner_count, h_level.completions.len()), (2, 4), "{h_level:?}");
    assert_eq!(h_level.completions[3].completed_count, 1, "H's completion of the new module counts");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_and_terminations_keep_mentors_consistent() {
    let mut h = Harness::new().await;
    // root ─┬─ a ── a1 ── a1x ── a1xx ── c
    //       └─ b ── b1
    for (id, sponsor) in [("root", ""), ("a", "root"), ("a1", "a"), ("a1x", "a1"), ("a1xx", "a1x"), ("b", "root")] {
        create(&mut h.client, id, sponsor).await;
    }
    create(&mut h.client, "b1", "b").await;
    create(&mut h.client, "c", "a1xx").await;
    let mut t = team_client(h.addr).await;
    assign(&mut t, "a1xx", "a", "").await.expect("a1xx");
    assign(&mut t, "a1x", "root", "").await.expect("a1x");
    assign(&mut t, "b1", "root", "").await.expect("b1");
    assign(&mut t, "c", "a1", "").await.expect("c");

    // a1 under b: a is no longer above a1xx; root (above a1x) and a1 (above c, moved along) still are.
    move_partner(&mut h.client, "a1", "b", "restructure").await.expect("move");
    assert_eq!(mentor_of(&mut t, "a1xx").await, ("a1x".into(), Sponsor));
    assert_eq!(mentor_of(&mut t, "a1x").await, ("root".into(), Assigned));
    assert_eq!(mentor_of(&mut t, "c").await, ("a1".into(), Assigned));
    assert!(mentee_ids(&mut t, "a", 10).await.is_empty());
    // Back under a: the cleared assignment stays cleared.
    move_partner(&mut h.client, "a1", "a", "undo").await.expect("move back");
    assert_eq!(mentor_of(&mut t, "a1xx").await, ("a1x".into(), Sponsor));
    assert_eq!(mentee_ids(&mut t, "a1x", 10).await, ["a1xx"]);

    // A moved partner whose assigned mentor becomes its sponsor gets the default.
    move_partner(&mut h.client, "a1x", "root", "").await.expect("a1x under root");
    assert_eq!(mentor_of(&mut t, "a1x").await, ("root".into(), Sponsor));
    assert_eq!(mentor_of(&mut t, "c").await, ("a1xx".into(), Sponsor), "a1 is no longer above c");
    move_partner(&mut h.client, "a1x", "a1", "").await.expect("a1x back");
    assert_eq!(mentor_of(&mut t, "a1x").await, ("a1".into(), Sponsor));

    // The assigned mentor's termination: c falls back to its sponsor.
    assign(&mut t, "a1xx", "a", "").await.expect("a1xx again");
    assign(&mut t, "c", "a1", "").await.expect("c again");
    set_status(&mut h.client, "a1", Terminated, "left").await.expect("terminate a1");
    assert_eq!(mentor_of(&mut t, "c").await, ("a1xx".into(), Sponsor));
    assert_eq!(mentor_of(&mut t, "a1x").await, ("a".into(), Sponsor), "a1's recruit now has a as sponsor");
    assert_eq!(mentor_of(&mut t, "a1xx").await, ("a".into(), Assigned), "a is still above a1xx");
    // The sponsor's termination makes the assigned mentor the sponsor: the default.
    set_status(&mut h.client, "a1x", Terminated, "left").await.expect("terminate a1x");
    assert_eq!(mentor_of(&mut t, "a1xx").await, ("a".into(), Sponsor));
    set_status(&mut h.client, "b", Terminated, "left").await.expect("terminate b");
    assert_eq!(mentor_of(&mut t, "b1").await, ("root".into(), Sponsor));
    assert_eq!(mentee_ids(&mut t, "root", 1).await, ["a", "b1"]);
    assert_eq!(mentee_ids(&mut t, "a", 1).await, ["a1xx"]);
    assert_eq!(mentee_ids(&mut t, "a1xx", 1).await, ["c"]);

    let ids = ["root", "a", "a1", "a1x", "a1xx", "b", "b1", "c"];
    let before = snapshot(&mut t, &ids).await;
    h.restart().await;
    let mut t = team_client(h.addr).await;
    assert_eq!(snapshot(&mut t, &ids).await, before, "the restart changed the mentors");
    h.stop().await;
}
