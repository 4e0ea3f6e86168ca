//! Refused requests of `downline.v1.GenealogyService`, through a real
//! server and the generated client.
//!
//! What it proves: every malformed field (ids empty, 65 characters or with
//! bad characters; impossible or badly shaped dates; too long names and
//! reasons; negative page sizes) is INVALID_ARGUMENT, and unknown partners
//! NOT_FOUND, with a message that names the field; page tokens that are
//! garbage, tampered, of another RPC, another partner or max_depth, or
//! stale after a move or a termination are INVALID_ARGUMENT `page_token`;
//! a bad import row (bad field, unknown or terminated sponsor, cycle, taken
//! id, conflicting duplicate, too many rows) fails with the right code,
//! names the row number, and imports nothing; and after every refused
//! write the genealogy and the audit trail are exactly as before.

use crate::genealogy_support::*;
use crate::harness::*;
use downline::proto::v1 as pb;
use pb::PartnerStatus::Suspended;
use tonic::Code;

/// Everything a refused request must leave alone.
async fn state(c: &mut Client) -> (Vec<pb::Partner>, Vec<pb::GenealogyEvent>) {
    (get_all(c, &SAMPLE_IDS).await, events_all(c, "", 1000).await)
}

fn req(id: &str, sponsor: &str, joined_on: &str) -> pb::CreatePartnerRequest {
    pb::CreatePartnerRequest { joined_on: joined_on.into(), ..row(id, sponsor) }
}

/// The rows of an import, one stream message per inner vector.
type Chunks = Vec<Vec<pb::CreatePartnerRequest>>;

const BAD_IDS: [&str; 7] = ["", "a b", "a/b", "é", "a\u{0}b", "root!", "(x)"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_fields_are_invalid_argument_naming_the_field() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let before = state(c).await;
    let too_long = "x".repeat(65);
    let mut bad_ids: Vec<&str> = BAD_IDS.to_vec();
    bad_ids.push(&too_long);
    for bad in &bad_ids {
        let code = Code::InvalidArgument;
        expect_err(c.create_partner(req(bad, "root", JOINED)).await, code, &["partner_id"]);
        if !bad.is_empty() {
            expect_err(c.create_partner(req("new", bad, JOINED)).await, code, &["sponsor_id"]);
        }
        expect_err(c.get_partner(pb::GetPartnerRequest { partner_id: (*bad).into() }).await, code, &["partner_id"]);
        expect_err(downline_page(c, bad, 0, 10, "").await, code, &["partner_id"]);
        let upline = c.get_upline(pb::GetUplineRequest { partner_id: (*bad).into(), max_levels: 0 }).await;
        expect_err(upline, code, &["partner_id"]);
        expect_err(move_partner(c, bad, "root", "").await, code, &["partner_id"]);
        expect_err(move_partner(c, "a", bad, "").await, code, &["new_sponsor_id"]);
        expect_err(set_status(c, bad, Suspended, "").await, code, &["partner_id"]);
        if !bad.is_empty() {
            expect_err(events_page(c, bad, 10, "").await, code, &["partner_id"]);
        }
    }
    // The message says what is wrong.
    expect_err(c.create_partner(req("", "root", JOINED)).await, Code::InvalidArgument, &["partner_id", "empty"]);
    expect_err(
        c.create_partner(req(&too_long, "root", JOINED)).await,
        Code::InvalidArgument,
        &["partner_id", "65", "64"],
    );
    expect_err(c.create_partner(req("a b", "root", JOINED)).await, Code::InvalidArgument, &["partner_id", "' '"]);

    for bad_date in [
        "2026-02-30",
        "26-01-01",
        "2025-02-29",
        "2026-13-01",
        "2026-1-01",
        "2026/01/01",
        "1899-12-31",
        "3000-01-01",
        "",
    ] {
        let result = c.create_partner(req("new", "root", bad_date)).await;
        expect_err(result, Code::InvalidArgument, &["joined_on", "YYYY-MM-DD"]);
    }
    let long_name = pb::CreatePartnerRequest { display_name: "n".repeat(201), ..row("new", "root") };
    expect_err(c.create_partner(long_name).await, Code::InvalidArgument, &["display_name", "201"]);
    let long_reason = "r".repeat(501);
    expect_err(move_partner(c, "c", "a", &long_reason).await, Code::InvalidArgument, &["reason", "501"]);
    expect_err(set_status(c, "c", Suspended, &long_reason).await, Code::InvalidArgument, &["reason", "501"]);
    expect_err(downline_page(c, "root", 0, -1, "").await, Code::InvalidArgument, &["page_size", "-1"]);
    expect_err(downline_page(c, "root", 0, i32::MIN, "").await, Code::InvalidArgument, &["page_size"]);
    expect_err(events_page(c, "", -5, "").await, Code::InvalidArgument, &["page_size", "-5"]);
    expect_err(events_page(c, "a", -1, "").await, Code::InvalidArgument, &["page_size"]);

    // Unknown partners are NOT_FOUND, naming the field and the id.
    let nf = Code::NotFound;
    expect_err(
        c.get_partner(pb::GetPartnerRequest { partner_id: "ghost".into() }).await,
        nf,
        &["partner_id", "'ghost'"],
    );
    expect_err(c.create_partner(row("new", "ghost")).await, nf, &["sponsor_id", "'ghost'"]);
    expect_err(downline_page(c, "ghost", 0, 10, "").await, nf, &["partner_id", "ghost"]);
    let upline = c.get_upline(pb::GetUplineRequest { partner_id: "ghost".into(), max_levels: 1 }).await;
    expect_err(upline, nf, &["partner_id", "ghost"]);
    expect_err(move_partner(c, "ghost", "a", "").await, nf, &["partner_id", "ghost"]);
    expect_err(move_partner(c, "c", "ghost", "").await, nf, &["new_sponsor_id", "ghost"]);
    expect_err(set_status(c, "ghost", Suspended, "").await, nf, &["partner_id", "ghost"]);
    expect_err(events_page(c, "ghost", 10, "").await, nf, &["partner_id", "ghost"]);

    // Nothing of all that changed anything.
    assert_eq!(state(c).await, before);
    expect_err(c.get_partner(pb::GetPartnerRequest { partner_id: "new".into() }).await, nf, &["partner_id"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_page_tokens_are_invalid_argument() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    let ia = Code::InvalidArgument;
    set_status(c, "a", Suspended, "").await.expect("a second event of a");
    let root_token = downline_page(c, "root", 0, 2, "").await.expect("page").next_page_token;
    let b_token = downline_page(c, "b", 0, 1, "").await.expect("page").next_page_token;
    let events_token = events_page(c, "", 2, "").await.expect("events").next_page_token;
    let a_events_token = events_page(c, "a", 1, "").await.expect("events").next_page_token;
    assert!(![&root_token, &b_token, &events_token, &a_events_token].iter().any(|t| t.is_empty()));

    // Garbage, tampered and foreign tokens.
    let mut tampered = root_token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let truncated = root_token[..root_token.len() - 2].to_owned();
    for garbage in
        ["x", "%%%", "AAAAAAAAAAAAAAAAAAAAAA", &tampered, &truncated, &"A".repeat(300), &format!("{root_token}=")]
    {
        expect_err(downline_page(c, "root", 0, 2, garbage).await, ia, &["page_token"]);
        expect_err(events_page(c, "", 2, garbage).await, ia, &["page_token"]);
    }
    expect_err(downline_page(c, "root", 0, 2, &events_token).await, ia, &["page_token"]);
    expect_err(events_page(c, "", 2, &root_token).await, ia, &["page_token"]);
    // Issued for another partner, another max_depth or another filter.
    expect_err(downline_page(c, "a", 0, 2, &root_token).await, ia, &["page_token", "another"]);
    expect_err(downline_page(c, "root", 0, 2, &b_token).await, ia, &["page_token", "another"]);
    expect_err(downline_page(c, "root", 2, 2, &root_token).await, ia, &["page_token", "another"]);
    expect_err(events_page(c, "b", 1, &a_events_token).await, ia, &["page_token", "another"]);
    expect_err(events_page(c, "", 1, &a_events_token).await, ia, &["page_token", "another"]);
    expect_err(events_page(c, "a", 1, &events_token).await, ia, &["page_token", "another"]);
    // Another page size is fine.
    let page = downline_page(c, "root", 0, 5, &root_token).await.expect("other page size");
    assert_eq!(page.members.len(), 5);

    // A move makes every downline token stale; events tokens survive it.
    move_partner(c, "a2", "c", "").await.expect("move");
    expect_err(downline_page(c, "root", 0, 2, &root_token).await, ia, &["page_token", "stale"]);
    expect_err(downline_page(c, "b", 0, 1, &b_token).await, ia, &["page_token", "stale"]);
    assert_eq!(events_page(c, "", 2, &events_token).await.expect("events token").events[0].sequence, 3);
    // So does a termination.
    let fresh = downline_page(c, "root", 0, 2, "").await.expect("page").next_page_token;
    downline_page(c, "root", 0, 2, &fresh).await.expect("a fresh token works");
    set_status(c, "b1y", pb::PartnerStatus::Terminated, "").await.expect("terminate");
    expect_err(downline_page(c, "root", 0, 2, &fresh).await, ia, &["page_token", "stale"]);
    // ...but a suspension does not.
    let fresh = downline_page(c, "root", 0, 2, "").await.expect("page").next_page_token;
    set_status(c, "b1x", Suspended, "").await.expect("suspend");
    downline_page(c, "root", 0, 2, &fresh).await.expect("a suspension keeps tokens");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_import_row_imports_nothing() {
    let mut h = Harness::new().await;
    let c = &mut h.client;
    sample_tree(c).await;
    set_status(c, "c", pb::PartnerStatus::Terminated, "").await.expect("terminate c");
    let before = state(c).await;
    let good = || vec![row("g1", "root"), row("g2", "g1")];
    let cases: Vec<(Chunks, Code, Vec<&str>)> = vec![
        (
            vec![good(), vec![req("g3", "g2", "2026-02-30")]],
            Code::InvalidArgument,
            vec!["partners[2].joined_on", "2026-02-30"],
        ),
        (
            vec![good(), vec![row("g3", "g2"), req("g4", "g3", "26-01-01")]],
            Code::InvalidArgument,
            vec!["partners[3].joined_on"],
        ),
        (vec![vec![row("g 1", "root")]], Code::InvalidArgument, vec!["partners[0].partner_id"]),
        (vec![good(), vec![row("g3", "bad sponsor")]], Code::InvalidArgument, vec!["partners[2].sponsor_id"]),
        (vec![good(), vec![row("g3", "ghost")]], Code::NotFound, vec!["partners[2].sponsor_id", "ghost"]),
        (vec![good(), vec![row("g3", "c")]], Code::FailedPrecondition, vec!["partners[2].sponsor_id", "terminated"]),
        (
            vec![good(), vec![row("k1", "k2"), row("k2", "k3")], vec![row("k3", "k1")]],
            Code::FailedPrecondition,
            vec!["partners[2].sponsor_id", "cycle"],
        ),
        (vec![good(), vec![row("self", "self")]], Code::FailedPrecondition, vec!["partners[2].sponsor_id", "cycle"]),
        (vec![good(), vec![row("a", "b")]], Code::AlreadyExists, vec!["partners[2].partner_id", "'a'"]),
        (vec![good(), vec![row("c", "root")]], Code::AlreadyExists, vec!["partners[2].partner_id", "never reused"]),
        (vec![good(), vec![row("g1", "a")]], Code::AlreadyExists, vec!["partners[2].partner_id", "row 1"]),
        (
            vec![good(), vec![pb::CreatePartnerRequest { display_name: "d".repeat(201), ..row("g3", "g1") }]],
            Code::InvalidArgument,
            vec!["partners[2].display_name"],
        ),
    ];
    for (chunks, code, needles) in cases {
        expect_err(import(c, chunks).await, code, &needles);
        assert_eq!(state(c).await, before, "{needles:?} changed the genealogy");
        for id in ["g1", "g2", "g3", "k1", "self"] {
            let result = c.get_partner(pb::GetPartnerRequest { partner_id: id.into() }).await;
            expect_err(result, Code::NotFound, &["partner_id"]);
        }
    }

    // More than 100,000 rows in one call.
    let rows: Vec<pb::CreatePartnerRequest> = (0..100_001).map(|i| row(&format!("m{i}"), "root")).collect();
    let chunks: Vec<Vec<_>> = rows.chunks(25_000).map(<[_]>::to_vec).collect();
    expect_err(import(c, chunks).await, Code::InvalidArgument, &["partners", "100000"]);
    assert_eq!(state(c).await, before);
    expect_err(c.get_partner(pb::GetPartnerRequest { partner_id: "m0".into() }).await, Code::NotFound, &["partner_id"]);

    // The good rows alone import fine afterwards.
    let done = import(c, vec![good()]).await.expect("good import");
    assert_eq!((done.created_count, done.unchanged_count), (2, 0));
    assert_eq!(get(c, "g2").await.depth, 2);
    h.stop().await;
}
