//! What `downline.v1.TeamService` refuses, through the real server.
//!
//! What it proves: every malformed field (ids, dates, periods, titles,
//! links, ranks, reasons, page sizes, page tokens, update masks, a missing
//! module) is INVALID_ARGUMENT; unknown partners and modules NOT_FOUND;
//! terminated partners, roots, mentors outside the upline, completions
//! before joining, closed periods FAILED_PRECONDITION; conflicting repeats
//! ALREADY_EXISTS; the 501st module RESOURCE_EXHAUSTED. Each message starts
//! with the offending field, and after all of it every mentor, mentee list,
//! module, completion and team progress is exactly as before.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::team_support::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use tonic::{Code, Status};

type Observed = Vec<Result<String, (Code, String)>>;

/// Everything a client can read of the team data, as text.
async fn observe(t: &mut TeamClient, v: &mut VolumeClient) -> Observed {
    let mut out = Vec::new();
    let mut push = |r: Result<String, Status>| out.push(r.map_err(|s| (s.code(), s.message().to_owned())));
    for (id, _, _) in TEAM_TREE {
        push(mentor(t, id).await.map(|m| format!("{m:?}")));
        push(mentees_page(t, id, 1000, "").await.map(|m| format!("{m:?}")));
        push(completions_page(t, id, 1000, "").await.map(|c| format!("{c:?}")));
        for period in [TEAM_PERIOD, "2026-10"] {
            push(progress(t, id, period, 0).await.map(|p| format!("{p:?}")));
        }
    }
    push(modules_page(t, 1000, "").await.map(|m| format!("{m:?}")));
    push(Ok(format!("{:?}", periods(v).await)));
    out
}

/// Asserts a refusal: its code, and a message that starts with the field.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, field: &str) {
    let status = expect_err(result, code, &[]);
    assert!(status.message().starts_with(field), "message {:?} does not start with {field:?}", status.message());
}

const BAD_IDS: [&str; 5] = ["", "a b", "é", "x/y", "(x)"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_naming_the_field_and_change_nothing() {
    let (mut h, mut t, mut v) = team_network().await;
    set_status(&mut h.client, "F", pb::PartnerStatus::Terminated, "left").await.expect("terminate F");
    record_ok(&mut v, order("aug", "A", "2026-08", "1", pb::OrderKind::Retail)).await;
    close(&mut v, "2026-08").await.expect("close August");
    assign(&mut t, "J", "C", "").await.expect("J's mentor is C");
    let before = observe(&mut t, &mut v).await;
    let long = "x".repeat(65);
    let mut bad_ids = BAD_IDS.to_vec();
    bad_ids.push(&long);
    let ia = Code::InvalidArgument;

    for bad in &bad_ids {
        refused(assign(&mut t, bad, "A", "").await, ia, "partner_id");
        refused(assign(&mut t, "E", bad, "").await, ia, "mentor_id");
        refused(mentor(&mut t, bad).await, ia, "partner_id");
        refused(mentees_page(&mut t, bad, 0, "").await, ia, "mentor_id");
        refused(complete(&mut t, bad, "intro", "2026-09-01").await, ia, "partner_id");
        refused(complete(&mut t, "E", bad, "2026-09-01").await, ia, "module_id");
        refused(completions_page(&mut t, bad, 0, "").await, ia, "partner_id");
        refused(progress(&mut t, bad, TEAM_PERIOD, 0).await, ia, "partner_id");
        refused(create_module(&mut t, module(bad, "T", "https://x.example", "")).await, ia, "module_id");
        refused(update_module(&mut t, module(bad, "T", "https://x.example", ""), None).await, ia, "module_id");
    }
    refused(assign(&mut t, "E", "E", "").await, ia, "mentor_id");
    refused(assign(&mut t, "E", "A", &"r".repeat(501)).await, ia, "reason");
    for page in [-1, i32::MIN] {
        refused(mentees_page(&mut t, "A", page, "").await, ia, "page_size");
        refused(modules_page(&mut t, page, "").await, ia, "page_size");
        refused(completions_page(&mut t, "E", page, "").await, ia, "page_size");
    }

    // Page tokens: garbage, of another RPC, of another mentor or partner.
    let mentees_token = mentees_page(&mut t, "A", 1, "").await.expect("A's mentees").next_page_token;
    let modules_token = modules_page(&mut t, 1, "").await.expect("modules").next_page_token;
    let completions_token = completions_page(&mut t, "E", 1, "").await.expect("E's completions").next_page_token;
    for token in [&modules_token, &completions_token, &"garbage".to_owned(), &"A".repeat(300)] {
        refused(mentees_page(&mut t, "A", 1, token).await, ia, "page_token");
    }
    refused(mentees_page(&mut t, "B", 1, &mentees_token).await, ia, "page_token");
    for token in [&mentees_token, &completions_token] {
        refused(modules_page(&mut t, 1, token).await, ia, "page_token");
    }
    for token in [&mentees_token, &modules_token] {
        refused(completions_page(&mut t, "E", 1, token).await, ia, "page_token");
    }
    refused(completions_page(&mut t, "B", 1, &completions_token).await, ia, "page_token");

    // Modules: a missing module, bad fields, masks.
    refused(t.create_training_module(pb::CreateTrainingModuleRequest { module: None }).await, ia, "module");
    let missing = pb::UpdateTrainingModuleRequest { module: None, update_mask: None };
    refused(t.update_training_module(missing).await, ia, "module");
    let long_title = "t".repeat(201);
    for title in ["", "   ", long_title.as_str(), "a\nb", "tab\there"] {
        refused(create_module(&mut t, module("new", title, "https://x.example", "")).await, ia, "title");
        refused(update_module(&mut t, module("intro", title, "", ""), Some(&["title"])).await, ia, "title");
    }
    let long_link = format!("https://x.example/{}", "l".repeat(2040));
    for link in
        ["", "x.example", "ftp://x.example", "https://", "https:///path", "https://x.example/a b", long_link.as_str()]
    {
        refused(create_module(&mut t, module("new", "T", link, "")).await, ia, "link");
        refused(update_module(&mut t, module("intro", "T", link, ""), None).await, ia, "link");
    }
    let long_rank = "r".repeat(65);
    for rank in [" Silver", "Silver ", "a\u{7}b", long_rank.as_str()] {
        refused(create_module(&mut t, module("new", "T", "https://x.example", rank)).await, ia, "prepares_for_rank");
    }
    for mask in [&["module_id"][..], &["title", "nope"], &["Title"]] {
        refused(
            update_module(&mut t, module("intro", "T", "https://x.example", ""), Some(mask)).await,
            ia,
            "update_mask",
        );
    }
    let nf = Code::NotFound;
    refused(update_module(&mut t, module("nope", "T", "https://x.example", ""), None).await, nf, "module_id");
    let other = module("intro", "Other", "https://learn.example/intro", "");
    refused(create_module(&mut t, other).await, Code::AlreadyExists, "module_id");

    // Completions.
    for day in ["", "2026-9-01", "2026-02-30", "01.09.2026", "2026-09-01T00:00", "1899-12-31", "2999-01-01"] {
        refused(complete(&mut t, "E", "intro", day).await, ia, "completed_on");
    }
    refused(complete(&mut t, "ZZ", "intro", "2026-09-01").await, nf, "partner_id");
    refused(complete(&mut t, "E", "nope", "2026-09-01").await, nf, "module_id");
    refused(complete(&mut t, "E", "intro", "2026-09-21").await, Code::AlreadyExists, "module_id");
    let fp = Code::FailedPrecondition;
    refused(complete(&mut t, "F", "intro", "2026-09-01").await, fp, "partner_id");
    refused(complete(&mut t, "D", "intro", "2026-09-29").await, fp, "completed_on");
    refused(completions_page(&mut t, "ZZ", 0, "").await, nf, "partner_id");

    // Mentors.
    refused(assign(&mut t, "ZZ", "A", "").await, nf, "partner_id");
    refused(assign(&mut t, "E", "ZZ", "").await, nf, "mentor_id");
    refused(assign(&mut t, "F", "A", "").await, fp, "partner_id");
    refused(assign(&mut t, "K", "F", "").await, fp, "mentor_id");
    refused(assign(&mut t, "A", "B", "").await, fp, "mentor_id");
    for (partner, outside) in [("E", "K"), ("E", "C"), ("J", "H"), ("B", "D")] {
        refused(assign(&mut t, partner, outside, "").await, fp, "mentor_id");
    }
    refused(mentor(&mut t, "ZZ").await, nf, "partner_id");
    refused(mentor(&mut t, "F").await, fp, "partner_id");
    refused(mentees_page(&mut t, "ZZ", 0, "").await, nf, "mentor_id");
    refused(mentees_page(&mut t, "F", 0, "").await, fp, "mentor_id");

    // Team progress.
    for period in ["", "2026-13", "2026-9", "2026/09", "1899-12"] {
        refused(progress(&mut t, "A", period, 0).await, ia, "period");
    }
    refused(progress(&mut t, "A", TEAM_PERIOD, 8).await, ia, "max_level");
    refused(progress(&mut t, "A", TEAM_PERIOD, u32::MAX).await, ia, "max_level");
    refused(progress(&mut t, "ZZ", TEAM_PERIOD, 0).await, nf, "partner_id");
    refused(progress(&mut t, "F", TEAM_PERIOD, 0).await, fp, "partner_id");
    refused(progress(&mut t, "A", "2026-08", 0).await, fp, "period");

    assert_eq!(observe(&mut t, &mut v).await, before, "a refused request changed something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_501st_module_is_refused() {
    let h = Harness::new().await;
    let mut t = team_client(h.addr).await;
    for i in 0..500 {
        create_module(&mut t, module(&format!("m{i}"), "T", "https://x.example", "")).await.expect("a module");
    }
    refused(
        create_module(&mut t, module("m500", "T", "https://x.example", "")).await,
        Code::ResourceExhausted,
        "module_id",
    );
    // A repeat of an existing module still answers it.
    create_module(&mut t, module("m7", "T", "https://x.example", "")).await.expect("a repeat");
    assert_eq!(all_modules(&mut t, 1000).await.len(), 500);
}
