//! SimulatePlan (issue #18) through the real server: the example network of
//! domain.md (12 partners, 2185.00 of volume, 359.20 paid under the
//! reference plan) replayed under candidate plans.

use crate::auth_support::{authed, partner_token, Secured};
use crate::compensation_api::{comp, plan_in_force, run, statement, PAYABLE};
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use pb::simulation_service_client::SimulationServiceClient;
use std::net::SocketAddr;
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

type Sim = SimulationServiceClient<Channel>;

async fn sim(addr: SocketAddr) -> Sim {
    SimulationServiceClient::new(channel(addr).await)
}

/// Starts a simulation and waits for its end.
async fn simulate(s: &mut Sim, period: &str, plan: pb::Plan) -> pb::Simulation {
    let request = pb::SimulatePlanRequest { period: period.into(), plan: Some(plan), top_n: 3 };
    let id = s.simulate_plan(request).await.expect("the simulation starts").into_inner().simulation_id;
    for _ in 0..2000 {
        let got = s.get_simulation(pb::GetSimulationRequest { simulation_id: id.clone() }).await.unwrap().into_inner();
        if got.state != pb::RunState::Running as i32 {
            assert_eq!(got.state, pb::RunState::Succeeded as i32, "{got:?}");
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("simulation {id} does not finish");
}

/// Every row of a simulation, page by page.
async fn all_rows(s: &mut Sim, id: &str, order_by: pb::SimulationOrder, page_size: i32) -> Vec<pb::SimulationRow> {
    let (mut rows, mut token) = (Vec::new(), String::new());
    loop {
        let request = pb::ListSimulationResultsRequest {
            simulation_id: id.into(),
            order_by: order_by as i32,
            page_size,
            page_token: token,
        };
        let page = s.list_simulation_results(request).await.expect("a page").into_inner();
        assert_eq!(page.total_size, 12);
        rows.extend(page.rows);
        if page.next_page_token.is_empty() {
            return rows;
        }
        token = page.next_page_token;
    }
}

fn result(done: &pb::Simulation) -> &pb::SimulationResult {
    done.result.as_ref().expect("a finished simulation has a result")
}

#[tokio::test]
async fn the_plan_of_a_closed_period_replays_to_its_official_run_with_no_difference() {
    let (h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    assert_eq!(run(&mut c, EXAMPLE_PERIOD, false).await.payable_total, "359.20");
    close(&mut v, EXAMPLE_PERIOD).await.expect("the close");
    let mut s = sim(h.addr).await;
    let done = simulate(&mut s, EXAMPLE_PERIOD, plan_in_force(&mut c).await).await;
    let r = result(&done);
    assert!(r.baseline_matches_official, "{r:?}");
    assert_eq!((r.partners, r.winners, r.losers, r.unchanged), (12, 0, 0, 12));
    assert!(r.difference_deciles.iter().all(|d| d == "0.00"), "{r:?}");
    assert_eq!(r.baseline, r.candidate.clone().map(|t| pb::SimulationTotals { plan_version: 1, ..t }));
    let baseline = r.baseline.as_ref().unwrap();
    assert_eq!((baseline.total_volume.as_str(), baseline.payable_total.as_str()), ("2185.00", "359.20"));
    // Every row equals the official statements.
    for row in all_rows(&mut s, &done.simulation_id, pb::SimulationOrder::PartnerId, 5).await {
        let (_, rank, payable) = PAYABLE.iter().find(|p| p.0 == row.partner_id).expect("a known partner");
        assert_eq!((row.old_rank.as_str(), row.old_payable.as_str()), (*rank, *payable), "{row:?}");
        assert_eq!((row.new_payable.as_str(), row.difference.as_str()), (*payable, "0.00"), "{row:?}");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_higher_first_level_rate_pays_each_partner_five_percent_of_its_first_level_more() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let official = run(&mut c, EXAMPLE_PERIOD, false).await;
    let reference = plan_in_force(&mut c).await;
    let mut candidate = reference.clone();
    candidate.level_rates[0] = "0.10".into();
    // Expected by hand: +5 % of each partner's level-1 line volume (no cap
    // bites: 0.45 × 2185.00 is far above the total).
    let mut want_cents = std::collections::BTreeMap::new();
    for (id, _, payable) in PAYABLE {
        let st = statement(&mut c, id, &official.run_id, "").await.unwrap();
        let lv1 = st.lines.iter().find(|l| l.kind == pb::LineKind::Level as i32 && l.level == 1);
        let extra = lv1.map_or(0, |l| units(&l.volume) / 2000); // 5 % of units of 0.0001, in cents
        want_cents.insert(id.to_owned(), (units(payable) / 100, units(payable) / 100 + extra));
    }
    let mut s = sim(h.addr).await;
    let done = simulate(&mut s, EXAMPLE_PERIOD, candidate.clone()).await;
    let r = result(&done);
    assert!(!r.baseline_matches_official, "an open period has no official run");
    // A: 10 % × 100 + 5 % × 490 + ... = 113.70, plus 5 % × 490 = 24.50.
    assert_eq!(want_cents["A"], (11_370, 13_820));
    let winners = want_cents.values().filter(|(old, new)| new > old).count() as u64;
    assert!(winners > 0);
    assert_eq!((r.winners, r.losers, r.unchanged), (winners, 0, 12 - winners));
    let new_total: i64 = want_cents.values().map(|(_, new)| new).sum();
    let candidate_totals = r.candidate.as_ref().unwrap();
    assert_eq!(candidate_totals.payable_total, format!("{}.{:02}", new_total / 100, new_total % 100));
    assert_eq!(r.baseline.as_ref().unwrap().payable_total, "359.20");
    // Top winners: the largest rise first, three of them (D's level 1 is
    // 700.00, B's 500.00, A's 490.00).
    let top: Vec<(&str, &str, &str, &str)> = r
        .top_winners
        .iter()
        .map(|w| (w.partner_id.as_str(), w.old_payable.as_str(), w.new_payable.as_str(), w.difference.as_str()))
        .collect();
    assert_eq!(
        top,
        [("D", "35.00", "70.00", "35.00"), ("B", "42.75", "67.75", "25.00"), ("A", "113.70", "138.20", "24.50")]
    );
    assert!(r.top_losers.is_empty());
    // Every partner once, whatever the page size; the export equals the list.
    let listed = all_rows(&mut s, &done.simulation_id, pb::SimulationOrder::Difference, 5).await;
    let mut ids: Vec<&str> = listed.iter().map(|r| r.partner_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, EXAMPLE_IDS);
    for row in &listed {
        let (old, new) = want_cents[&row.partner_id];
        assert_eq!((units(&row.old_payable) / 100, units(&row.new_payable) / 100), (old, new), "{row:?}");
    }
    assert_eq!(listed, all_rows(&mut s, &done.simulation_id, pb::SimulationOrder::Difference, 1).await);
    let export = pb::ExportSimulationResultsRequest {
        simulation_id: done.simulation_id.clone(),
        order_by: pb::SimulationOrder::Difference as i32,
    };
    let mut stream = s.export_simulation_results(export).await.expect("the export").into_inner();
    let mut exported = Vec::new();
    while let Some(chunk) = stream.message().await.expect("a chunk") {
        exported.extend(chunk.rows);
    }
    assert_eq!(exported, listed);
    // Deterministic: a second simulation gives the same result and rows.
    let again = simulate(&mut s, EXAMPLE_PERIOD, candidate).await;
    assert_eq!(again.result, done.result);
    assert_eq!(all_rows(&mut s, &again.simulation_id, pb::SimulationOrder::Difference, 7).await, listed);
    // Nothing changed: the plan in force is still the reference.
    assert_eq!(plan_in_force(&mut c).await, reference);
    h.stop().await;
}

#[tokio::test]
async fn a_bad_candidate_or_an_unknown_period_is_refused_by_name() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let mut s = sim(h.addr).await;
    let mut bad = plan_in_force(&mut c).await;
    bad.payout_cap = "1.5".into();
    let request = pb::SimulatePlanRequest { period: EXAMPLE_PERIOD.into(), plan: Some(bad), top_n: 0 };
    let status = s.simulate_plan(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> =
        status.get_details_bad_request().expect("BadRequest").field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["plan.payout_cap"]);
    let good = plan_in_force(&mut c).await;
    let request = pb::SimulatePlanRequest { period: "2031-01".into(), plan: Some(good.clone()), top_n: 0 };
    expect_err(s.simulate_plan(request).await, Code::NotFound, &["period"]);
    let request = pb::SimulatePlanRequest { period: "2026-13".into(), plan: Some(good.clone()), top_n: 0 };
    expect_err(s.simulate_plan(request).await, Code::InvalidArgument, &["period"]);
    let request = pb::SimulatePlanRequest { period: EXAMPLE_PERIOD.into(), plan: None, top_n: 0 };
    expect_err(s.simulate_plan(request).await, Code::InvalidArgument, &["plan"]);
    let request = pb::SimulatePlanRequest { period: EXAMPLE_PERIOD.into(), plan: Some(good), top_n: 5000 };
    expect_err(s.simulate_plan(request).await, Code::InvalidArgument, &["top_n"]);
    let unknown = pb::GetSimulationRequest { simulation_id: "simulation-2026-11-0-1".into() };
    expect_err(s.get_simulation(unknown).await, Code::NotFound, &["simulation_id"]);
    assert_eq!(plan_in_force(&mut c).await.version, 1);
    h.stop().await;
}

#[tokio::test]
async fn simulations_are_for_admins_only() {
    let server = Secured::start(Limits::default()).await;
    let mut s = SimulationServiceClient::new(server.channel().await);
    let request = pb::SimulatePlanRequest { period: EXAMPLE_PERIOD.into(), plan: None, top_n: 0 };
    let partner = s.simulate_plan(authed(request.clone(), &partner_token("A"))).await.unwrap_err();
    assert_eq!(partner.code(), Code::PermissionDenied, "{partner:?}");
    let backend = s.simulate_plan(authed(request.clone(), &server.backend)).await.unwrap_err();
    assert_eq!(backend.code(), Code::PermissionDenied, "{backend:?}");
    let get = pb::GetSimulationRequest { simulation_id: "x".into() };
    let partner = s.get_simulation(authed(get, &partner_token("A"))).await.unwrap_err();
    assert_eq!(partner.code(), Code::PermissionDenied, "{partner:?}");
    // An admin gets past the guard: the missing plan is the refusal.
    let admin = s.simulate_plan(authed(request, &server.admin)).await.unwrap_err();
    assert_eq!(admin.code(), Code::InvalidArgument, "{admin:?}");
    server.stop().await;
}

/// A candidate with other volume settings (no compression) is captured and
/// rolled up on its own: its side equals the real run under that plan once
/// installed, partner by partner (352.80 in all, compensation_api.rs).
#[tokio::test]
async fn a_candidate_without_compression_equals_the_run_under_it() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let reference = plan_in_force(&mut c).await;
    let mut flat = reference.clone();
    flat.compression = false;
    let mut s = sim(h.addr).await;
    let done = simulate(&mut s, EXAMPLE_PERIOD, flat.clone()).await;
    let r = result(&done);
    assert_eq!(r.baseline.as_ref().unwrap().payable_total, "359.20");
    assert_eq!(r.candidate.as_ref().unwrap().payable_total, "352.80");
    let update = pb::UpdatePlanRequest { plan: Some(flat), base_version: reference.version, update_mask: None };
    c.update_plan(update).await.expect("the candidate installs");
    let installed = run(&mut c, EXAMPLE_PERIOD, true).await;
    assert_eq!(installed.payable_total, "352.80");
    let rows = all_rows(&mut s, &done.simulation_id, pb::SimulationOrder::Difference, 12).await;
    for row in &rows {
        let st = statement(&mut c, &row.partner_id, &installed.run_id, "").await.expect("a statement");
        assert_eq!(row.new_payable, st.payable, "{row:?}");
    }
    h.stop().await;
}
