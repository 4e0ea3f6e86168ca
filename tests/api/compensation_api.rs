//! CompensationService through the real API on example.md's network: the
//! plan (versions, validation with field violations, idempotent retries),
//! a commission run to the cent (every payable, the totals, breakage), the
//! statements and the payout export, rank progress, a level explanation,
//! the compliance report, and a close that freezes the official run across
//! a restart.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use std::net::SocketAddr;
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

/// The generated compensation client.
pub type Comp = CompensationServiceClient<Channel>;

pub async fn comp(addr: SocketAddr) -> Comp {
    CompensationServiceClient::new(channel(addr).await)
}

/// The plan in force (GetPlan of version 0), the base every plan test edits.
pub async fn plan_in_force(c: &mut Comp) -> pb::Plan {
    c.get_plan(pb::GetPlanRequest { version: 0 }).await.expect("GetPlan").into_inner()
}

/// Starts a run and polls it until it is done.
pub async fn run(c: &mut Comp, period: &str, dry_run: bool) -> pb::CommissionRun {
    let started = c.start_commission_run(pb::StartCommissionRunRequest { period: period.into(), dry_run }).await;
    let run_id = started.expect("the run starts").into_inner().run_id;
    for _ in 0..2000 {
        let run =
            c.get_commission_run(pb::GetCommissionRunRequest { run_id: run_id.clone() }).await.unwrap().into_inner();
        if run.state != pb::RunState::Running as i32 {
            return run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("run {run_id} does not finish");
}

pub async fn statement(
    c: &mut Comp,
    partner: &str,
    run_id: &str,
    period: &str,
) -> Result<pb::Statement, tonic::Status> {
    let request = pb::GetStatementRequest { partner_id: partner.into(), run_id: run_id.into(), period: period.into() };
    c.get_statement(request).await.map(tonic::Response::into_inner)
}

/// example.md's partners: paid-as rank and payable under the reference plan.
pub const PAYABLE: [(&str, &str, &str); 12] = [
    ("A", "Silver", "113.70"),
    ("B", "Bronze", "42.75"),
    ("C", "", "0.00"),
    ("D", "Bronze", "35.00"),
    ("E", "Bronze", "42.75"),
    ("F", "", "0.00"),
    ("G", "Bronze", "25.00"),
    ("H", "Bronze", "0.00"),
    ("I", "", "0.00"),
    ("J", "Bronze", "30.00"),
    ("K", "Bronze", "0.00"),
    ("L", "Bronze", "70.00"),
];

#[tokio::test]
async fn a_run_pays_example_md_to_the_cent_and_closing_freezes_it() {
    let (mut h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let done = run(&mut c, EXAMPLE_PERIOD, false).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:?}");
    assert_eq!((done.plan_version, done.partners_total, done.stale, done.official), (1, 12, false, false));
    assert_eq!(done.total_volume, "2185.00");
    assert_eq!(done.total_capped, "359.20");
    assert_eq!(done.payout_factor, "1");
    assert_eq!(done.payable_total, "359.20");
    assert_eq!(done.breakage, "46.00");
    let ranks: Vec<(String, u64)> = done.ranks.iter().map(|r| (r.rank.clone(), r.partners)).collect();
    let want = [("Bronze", 8), ("Silver", 1), ("Gold", 0), ("Platinum", 0), ("", 3)];
    assert_eq!(ranks, want.map(|(r, n)| (r.to_owned(), n)).to_vec());
    for (id, rank, payable) in PAYABLE {
        let s = statement(&mut c, id, &done.run_id, "").await.unwrap();
        assert_eq!((s.paid_as_rank.as_str(), s.payable.as_str()), (rank, payable), "{id}");
    }
    // A's lines add up: 10% × 100 + 5% × 490 + 5% × 1540 + 4% × 55 + 3% × 0.
    let a = statement(&mut c, "A", "", EXAMPLE_PERIOD).await.unwrap();
    let lines: Vec<(i32, u32, &str, &str, &str)> =
        a.lines.iter().map(|l| (l.kind, l.level, l.volume.as_str(), l.rate.as_str(), l.amount.as_str())).collect();
    let (retail, level) = (pb::LineKind::Retail as i32, pb::LineKind::Level as i32);
    assert_eq!(
        lines,
        [
            (retail, 0, "100.00", "0.1", "10.00"),
            (level, 1, "490.00", "0.05", "24.50"),
            (level, 2, "1540.00", "0.05", "77.00"),
            (level, 3, "55.00", "0.04", "2.20"),
            (level, 4, "0.00", "0.03", "0.00"),
        ]
    );
    // The payout export, in pages of 5.
    let mut listed = Vec::new();
    let mut token = String::new();
    loop {
        let request =
            pb::ListStatementsRequest { run_id: done.run_id.clone(), page_size: 5, page_token: token.clone() };
        let page = c.list_statements(request).await.unwrap().into_inner();
        assert_eq!(page.total_size, 12);
        listed.extend(page.statements.into_iter().map(|s| (s.partner_id, s.payable)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let want: Vec<(String, String)> = PAYABLE.iter().map(|(id, _, p)| (id.to_string(), p.to_string())).collect();
    assert_eq!(listed, want);

    // Compliance while open: the latest run, not official yet.
    let report = compliance(&mut c, EXAMPLE_PERIOD).await;
    assert_eq!(
        (report.retail_volume.as_str(), report.self_volume.as_str(), report.fee_volume.as_str()),
        ("1770.00", "415.00", "49.00")
    );
    assert_eq!((report.retail_share.as_str(), report.fee_share.as_str()), ("0.810069", "0.021934"));
    assert_eq!((report.payout_ratio.as_str(), report.payable_total.as_str()), ("0.164394", "359.20"));
    assert_eq!(
        (report.levels_without_retail, report.levels_without_retail_partner_ids.clone()),
        (1, vec!["D".to_owned()])
    );
    assert_eq!(
        (report.run_id.as_str(), report.official, report.breakage.as_str()),
        (done.run_id.as_str(), false, "46.00")
    );

    // A dry run never becomes official; the close takes the real run.
    let dry = run(&mut c, EXAMPLE_PERIOD, true).await;
    close(&mut v, EXAMPLE_PERIOD).await.unwrap();
    let official =
        c.get_commission_run(pb::GetCommissionRunRequest { run_id: done.run_id.clone() }).await.unwrap().into_inner();
    assert!(official.official);
    let dry = c.get_commission_run(pb::GetCommissionRunRequest { run_id: dry.run_id }).await.unwrap().into_inner();
    assert!(!dry.official && dry.stale, "{dry:?}");
    let refused =
        c.start_commission_run(pb::StartCommissionRunRequest { period: EXAMPLE_PERIOD.into(), dry_run: false }).await;
    expect_err(refused, Code::FailedPrecondition, &["period", "closed"]);

    // After a restart the official run, its statements and the report remain.
    h.restart().await;
    let mut c = comp(h.addr).await;
    let again =
        c.get_commission_run(pb::GetCommissionRunRequest { run_id: done.run_id.clone() }).await.unwrap().into_inner();
    assert_eq!((again.official, again.payable_total.as_str(), again.breakage.as_str()), (true, "359.20", "46.00"));
    assert_eq!(again.ranks, done.ranks);
    for (id, rank, payable) in PAYABLE {
        let s = statement(&mut c, id, "", EXAMPLE_PERIOD).await.unwrap();
        assert_eq!(
            (s.paid_as_rank.as_str(), s.payable.as_str(), s.run_id.as_str()),
            (rank, payable, done.run_id.as_str()),
            "{id}"
        );
    }
    assert_eq!(statement(&mut c, "A", "", EXAMPLE_PERIOD).await.unwrap().lines, a.lines);
    let report_after = compliance(&mut c, EXAMPLE_PERIOD).await;
    assert_eq!(report_after, pb::ComplianceReport { official: true, ..report });
    let request = pb::ListStatementsRequest { run_id: done.run_id.clone(), page_size: 100, page_token: String::new() };
    let page = c.list_statements(request).await.unwrap().into_inner();
    let after: Vec<(String, String)> = page.statements.into_iter().map(|s| (s.partner_id, s.payable)).collect();
    assert_eq!(after, want);
    h.stop().await;
}

async fn compliance(c: &mut Comp, period: &str) -> pb::ComplianceReport {
    c.get_compliance_report(pb::GetComplianceReportRequest { period: period.into() }).await.unwrap().into_inner()
}

#[tokio::test]
async fn plans_are_versioned_validated_and_relevel_open_periods() {
    let (h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let reference = plan_in_force(&mut c).await;
    assert_eq!((reference.version, reference.levels, reference.payout_cap.as_str()), (1, 7, "0.45"));
    assert_eq!(reference.level_rates, ["0.05", "0.05", "0.04", "0.03", "0.02", "0.01", "0.01"]);
    // The same plan again changes nothing.
    let same = c
        .update_plan(pb::UpdatePlanRequest { plan: Some(reference.clone()), base_version: 1, update_mask: None })
        .await
        .unwrap();
    assert_eq!(same.into_inner().version, 1);
    // An invalid plan: every violation as a field of google.rpc.BadRequest.
    let mut bad = reference.clone();
    bad.levels = 0;
    bad.payout_cap = "-1".into();
    bad.ranks[1].paid_levels = 9;
    let status =
        c.update_plan(pb::UpdatePlanRequest { plan: Some(bad), base_version: 0, update_mask: None }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    for want in ["plan.levels", "plan.payout_cap", "plan.ranks[1].paid_levels"] {
        assert!(fields.contains(&want.to_owned()), "{fields:?}");
    }
    assert_eq!(plan_in_force(&mut c).await.version, 1, "nothing changed");
    // No compression: A's levels become 290 / 1400 / 95 / 300 at once.
    let mut flat = reference.clone();
    flat.compression = false;
    let v2 = c
        .update_plan(pb::UpdatePlanRequest { plan: Some(flat.clone()), base_version: 1, update_mask: None })
        .await
        .unwrap();
    assert_eq!(v2.into_inner().version, 2);
    let a = volumes_ok(&mut v, "A", EXAMPLE_PERIOD).await;
    let levels: Vec<&str> = a.levels.iter().take(4).map(|l| l.volume.as_str()).collect();
    assert_eq!(levels, ["290.00", "1400.00", "95.00", "300.00"]);
    let stale = c
        .update_plan(pb::UpdatePlanRequest { plan: Some(reference.clone()), base_version: 1, update_mask: None })
        .await;
    expect_err(stale, Code::FailedPrecondition, &["base_version", "version 2"]);
    let done = run(&mut c, EXAMPLE_PERIOD, false).await;
    assert_eq!((done.plan_version, done.payable_total.as_str()), (2, "352.80"));
    assert_eq!(c.get_plan(pb::GetPlanRequest { version: 1 }).await.unwrap().into_inner(), reference);
    let missing = c.get_plan(pb::GetPlanRequest { version: 3 }).await;
    expect_err(missing, Code::NotFound, &["version", "3"]);
    h.stop().await;
}

#[tokio::test]
async fn plan_decimals_say_what_is_wrong_and_zeros_past_the_places_are_none() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let reference = plan_in_force(&mut c).await;
    let mut bad = reference.clone();
    bad.payout_cap = "-1".into();
    bad.retail_rate = "9".repeat(30);
    bad.level_rates[0] = format!("0.{}1", "0".repeat(30));
    bad.partner_cap = "1".repeat(30);
    let status =
        c.update_plan(pb::UpdatePlanRequest { plan: Some(bad), base_version: 0, update_mask: None }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let said: Vec<(String, String)> = status
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations
        .into_iter()
        .map(|v| (v.field, v.description))
        .collect();
    let says = |field: &str, needle: &str| said.iter().any(|(f, d)| f == field && d.contains(needle));
    assert!(says("plan.payout_cap", "'-1' is negative: a rate is a fraction between 0 and 1"), "{said:?}");
    assert!(says("plan.retail_rate", "is above 1"), "{said:?}");
    assert!(says("plan.level_rates[0]", "has more than 6 decimal places"), "{said:?}");
    assert!(says("plan.partner_cap", "is out of range"), "{said:?}");
    // The reference plan written with many zeros is the plan in force: no new version.
    let mut zeros = reference.clone();
    zeros.payout_cap = format!("{}{}", reference.payout_cap, "0".repeat(30));
    zeros.partner_cap = format!("00{}{}", reference.partner_cap, "0".repeat(30));
    let same =
        c.update_plan(pb::UpdatePlanRequest { plan: Some(zeros), base_version: 1, update_mask: None }).await.unwrap();
    assert_eq!(same.into_inner().version, 1);
    h.stop().await;
}

#[tokio::test]
async fn a_plan_update_is_durable_and_a_retry_makes_no_new_version() {
    let (mut h, _) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let reference = plan_in_force(&mut c).await;
    let mut flat = reference.clone();
    flat.compression = false;
    let v2 = c
        .update_plan(pb::UpdatePlanRequest { plan: Some(flat.clone()), base_version: 1, update_mask: None })
        .await
        .unwrap();
    assert_eq!(v2.into_inner().version, 2);
    // The acknowledged version is on disk: a restart recovers both versions.
    h.restart().await;
    let mut c = comp(h.addr).await;
    let current = plan_in_force(&mut c).await;
    assert_eq!((current.version, current.compression), (2, false));
    assert_eq!(c.get_plan(pb::GetPlanRequest { version: 1 }).await.unwrap().into_inner(), reference);
    // The same update again (a retry) answers the version it made.
    let retry =
        c.update_plan(pb::UpdatePlanRequest { plan: Some(flat), base_version: 0, update_mask: None }).await.unwrap();
    assert_eq!(retry.into_inner().version, 2);
    let missing = c.get_plan(pb::GetPlanRequest { version: 3 }).await;
    expect_err(missing, Code::NotFound, &["version", "3"]);
    h.stop().await;
}

#[tokio::test]
async fn bad_requests_name_their_field_and_change_nothing() {
    let (mut h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let start = |period: &str| pb::StartCommissionRunRequest { period: period.into(), dry_run: false };
    expect_err(c.start_commission_run(start("2026-13")).await, Code::InvalidArgument, &["period"]);
    expect_err(c.start_commission_run(start("2026-10")).await, Code::NotFound, &["period", "2026-10"]);
    let unknown = c.get_commission_run(pb::GetCommissionRunRequest { run_id: "2026-11-x-1".into() }).await;
    expect_err(unknown, Code::NotFound, &["run_id"]);
    expect_err(statement(&mut c, "A", "", "").await, Code::InvalidArgument, &["run_id"]);
    expect_err(statement(&mut c, "A", "r", EXAMPLE_PERIOD).await, Code::InvalidArgument, &["run_id", "not both"]);
    expect_err(statement(&mut c, "A", "", EXAMPLE_PERIOD).await, Code::NotFound, &["period", "no finished"]);
    let done = run(&mut c, EXAMPLE_PERIOD, false).await;
    expect_err(statement(&mut c, "nobody", &done.run_id, "").await, Code::NotFound, &["partner_id"]);
    // A partner created after the run's snapshot is not in it.
    create(&mut h.client, "M", "A").await;
    expect_err(statement(&mut c, "M", &done.run_id, "").await, Code::NotFound, &["partner_id", "not in run"]);
    // An order after the run makes it stale: the close refuses it.
    record_ok(&mut v, order("late", "B", EXAMPLE_PERIOD, "10", pb::OrderKind::Retail)).await;
    let run_now = c.get_commission_run(pb::GetCommissionRunRequest { run_id: done.run_id.clone() }).await.unwrap();
    assert!(run_now.into_inner().stale);
    expect_err(close(&mut v, EXAMPLE_PERIOD).await, Code::FailedPrecondition, &["period", "stale"]);
    assert!(!periods(&mut v).await.iter().any(|p| p.closed), "nothing closed");
    let explain = |level: u32| pb::ExplainLevelRequest {
        partner_id: "A".into(),
        period: EXAMPLE_PERIOD.into(),
        level,
        page_size: 0,
        page_token: String::new(),
    };
    expect_err(c.explain_level(explain(0)).await, Code::InvalidArgument, &["level"]);
    expect_err(c.explain_level(explain(8)).await, Code::InvalidArgument, &["level"]);
    let forged = pb::ExplainLevelRequest { page_token: "abc".into(), ..explain(1) };
    expect_err(c.explain_level(forged).await, Code::InvalidArgument, &["page_token"]);
    let report = c.get_compliance_report(pb::GetComplianceReportRequest { period: "2026-01".into() }).await;
    expect_err(report, Code::NotFound, &["period"]);
    h.stop().await;
}

#[tokio::test]
async fn explain_level_lists_members_and_the_inactive_partners_skipped() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    // example.md: A's level 2 holds E, F, L, I and J (C and I are skipped on the way to J).
    let mut entries = Vec::new();
    let mut token = String::new();
    let mut level_volume;
    loop {
        let request = pb::ExplainLevelRequest {
            partner_id: "A".into(),
            period: EXAMPLE_PERIOD.into(),
            level: 2,
            page_size: 2,
            page_token: token.clone(),
        };
        let page = c.explain_level(request).await.unwrap().into_inner();
        level_volume = page.level_volume;
        entries.extend(page.entries.into_iter().map(|e| (e.partner_id, e.role, e.sponsor_level)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let (member, skipped) = (pb::LevelRole::Member as i32, pb::LevelRole::Skipped as i32);
    let want =
        [("E", member, 2), ("F", member, 2), ("C", skipped, 1), ("I", member, 3), ("J", member, 4), ("L", member, 2)];
    assert_eq!(entries, want.map(|(id, role, depth)| (id.to_owned(), role, depth)).to_vec());
    assert_eq!(level_volume, "1540.00");
    h.stop().await;
}

#[tokio::test]
async fn rank_progress_is_the_live_report_card() {
    let (h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let progress = |id: &str| pb::GetRankProgressRequest { partner_id: id.into(), period: EXAMPLE_PERIOD.into() };
    // A is Silver; Gold needs 5000 of qualifying GV (2185 now) and 3 legs with a Bronze (it has 3).
    let a = c.get_rank_progress(progress("A")).await.unwrap().into_inner();
    assert_eq!((a.paid_as_rank.as_str(), a.next_rank.as_str(), a.active), ("Silver", "Gold", true));
    assert_eq!((a.pv.as_str(), a.gv.as_str()), ("100.00", "2185.00"));
    let got: Vec<(i32, &str, &str, &str, bool)> = a
        .requirements
        .iter()
        .map(|r| (r.kind, r.current.as_str(), r.required.as_str(), r.missing.as_str(), r.met))
        .collect();
    use pb::RequirementKind::*;
    assert_eq!(
        got,
        [
            (Active as i32, "1", "1", "0", true),
            (MinPv as i32, "100.00", "100.00", "0.00", true),
            (MinGv as i32, "2185.00", "5000.00", "2815.00", false),
            (Legs as i32, "3", "3", "0", true),
        ]
    );
    // Live: an order that makes I active lifts G's leg count at once.
    let c_before = c.get_rank_progress(progress("C")).await.unwrap().into_inner();
    assert_eq!((c_before.paid_as_rank.as_str(), c_before.active), ("", false));
    record_ok(&mut v, order("c-more", "C", EXAMPLE_PERIOD, "20", pb::OrderKind::Self_)).await;
    let c_after = c.get_rank_progress(progress("C")).await.unwrap().into_inner();
    assert_eq!((c_after.paid_as_rank.as_str(), c_after.active), ("Bronze", true), "PV 50 makes C active and Bronze");
    expect_err(c.get_rank_progress(progress("nobody")).await, Code::NotFound, &["partner_id"]);
    let bad = pb::GetRankProgressRequest { partner_id: "A".into(), period: "2026-1".into() };
    expect_err(c.get_rank_progress(bad).await, Code::InvalidArgument, &["period"]);
    h.stop().await;
}
