//! Fail-stop after a failed flush (issue #21 item 3, issue #15): the
//! server's next flush is made to fail as a full disk would (the store's
//! failure-injection seam; a test cannot mount a small tmpfs). The write it
//! covered answers UNAVAILABLE and is not acknowledged; at that moment
//! health turns NOT_SERVING for the server ("") and for every service, and
//! every other call, on every service, answers UNAVAILABLE from the guard.
//! A restart serves the durable state again.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::team_support::team_client;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const SERVICES: [&str; 5] = [
    "downline.v1.GenealogyService",
    "downline.v1.VolumeService",
    "downline.v1.OperationsService",
    "downline.v1.CompensationService",
    "downline.v1.TeamService",
];

/// Health/Check of every service and of the server as a whole.
async fn health_of_all(health: &mut HealthClient<tonic::transport::Channel>) -> Vec<(String, ServingStatus)> {
    let mut out = Vec::new();
    for service in SERVICES.into_iter().chain([""]) {
        let answer = health
            .check(HealthCheckRequest { service: service.into() })
            .await
            .unwrap_or_else(|s| panic!("health of {service:?}: {s:?}"));
        out.push((service.to_owned(), answer.into_inner().status()));
    }
    out
}

fn all(status: ServingStatus) -> Vec<(String, ServingStatus)> {
    SERVICES.into_iter().chain([""]).map(|s| (s.to_owned(), status)).collect()
}

const FAILED: &str = "the store failed to write to disk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_flush_turns_health_not_serving_and_refuses_every_call() {
    let mut h = Harness::new().await;
    create(&mut h.client, "root", "").await;
    let mut health = HealthClient::new(channel(h.addr).await);
    assert_eq!(health_of_all(&mut health).await, all(ServingStatus::Serving));
    let mut watch = health.watch(HealthCheckRequest { service: String::new() }).await.expect("Watch").into_inner();
    let first = watch.message().await.expect("a first status").expect("a status");
    assert_eq!(first.status(), ServingStatus::Serving);

    h.fail_next_flush();
    let refused = h.client.create_partner(row("kid", "root")).await;
    expect_err(refused, Code::Unavailable, &["flush"]);
    // Watch reports the change without any further request; "" changes
    // after every service, so Check then agrees for each of them.
    let next = watch.message().await.expect("a next status").expect("a status");
    assert_eq!(next.status(), ServingStatus::NotServing);
    assert_eq!(health_of_all(&mut health).await, all(ServingStatus::NotServing));

    let c = &mut h.client;
    expect_err(c.get_partner(pb::GetPartnerRequest { partner_id: "root".into() }).await, Code::Unavailable, &[FAILED]);
    expect_err(c.create_partner(row("other", "root")).await, Code::Unavailable, &[FAILED]);
    expect_err(import(c, vec![vec![row("x", "root")]]).await, Code::Unavailable, &[FAILED]);
    let mut v = volume_client(h.addr).await;
    expect_err(v.list_periods(pb::ListPeriodsRequest {}).await, Code::Unavailable, &[FAILED]);
    let o = order("o-1", "root", EXAMPLE_PERIOD, "10", pb::OrderKind::Retail);
    expect_err(record_stream(&mut v, vec![vec![o]]).await, Code::Unavailable, &[FAILED]);
    let mut comp = pb::compensation_service_client::CompensationServiceClient::new(channel(h.addr).await);
    expect_err(comp.get_plan(pb::GetPlanRequest { version: 0 }).await, Code::Unavailable, &[FAILED]);
    let mut team = team_client(h.addr).await;
    let modules = pb::ListTrainingModulesRequest { page_size: 0, page_token: String::new() };
    expect_err(team.list_training_modules(modules).await, Code::Unavailable, &[FAILED]);
    let mut ops = operations_client(h.addr).await;
    let op = pb::GetOperationRequest { name: "operations/1".into() };
    expect_err(ops.get_operation(op).await, Code::Unavailable, &[FAILED]);

    // A restart recovers the acknowledged state and serves again (an open
    // Watch would hold the graceful shutdown up to its drain deadline).
    drop(watch);
    h.restart().await;
    assert_eq!(get(&mut h.client, "root").await.partner_id, "root");
    let mut health = HealthClient::new(channel(h.addr).await);
    assert_eq!(health_of_all(&mut health).await, all(ServingStatus::Serving));
    h.stop().await;
}
