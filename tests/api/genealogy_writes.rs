//! The writes of `downline.v1.GenealogyService` and their audit trail,
//! through a real server and the generated client.
//!
//! What it proves: MovePartner carries the whole downline (depths, levels,
//! and the counts of the old and new upline), refuses cycles and
//! terminated partners and changes nothing then; SetPartnerStatus
//! suspends and re-enrolls, terminates by handing the recruits to the
//! sponsor (depths -1), and termination is final (no status change, no
//! move, no recruit, no re-creation of the id); ListGenealogyEvents lists
//! every event oldest first with sequences 1, 2, 3, ..., filters by
//! partner, pages with tokens, records the `x-downline-actor` (else
//! "unknown"), the reason, old and new sponsor and status; ImportPartners
//! streams chunks with sponsors after recruits, counts created and
//! unchanged rows, and a retried import changes nothing.

use crate::genealogy_support::*;
use crate::harness::*;
use downline::proto::v1 as pb;
use pb::GenealogyEventKind::{Created, Moved, SponsorTerminated, StatusChanged};
use pb::PartnerStatus::{Enrolled, Suspended, Terminated, Unspecified};
use tonic::Code;

fn ids(list: &[(u32, &str)]) -> Vec<(u32, String)> {
    list.iter().map(|&(l, id)| (l, id.to_owned())).collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// An event without its timestamp, for exact comparison.
type Ev = (u64, pb::GenealogyEventKind, String, String, String, String, String, pb::PartnerStatus, pb::PartnerStatus);

fn ev(e: &pb::GenealogyEvent) -> Ev {
    (
        e.sequence,
        e.kind(),
        e.partner_id.clone(),
        e.actor.clone(),
        e.reason.clone(),
        e.old_sponsor_id.clone(),
        e.new_sponsor_id.clone(),
        e.old_status(),
        e.new_status(),
    )
}

#[allow(clippy::too_many_arguments)]
fn want(
    seq: u64,
    kind: pb::GenealogyEventKind,
    id: &str,
    actor: &str,
    reason: &str,
    old_sponsor: &str,
    new_sponsor: &str,
    old: pb::PartnerStatus,
    new: pb::PartnerStatus,
) -> Ev {
    (seq, kind, id.into(), actor.into(), reason.into(), old_sponsor.into(), new_sponsor.into(), old, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_partner_carries_the_whole_downline() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let moved = c
        .move_partner(as_actor(
            pb::MovePartnerRequest { partner_id: "a".into(), new_sponsor_id: "b1".into(), reason: "realign".into() },
            "carol",
        ))
        .await
        .expect("move")
        .into_inner();
    assert_eq!(moved, partner("a", "b1", Enrolled, 3, 2, 3));
    let expected = [
        partner("root", "", Enrolled, 0, 2, 9),
        partner("b", "root", Enrolled, 1, 1, 7),
        partner("a", "b1", Enrolled, 3, 2, 3),
        partner("a1", "a", Enrolled, 4, 1, 1),
        partner("b1", "b", Enrolled, 2, 3, 6),
        partner("c", "root", Enrolled, 1, 0, 0),
        partner("a2", "a", Enrolled, 4, 0, 0),
        partner("b1x", "b1", Enrolled, 3, 0, 0),
        partner("a1x", "a1", Enrolled, 5, 0, 0),
        partner("b1y", "b1", Enrolled, 3, 0, 0),
    ];
    assert_eq!(get_all(c, &SAMPLE_IDS).await, expected);
    let bfs = ids(&[(1, "b"), (1, "c"), (2, "b1"), (3, "a"), (3, "b1x"), (3, "b1y"), (4, "a1"), (4, "a2"), (5, "a1x")]);
    for size in [1, 2, 3] {
        assert_eq!(downline_ids(c, "root", 0, size).await, bfs);
    }
    // Recruits keep creation order under their new sponsor: a was created before b1x.
    assert_eq!(downline_ids(c, "b1", 1, 10).await, ids(&[(1, "a"), (1, "b1x"), (1, "b1y")]));
    assert_eq!(upline_ids(c, "a1x", 0).await, ids(&[(1, "a1"), (2, "a"), (3, "b1"), (4, "b"), (5, "root")]));
    let events = events_all(c, "a", 10).await;
    assert_eq!(events.len(), 2);
    assert_eq!(ev(&events[1]), want(11, Moved, "a", "carol", "realign", "root", "b1", Enrolled, Enrolled));

    // Moving to the current sponsor changes nothing and adds no event.
    let same = move_partner(c, "a", "b1", "again").await.expect("no-op move");
    assert_eq!(same, expected[2]);
    assert_eq!(events_all(c, "", 100).await.len(), 11);

    // Cycles and unknown partners are refused and change nothing.
    for (who, to) in [("a", "a"), ("a", "a1x"), ("a", "a2"), ("root", "b1y"), ("b", "a")] {
        expect_err(move_partner(c, who, to, "").await, Code::FailedPrecondition, &["new_sponsor_id", "cycle"]);
    }
    expect_err(move_partner(c, "nobody", "root", "").await, Code::NotFound, &["partner_id", "nobody"]);
    expect_err(move_partner(c, "a", "nobody", "").await, Code::NotFound, &["new_sponsor_id", "nobody"]);
    assert_eq!(get_all(c, &SAMPLE_IDS).await, expected);
    assert_eq!(events_all(c, "", 100).await.len(), 11);

    // Moving back restores the original shape.
    move_partner(c, "a", "root", "back").await.expect("move back");
    assert_eq!(downline_ids(c, "root", 0, 2).await, ids(&SAMPLE_BFS));
    assert_eq!(get(c, "b").await, partner("b", "root", Enrolled, 1, 1, 3));
    assert_eq!(get(c, "a1x").await.depth, 3);

    // A whole tree moves under another root.
    create(c, "r2", "").await;
    let root = move_partner(c, "root", "r2", "merger").await.expect("root moves");
    assert_eq!(root, partner("root", "r2", Enrolled, 1, 3, 9));
    assert_eq!(get(c, "r2").await, partner("r2", "", Enrolled, 0, 1, 10));
    assert_eq!(get(c, "b1x").await.depth, 4);
    assert_eq!(upline_ids(c, "a1x", 0).await, ids(&[(1, "a1"), (2, "a"), (3, "root"), (4, "r2")]));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_and_termination() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let suspended = set_status(c, "b1", Suspended, "audit").await.expect("suspend");
    assert_eq!(suspended, partner("b1", "b", Suspended, 2, 2, 2));
    assert_eq!(get(c, "root").await, partner("root", "", Enrolled, 0, 3, 9));
    assert_eq!(downline_ids(c, "root", 0, 3).await, ids(&SAMPLE_BFS));
    // The same status again changes nothing.
    assert_eq!(set_status(c, "b1", Suspended, "again").await.expect("no-op"), suspended);
    assert_eq!(events_all(c, "b1", 10).await.len(), 2);

    // Terminating b hands b1 (with its downline) to root.
    let terminated = c
        .set_partner_status(as_actor(
            pb::SetPartnerStatusRequest { partner_id: "b".into(), status: Terminated as i32, reason: "left".into() },
            "erin",
        ))
        .await
        .expect("terminate")
        .into_inner();
    assert_eq!(terminated, partner("b", "root", Terminated, 0, 0, 0));
    assert_eq!(get(c, "b1").await, partner("b1", "root", Suspended, 1, 2, 2));
    assert_eq!(get(c, "b1x").await, partner("b1x", "b1", Enrolled, 2, 0, 0));
    assert_eq!(get(c, "b1y").await.depth, 2);
    assert_eq!(get(c, "root").await, partner("root", "", Enrolled, 0, 3, 8));
    let bfs = ids(&[(1, "a"), (1, "b1"), (1, "c"), (2, "a1"), (2, "a2"), (2, "b1x"), (2, "b1y"), (3, "a1x")]);
    for size in [1, 2, 3] {
        assert_eq!(downline_ids(c, "root", 0, size).await, bfs);
    }
    assert_eq!(upline_ids(c, "b1x", 0).await, ids(&[(1, "b1"), (2, "root")]));
    let tail: Vec<Ev> = events_all(c, "", 100).await.iter().skip(11).map(ev).collect();
    assert_eq!(
        tail,
        [
            want(12, StatusChanged, "b", "erin", "left", "root", "root", Enrolled, Terminated),
            want(13, SponsorTerminated, "b1", "erin", "left", "b", "root", Suspended, Suspended),
        ]
    );
    assert_eq!(set_status(c, "b1", Enrolled, "cleared").await.expect("re-enroll").status(), Enrolled);

    // A leaf and a lone root can be terminated.
    set_status(c, "c", Terminated, "").await.expect("terminate leaf");
    assert_eq!(get(c, "root").await, partner("root", "", Enrolled, 0, 2, 7));
    create(c, "solo", "").await;
    assert_eq!(
        set_status(c, "solo", Terminated, "").await.expect("lone root"),
        partner("solo", "", Terminated, 0, 0, 0)
    );

    // Terminated is final, and everything refused changes nothing.
    let snapshot = get_all(c, &SAMPLE_IDS).await;
    let event_count = events_all(c, "", 100).await.len();
    for status in [Enrolled, Suspended, Terminated] {
        expect_err(set_status(c, "b", status, "").await, Code::FailedPrecondition, &["partner_id", "terminated"]);
    }
    expect_err(set_status(c, "a", Unspecified, "").await, Code::InvalidArgument, &["status"]);
    let bad = pb::SetPartnerStatusRequest { partner_id: "a".into(), status: 7, reason: String::new() };
    expect_err(c.set_partner_status(bad).await, Code::InvalidArgument, &["status", "7"]);
    expect_err(set_status(c, "root", Terminated, "").await, Code::FailedPrecondition, &["partner_id", "recruits"]);
    expect_err(set_status(c, "nobody", Suspended, "").await, Code::NotFound, &["partner_id", "nobody"]);
    let under_terminated = c.create_partner(row("new", "b")).await;
    expect_err(under_terminated, Code::FailedPrecondition, &["sponsor_id", "terminated"]);
    expect_err(c.create_partner(row("b", "root")).await, Code::AlreadyExists, &["partner_id", "'b'", "never reused"]);
    expect_err(c.create_partner(row("b", "")).await, Code::AlreadyExists, &["partner_id", "never reused"]);
    expect_err(move_partner(c, "b", "a", "").await, Code::FailedPrecondition, &["partner_id", "terminated"]);
    expect_err(move_partner(c, "a", "b", "").await, Code::FailedPrecondition, &["new_sponsor_id", "terminated"]);
    expect_err(import(c, vec![vec![row("new", "b")]]).await, Code::FailedPrecondition, &["partners[0].sponsor_id"]);
    let upline = c.get_upline(pb::GetUplineRequest { partner_id: "b".into(), max_levels: 0 }).await;
    expect_err(upline, Code::FailedPrecondition, &["partner_id", "terminated"]);
    expect_err(downline_page(c, "b", 0, 10, "").await, Code::FailedPrecondition, &["partner_id", "terminated"]);
    assert_eq!(get_all(c, &SAMPLE_IDS).await, snapshot);
    assert_eq!(events_all(c, "", 100).await.len(), event_count);
    expect_err(
        c.get_partner(pb::GetPartnerRequest { partner_id: "new".into() }).await,
        Code::NotFound,
        &["partner_id"],
    );
    // The terminated partner's own trail stays readable.
    assert_eq!(events_all(c, "b", 10).await.len(), 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_records_who_what_and_why() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    let t0 = now_ms();
    c.create_partner(as_actor(row("root", ""), "alice")).await.expect("root");
    create(c, "a", "root").await;
    c.create_partner(as_actor(row("b", "root"), "bob")).await.expect("b");
    let mv = pb::MovePartnerRequest { partner_id: "b".into(), new_sponsor_id: "a".into(), reason: "realign".into() };
    c.move_partner(as_actor(mv, "carol")).await.expect("move");
    let suspend =
        pb::SetPartnerStatusRequest { partner_id: "a".into(), status: Suspended as i32, reason: "compliance".into() };
    c.set_partner_status(as_actor(suspend, "dave")).await.expect("suspend");
    let terminate =
        pb::SetPartnerStatusRequest { partner_id: "a".into(), status: Terminated as i32, reason: "left".into() };
    c.set_partner_status(as_actor(terminate, "erin")).await.expect("terminate");
    let imported =
        import_as(c, vec![vec![row("i2", "i1")], vec![row("i1", "b")]], Some("frank")).await.expect("import");
    assert_eq!((imported.created_count, imported.unchanged_count), (2, 0));
    // An actor longer than 128 bytes is not kept; 128 bytes are.
    c.create_partner(as_actor(row("long", "root"), &"z".repeat(129))).await.expect("long actor");
    c.create_partner(as_actor(row("edge", "root"), &"y".repeat(128))).await.expect("128-byte actor");
    let t1 = now_ms();

    let all = events_all(c, "", 1000).await;
    let expected = [
        want(1, Created, "root", "alice", "", "", "", Unspecified, Enrolled),
        want(2, Created, "a", "unknown", "", "", "root", Unspecified, Enrolled),
        want(3, Created, "b", "bob", "", "", "root", Unspecified, Enrolled),
        want(4, Moved, "b", "carol", "realign", "root", "a", Enrolled, Enrolled),
        want(5, StatusChanged, "a", "dave", "compliance", "root", "root", Enrolled, Suspended),
        want(6, StatusChanged, "a", "erin", "left", "root", "root", Suspended, Terminated),
        want(7, SponsorTerminated, "b", "erin", "left", "a", "root", Enrolled, Enrolled),
        want(8, Created, "i1", "frank", "import", "", "b", Unspecified, Enrolled),
        want(9, Created, "i2", "frank", "import", "", "i1", Unspecified, Enrolled),
        want(10, Created, "long", "unknown", "", "", "root", Unspecified, Enrolled),
        want(11, Created, "edge", &"y".repeat(128), "", "", "root", Unspecified, Enrolled),
    ];
    assert_eq!(all.iter().map(ev).collect::<Vec<_>>(), expected);
    for e in &all {
        assert!(
            (t0..=t1).contains(&e.occurred_at_unix_ms),
            "event {} at {} not in {t0}..={t1}",
            e.sequence,
            e.occurred_at_unix_ms
        );
    }
    assert!(all.windows(2).all(|w| w[0].occurred_at_unix_ms <= w[1].occurred_at_unix_ms));

    // Every page size concatenates to the same trail, and tokens page on.
    for size in [1, 2, 3, 10, 11] {
        assert_eq!(events_all(c, "", size).await, all, "page_size {size}");
    }
    let first = events_page(c, "", 4, "").await.expect("page");
    assert_eq!(first.events.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let second = events_page(c, "", 4, &first.next_page_token).await.expect("page 2");
    assert_eq!(second.events.iter().map(|e| e.sequence).collect::<Vec<_>>(), [5, 6, 7, 8]);
    let page = events_page(c, "", 11, "").await.expect("exact page");
    assert!(page.next_page_token.is_empty(), "11 events fit one page of 11");

    // Filtered by partner, with and without paging.
    let of = |id: &str| all.iter().filter(|e| e.partner_id == id).cloned().collect::<Vec<_>>();
    for id in ["root", "a", "b", "i1", "i2", "edge"] {
        for size in [1, 2, 100] {
            assert_eq!(events_all(c, id, size).await, of(id), "{id} page_size {size}");
        }
    }
    assert_eq!(of("b").iter().map(|e| e.sequence).collect::<Vec<_>>(), [3, 4, 7]);
    // A trail that grows after a token was issued continues from the token.
    let b_first = events_page(c, "b", 1, "").await.expect("b page 1");
    move_partner(c, "b", "edge", "later").await.expect("move again");
    let mut rest = Vec::new();
    let mut token = b_first.next_page_token;
    while !token.is_empty() {
        let page = events_page(c, "b", 1, &token).await.expect("b pages");
        rest.extend(page.events.iter().map(|e| e.sequence));
        token = page.next_page_token;
    }
    assert_eq!(rest, [4, 7, 12]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_streams_chunks_with_sponsors_after_recruits() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    create(c, "top", "").await;
    let named = pb::CreatePartnerRequest {
        partner_id: "j1".into(),
        sponsor_id: "top".into(),
        joined_on: "2025-12-31".into(),
        display_name: "Jay".into(),
    };
    let chunks = vec![
        vec![row("i3", "i2"), row("i2", "i1")],
        vec![row("i1", "top"), named.clone()],
        vec![],
        vec![row("i4", "i3"), row("r2", ""), row("i2b", "i1"), row("r2k", "r2")],
    ];
    let done = import(c, chunks.clone()).await.expect("import");
    assert_eq!((done.created_count, done.unchanged_count), (8, 0));
    assert_eq!(get(c, "top").await, partner("top", "", Enrolled, 0, 2, 6));
    assert_eq!(get(c, "i1").await, partner("i1", "top", Enrolled, 1, 2, 4));
    assert_eq!(get(c, "i2").await, partner("i2", "i1", Enrolled, 2, 1, 2));
    assert_eq!(get(c, "i3").await, partner("i3", "i2", Enrolled, 3, 1, 1));
    assert_eq!(get(c, "i4").await, partner("i4", "i3", Enrolled, 4, 0, 0));
    assert_eq!(get(c, "i2b").await, partner("i2b", "i1", Enrolled, 2, 0, 0));
    assert_eq!(get(c, "r2").await, partner("r2", "", Enrolled, 0, 1, 1));
    let j1 = get(c, "j1").await;
    assert_eq!((j1.joined_on.as_str(), j1.display_name.as_str(), j1.depth), ("2025-12-31", "Jay", 1));
    // Siblings of an import keep their row order.
    assert_eq!(
        downline_ids(c, "top", 0, 2).await,
        ids(&[(1, "i1"), (1, "j1"), (2, "i2"), (2, "i2b"), (3, "i3"), (4, "i4")])
    );
    // Creation events in creation (breadth-first) order, reason "import".
    let events = events_all(c, "", 100).await;
    let created: Vec<(u64, &str, &str, &str)> = events
        .iter()
        .skip(1)
        .map(|e| (e.sequence, e.partner_id.as_str(), e.new_sponsor_id.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        created,
        [
            (2, "i1", "top", "import"),
            (3, "j1", "top", "import"),
            (4, "r2", "", "import"),
            (5, "i2", "i1", "import"),
            (6, "i2b", "i1", "import"),
            (7, "r2k", "r2", "import"),
            (8, "i3", "i2", "import"),
            (9, "i4", "i3", "import"),
        ]
    );
    assert!(events.iter().skip(1).all(|e| e.actor == "unknown" && e.kind() == Created));

    // A retried import changes nothing and adds no event.
    let again = import(c, chunks).await.expect("retry");
    assert_eq!((again.created_count, again.unchanged_count), (0, 8));
    assert_eq!(events_all(c, "", 100).await, events);
    // Partly known rows: known ones unchanged, repeated rows counted once.
    let mixed =
        import(c, vec![vec![row("i1", "top"), row("k1", "i4"), row("k1", "i4")], vec![named]]).await.expect("mixed");
    assert_eq!((mixed.created_count, mixed.unchanged_count), (1, 3));
    assert_eq!(get(c, "k1").await.depth, 5);
    assert_eq!(get(c, "top").await.downline_count, 7);
    // An empty import is fine.
    let empty = import(c, vec![]).await.expect("empty import");
    assert_eq!((empty.created_count, empty.unchanged_count), (0, 0));
    assert_eq!(events_all(c, "", 100).await.len(), 10);
    h.stop().await;
}
