//! The read side of `downline.v1.GenealogyService` and CreatePartner,
//! through a real server and the generated client.
//!
//! What it proves: CreatePartner creates roots and recruits with every
//! field as stored (depth, counts, joined_on as YYYY-MM-DD, display name);
//! an identical retry answers the stored partner and adds no audit event,
//! the same id with other content is ALREADY_EXISTS and changes nothing;
//! ListDownline is breadth-first by sponsor then creation order, with the
//! right levels, for every page size, max_depth and sub-tree, and its page
//! tokens keep working across plain creations; page_size 0 means 100 and
//! anything above 1000 is coerced to 1000 (ListGenealogyEvents too);
//! GetUpline is nearest first and honours max_levels.

use crate::genealogy_support::*;
use crate::harness::*;
use downline::proto::v1 as pb;
use pb::PartnerStatus::Enrolled;
use tonic::Code;

fn ids(list: &[(u32, &str)]) -> Vec<(u32, String)> {
    list.iter().map(|&(l, id)| (l, id.to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_get_show_every_field() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    let root_req = pb::CreatePartnerRequest {
        partner_id: "ACME:root_1.x-Y9".into(),
        sponsor_id: String::new(),
        joined_on: "2024-02-29".into(),
        display_name: "Acme Corp".into(),
    };
    let root = c.create_partner(root_req.clone()).await.expect("create root").into_inner();
    let expected_root = pb::Partner {
        partner_id: "ACME:root_1.x-Y9".into(),
        sponsor_id: String::new(),
        status: Enrolled as i32,
        depth: 0,
        joined_on: "2024-02-29".into(),
        display_name: "Acme Corp".into(),
        frontline_count: 0,
        downline_count: 0,
    };
    assert_eq!(root, expected_root);
    assert_eq!(get(c, "ACME:root_1.x-Y9").await, expected_root);

    let kid_req = pb::CreatePartnerRequest {
        partner_id: "kid".into(),
        sponsor_id: "ACME:root_1.x-Y9".into(),
        joined_on: "1900-01-01".into(),
        display_name: "Kïd (ü)".into(),
    };
    let kid = c.create_partner(kid_req.clone()).await.expect("create kid").into_inner();
    assert_eq!((kid.depth, kid.sponsor_id.as_str(), kid.joined_on.as_str()), (1, "ACME:root_1.x-Y9", "1900-01-01"));
    assert_eq!(kid.display_name, "Kïd (ü)");
    let long_id = "x".repeat(64);
    let grandkid = pb::CreatePartnerRequest {
        partner_id: long_id.clone(),
        sponsor_id: "kid".into(),
        joined_on: "2999-12-31".into(),
        display_name: String::new(),
    };
    let gk = c.create_partner(grandkid.clone()).await.expect("create 64-char id").into_inner();
    assert_eq!((gk.depth, gk.joined_on.as_str(), gk.frontline_count, gk.downline_count), (2, "2999-12-31", 0, 0));

    let root = get(c, "ACME:root_1.x-Y9").await;
    assert_eq!((root.depth, root.frontline_count, root.downline_count), (0, 1, 2));
    let kid = get(c, "kid").await;
    assert_eq!((kid.depth, kid.frontline_count, kid.downline_count), (1, 1, 1));
    assert_eq!(kid.status(), Enrolled);

    // An identical retry answers the stored partner (with today's counts)
    // and adds no event.
    let events_before = events_all(c, "", 1000).await;
    assert_eq!(events_before.len(), 3);
    let again = c.create_partner(kid_req.clone()).await.expect("retry").into_inner();
    assert_eq!(again, kid);
    let again_root = c.create_partner(root_req.clone()).await.expect("retry root").into_inner();
    assert_eq!(again_root, root);
    assert_eq!(events_all(c, "", 1000).await, events_before);

    // The same id with other content is ALREADY_EXISTS, naming the field and id.
    let others = [
        pb::CreatePartnerRequest { sponsor_id: long_id.clone(), ..kid_req.clone() },
        pb::CreatePartnerRequest { joined_on: "1900-01-02".into(), ..kid_req.clone() },
        pb::CreatePartnerRequest { display_name: "Kid".into(), ..kid_req.clone() },
        pb::CreatePartnerRequest { sponsor_id: String::new(), ..kid_req.clone() },
        pb::CreatePartnerRequest { sponsor_id: "kid".into(), ..root_req.clone() },
    ];
    let snapshot = get_all(c, &["ACME:root_1.x-Y9", "kid", &long_id]).await;
    for other in others {
        let result = c.create_partner(other.clone()).await;
        expect_err(result, Code::AlreadyExists, &["partner_id", &other.partner_id]);
        assert_eq!(get_all(c, &["ACME:root_1.x-Y9", "kid", &long_id]).await, snapshot);
    }
    assert_eq!(events_all(c, "", 1000).await, events_before);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_partner_of_the_sample_tree() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let expected = [
        partner("root", "", Enrolled, 0, 3, 9),
        partner("b", "root", Enrolled, 1, 1, 3),
        partner("a", "root", Enrolled, 1, 2, 3),
        partner("a1", "a", Enrolled, 2, 1, 1),
        partner("b1", "b", Enrolled, 2, 2, 2),
        partner("c", "root", Enrolled, 1, 0, 0),
        partner("a2", "a", Enrolled, 2, 0, 0),
        partner("b1x", "b1", Enrolled, 3, 0, 0),
        partner("a1x", "a1", Enrolled, 3, 0, 0),
        partner("b1y", "b1", Enrolled, 3, 0, 0),
    ];
    assert_eq!(get_all(c, &SAMPLE_IDS).await, expected);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_downline_is_breadth_first_for_every_page_size() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let full = ids(&SAMPLE_BFS);
    for size in [0, 1, 2, 3, 4, 9, 10, 1000] {
        assert_eq!(downline_ids(c, "root", 0, size).await, full, "page_size {size}");
    }
    // Pages carry the partners with their current fields.
    let members = downline_all(c, "root", 0, 2).await;
    assert_eq!(members[3].1, partner("b1", "b", Enrolled, 2, 2, 2));
    assert_eq!(members[8].1, partner("a1x", "a1", Enrolled, 3, 0, 0));

    // max_depth cuts levels; a max_depth beyond the tree lists everything.
    for (depth, len) in [(1, 3), (2, 6), (3, 9), (4, 9), (100, 9)] {
        for size in [1, 2, 3] {
            assert_eq!(
                downline_ids(c, "root", depth, size).await,
                full[..len].to_vec(),
                "max_depth {depth} size {size}"
            );
        }
    }
    // Exact page boundaries: a full last page still ends with an empty token.
    let page = downline_page(c, "root", 1, 3, "").await.expect("page");
    assert_eq!(page.members.len(), 3);
    assert!(page.next_page_token.is_empty(), "max_depth 1 has exactly 3 partners");
    let page = downline_page(c, "root", 0, 9, "").await.expect("page");
    assert_eq!(page.members.len(), 9);
    assert!(page.next_page_token.is_empty());

    // Levels are relative to the listed partner.
    assert_eq!(downline_ids(c, "b", 0, 1).await, ids(&[(1, "b1"), (2, "b1x"), (2, "b1y")]));
    assert_eq!(downline_ids(c, "a", 0, 2).await, ids(&[(1, "a1"), (1, "a2"), (2, "a1x")]));
    assert_eq!(downline_ids(c, "a", 1, 2).await, ids(&[(1, "a1"), (1, "a2")]));
    // A leaf: no members and no token.
    let leaf = downline_page(c, "c", 0, 10, "").await.expect("leaf");
    assert_eq!((leaf.members.len(), leaf.next_page_token.as_str()), (0, ""));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downline_token_keeps_working_after_a_plain_creation() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let first = downline_page(c, "root", 0, 2, "").await.expect("page 1");
    let listed: Vec<&str> = first.members.iter().map(|m| m.partner.as_ref().unwrap().partner_id.as_str()).collect();
    assert_eq!(listed, ["b", "a"]);
    assert!(!first.next_page_token.is_empty());
    // A creation (at a level not reached yet) does not invalidate the token,
    // and the new partner shows up at its place.
    create(c, "c1", "c").await;
    let mut rest = Vec::new();
    let mut token = first.next_page_token.clone();
    while !token.is_empty() {
        let page = downline_page(c, "root", 0, 2, &token).await.expect("token survives a creation");
        rest.extend(page.members.into_iter().map(|m| (m.level, m.partner.unwrap().partner_id)));
        token = page.next_page_token;
    }
    assert_eq!(rest, ids(&[(1, "c"), (2, "b1"), (2, "a1"), (2, "a2"), (2, "c1"), (3, "b1x"), (3, "b1y"), (3, "a1x")]));
    // The same token can be replayed: it is not single-use.
    let replay = downline_page(c, "root", 0, 2, &first.next_page_token).await.expect("replay");
    let replayed: Vec<&str> = replay.members.iter().map(|m| m.partner.as_ref().unwrap().partner_id.as_str()).collect();
    assert_eq!(replayed, ["c", "b1"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_size_zero_is_100_and_big_ones_are_coerced_to_1000() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    let mut rows = vec![row("big", "")];
    rows.extend((0..1200).map(|i| row(&format!("big-{i:04}"), "big")));
    let chunks: Vec<Vec<_>> = rows.chunks(500).map(<[_]>::to_vec).collect();
    let imported = import(c, chunks).await.expect("import");
    assert_eq!((imported.created_count, imported.unchanged_count), (1201, 0));
    assert_eq!(get(c, "big").await.downline_count, 1200);

    let page = downline_page(c, "big", 0, 0, "").await.expect("default page");
    assert_eq!(page.members.len(), 100);
    assert_eq!(page.members[99].partner.as_ref().unwrap().partner_id, "big-0099");
    assert!(!page.next_page_token.is_empty());
    for size in [1001, 5000, i32::MAX] {
        let page = downline_page(c, "big", 0, size, "").await.expect("big page");
        assert_eq!(page.members.len(), 1000, "page_size {size}");
        let next = downline_page(c, "big", 0, size, &page.next_page_token).await.expect("second page");
        assert_eq!(next.members.len(), 200);
        assert_eq!(next.members[0].partner.as_ref().unwrap().partner_id, "big-1000");
        assert!(next.next_page_token.is_empty());
    }
    let all = downline_ids(c, "big", 0, 1000).await;
    let expected: Vec<(u32, String)> = (0..1200).map(|i| (1, format!("big-{i:04}"))).collect();
    assert_eq!(all, expected);

    // The same page sizes for the audit trail (1201 creation events).
    let page = events_page(c, "", 0, "").await.expect("default events page");
    assert_eq!(page.events.len(), 100);
    assert!(!page.next_page_token.is_empty());
    for size in [1001, i32::MAX] {
        let page = events_page(c, "", size, "").await.expect("big events page");
        assert_eq!(page.events.len(), 1000);
        let next = events_page(c, "", size, &page.next_page_token).await.expect("next");
        assert_eq!(next.events.len(), 201);
        assert_eq!(next.events.last().unwrap().sequence, 1201);
        assert!(next.next_page_token.is_empty());
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_upline_is_nearest_first() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    assert_eq!(upline_ids(c, "a1x", 0).await, ids(&[(1, "a1"), (2, "a"), (3, "root")]));
    assert_eq!(upline_ids(c, "a1x", 1).await, ids(&[(1, "a1")]));
    assert_eq!(upline_ids(c, "a1x", 2).await, ids(&[(1, "a1"), (2, "a")]));
    assert_eq!(upline_ids(c, "a1x", 3).await, ids(&[(1, "a1"), (2, "a"), (3, "root")]));
    assert_eq!(upline_ids(c, "a1x", u32::MAX).await, ids(&[(1, "a1"), (2, "a"), (3, "root")]));
    assert_eq!(upline_ids(c, "b1y", 0).await, ids(&[(1, "b1"), (2, "b"), (3, "root")]));
    assert_eq!(upline_ids(c, "root", 0).await, Vec::new());
    // Upline members are full partners.
    let response = c
        .get_upline(pb::GetUplineRequest { partner_id: "b1x".into(), max_levels: 0 })
        .await
        .expect("upline")
        .into_inner();
    let partners: Vec<pb::Partner> = response.members.into_iter().map(|m| m.partner.unwrap()).collect();
    assert_eq!(
        partners,
        [
            partner("b1", "b", Enrolled, 2, 2, 2),
            partner("b", "root", Enrolled, 1, 1, 3),
            partner("root", "", Enrolled, 0, 3, 9)
        ]
    );
    h.stop().await;
}
