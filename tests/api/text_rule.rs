//! The one text rule through the real server: every free-text field of
//! every RPC (display names, reasons, module titles, links and ranks, plan
//! rank names) refuses control characters, bidirectional formatting
//! characters, line separators and blanks around the text, with
//! INVALID_ARGUMENT naming the field and the character's code point, and
//! changes nothing. And `downline import` refuses such a CSV row by number.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::team_support::{all_modules, assign, create_module, mentor, module, team_client, update_module, TeamClient};
use crate::volume_support::{example_tree, EXAMPLE_IDS};
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use std::process::Command;
use tonic::Code;
use tonic_types::StatusExt;

type Comp = CompensationServiceClient<tonic::transport::Channel>;

/// Bad characters, each with the code point the message must name: NUL,
/// ESC (of an ANSI colour), TAB, DEL, a C1 control (CSI), the right-to-left
/// override and its kin, the line separators.
const BAD: [(&str, &str); 12] = [
    ("\0", "U+0000"),
    ("\u{1b}[31m", "U+001B"),
    ("\t", "U+0009"),
    ("\u{7f}", "U+007F"),
    ("\u{9b}", "U+009B"),
    ("\u{202e}", "U+202E"),
    ("\u{202a}", "U+202A"),
    ("\u{2066}", "U+2066"),
    ("\u{200f}", "U+200F"),
    ("\u{61c}", "U+061C"),
    ("\u{2028}", "U+2028"),
    ("\u{2029}", "U+2029"),
];

/// Each free-text field as (what the message names, a valid value).
const FIELDS: [(&str, &str); 11] = [
    ("display_name", "Ann Lee"),
    ("partners[0].display_name", "Ann Lee"),
    ("reason", "move"),
    ("reason", "status"),
    ("reason", "mentor"),
    ("title", "Intro"),
    ("link", "https://x.example/intro"),
    ("prepares_for_rank", "Gold"),
    ("title", "Intro"),
    ("link", "https://x.example/intro"),
    ("prepares_for_rank", "Gold"),
];

/// Sends field `k` of the table with `value` through its RPC.
async fn send(h: &mut Harness, t: &mut TeamClient, k: usize, value: &str) -> Result<(), tonic::Status> {
    let c = &mut h.client;
    let new = |name: &str| pb::CreatePartnerRequest { display_name: name.into(), ..row("new", "A") };
    let intro = |title: &str, link: &str, rank: &str| module("intro", title, link, rank);
    let (title, link, rank) = ("Intro", "https://x.example/intro", "Gold");
    match k {
        0 => c.create_partner(new(value)).await.map(drop),
        1 => import(c, vec![vec![new(value)]]).await.map(drop),
        2 => move_partner(c, "L", "A", value).await.map(drop),
        3 => set_status(c, "L", pb::PartnerStatus::Suspended, value).await.map(drop),
        4 => assign(t, "L", "A", value).await.map(drop),
        5 => create_module(t, module("new", value, link, rank)).await.map(drop),
        6 => create_module(t, module("new", title, value, rank)).await.map(drop),
        7 => create_module(t, module("new", title, link, value)).await.map(drop),
        8 => update_module(t, intro(value, "", ""), Some(&["title"])).await.map(drop),
        9 => update_module(t, intro("", value, ""), Some(&["link"])).await.map(drop),
        _ => update_module(t, intro("", "", value), Some(&["prepares_for_rank"])).await.map(drop),
    }
}

/// Everything the writes above could change.
async fn observe(h: &mut Harness, t: &mut TeamClient, p: &mut Comp) -> String {
    let partners = get_all(&mut h.client, &EXAMPLE_IDS).await;
    let new = h.client.get_partner(pb::GetPartnerRequest { partner_id: "new".into() }).await.map_err(|s| s.code());
    let events = events_all(&mut h.client, "", 100).await;
    let mentor = mentor(t, "L").await.map_err(|s| s.code());
    let modules = all_modules(t, 100).await;
    let plan = p.get_plan(pb::GetPlanRequest { version: 0 }).await.expect("GetPlan").into_inner();
    format!("{partners:?} {new:?} {events:?} {mentor:?} {modules:?} {plan:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_free_text_field_refuses_invisible_characters_and_changes_nothing() {
    let mut h = Harness::new().await;
    example_tree(&mut h.client).await;
    let mut t = team_client(h.addr).await;
    let mut p = CompensationServiceClient::new(channel(h.addr).await);
    create_module(&mut t, module("intro", "Intro", "https://x.example/intro", "Gold")).await.expect("a module");
    let before = observe(&mut h, &mut t, &mut p).await;
    for (k, (field, valid)) in FIELDS.iter().enumerate() {
        let mut cases: Vec<(String, &str)> = BAD.iter().map(|(c, code)| (format!("{valid}{c}x"), *code)).collect();
        cases.push((format!(" {valid}"), "has blanks at its start or end"));
        cases.push((format!("{valid}\u{3000}"), "has blanks at its start or end"));
        for (value, says) in cases {
            let status = expect_err(send(&mut h, &mut t, k, &value).await, Code::InvalidArgument, &[says]);
            assert!(status.message().starts_with(&format!("{field}: ")), "{k} {value:?}: {}", status.message());
        }
    }
    // A plan's rank names follow the rule too, as a field violation (the
    // top rank: no other rank's leg_min_rank names it).
    let reference = p.get_plan(pb::GetPlanRequest { version: 0 }).await.expect("GetPlan").into_inner();
    let top = reference.ranks.len() - 1;
    let name = reference.ranks[top].name.clone();
    let blank = (format!(" {name}"), "has blanks at its start or end");
    for (value, code) in BAD.iter().map(|(c, code)| (format!("{name}{c}x"), *code)).chain([blank]) {
        let mut plan = reference.clone();
        plan.ranks[top].name = value;
        let status = p
            .update_plan(pb::UpdatePlanRequest { plan: Some(plan), base_version: 0, update_mask: None })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let violations = status.get_details_bad_request().expect("BadRequest details").field_violations;
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].field, format!("plan.ranks[{top}].name"));
        assert!(violations[0].description.contains(code), "{violations:?}");
    }
    assert_eq!(observe(&mut h, &mut t, &mut p).await, before, "a refused request changed something");
    // The valid values pass: the rule refuses only what it names.
    for (k, (field, valid)) in FIELDS.iter().enumerate() {
        send(&mut h, &mut t, k, valid).await.unwrap_or_else(|s| panic!("{k} {field}: {s:?}"));
    }
    h.stop().await;
}

#[test]
fn the_csv_import_refuses_a_name_with_a_control_character_by_row() {
    let files = tempfile::tempdir().expect("a temp dir");
    let csv = files.path().join("p.csv");
    let text = "id,sponsor_id,joined_on,display_name\na,,2026-01-01,Ann\nb,a,2026-01-02,\u{1b}[2JBob\n";
    std::fs::write(&csv, text).expect("a csv");
    let out = Command::new(env!("CARGO_BIN_EXE_downline"))
        .arg("import")
        .arg("--data-dir")
        .arg(files.path().join("data"))
        .arg("--partners")
        .arg(&csv)
        .output()
        .expect("the binary runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("row 2.display_name: contains the control character U+001B"), "{said}");
    assert!(said.contains("nothing was imported"), "{said}");
}
