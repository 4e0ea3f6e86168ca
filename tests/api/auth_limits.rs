//! The limits, exceeded on purpose against a server with small ones: a
//! request above the message size is RESOURCE_EXHAUSTED; page sizes are
//! coerced to the maximum; ListDownline lists down to the depth limit and
//! refuses a deeper max_depth; unary requests beyond the concurrency limit
//! are shed with RESOURCE_EXHAUSTED while health still answers, and so are
//! streams beyond theirs while unary calls are served; a unary call whose
//! request never ends and a stream that stalls get DEADLINE_EXCEEDED.
//! After each, the server answers normally.

use crate::auth_support::*;
use crate::genealogy_support::JOINED;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use prost::Message as _;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;
use tonic::Code;

fn small() -> Limits {
    Limits {
        max_message_bytes: 64 << 10,
        max_page_size: 5,
        max_downline_depth: 3,
        max_concurrent_requests: 2,
        max_concurrent_streams: 2,
        request_timeout: Duration::from_millis(1500),
        stream_timeout: Duration::from_millis(2500),
        stream_idle_timeout: Duration::from_secs(60),
        ..Limits::default()
    }
}

fn genealogy(channel: &Channel) -> pb::genealogy_service_client::GenealogyServiceClient<Channel> {
    pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone())
}

async fn healthy(channel: &Channel, token: &str) {
    let get = pb::GetPartnerRequest { partner_id: "c0".into() };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match genealogy(channel).get_partner(authed(get.clone(), token)).await {
            Ok(_) => return,
            Err(e) if Instant::now() < deadline && e.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the server must answer again: {e:?}"),
        }
    }
}

fn row(id: &str, sponsor: &str, name: String) -> pb::CreatePartnerRequest {
    pb::CreatePartnerRequest {
        partner_id: id.into(),
        sponsor_id: sponsor.into(),
        joined_on: JOINED.into(),
        display_name: name,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_page_and_depth_limits() {
    let s = Secured::start(small()).await;
    let channel = s.channel().await;
    // A chain c0 .. c5 and ten recruits of c0.
    for i in 0..6 {
        let sponsor = if i == 0 { String::new() } else { format!("c{}", i - 1) };
        genealogy(&channel)
            .create_partner(authed(row(&format!("c{i}"), &sponsor, String::new()), &s.backend))
            .await
            .expect("a chain");
    }
    for i in 0..10 {
        genealogy(&channel)
            .create_partner(authed(row(&format!("r{i}"), "c0", String::new()), &s.backend))
            .await
            .expect("a recruit");
    }
    let big = row("big", "c0", "x".repeat(100 << 10));
    let status = genealogy(&channel).create_partner(authed(big, &s.backend)).await.expect_err("too big");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    healthy(&channel, &s.backend).await;

    let list = |max_depth, page_size| pb::ListDownlineRequest {
        partner_id: "c0".into(),
        max_depth,
        page_size,
        page_token: String::new(),
    };
    for page_size in [0, 6, 1000, i32::MAX] {
        let page = genealogy(&channel).list_downline(authed(list(0, page_size), &s.backend)).await.expect("a page");
        assert_eq!(page.into_inner().members.len(), 5, "page_size {page_size} is coerced to the limit");
    }
    let mut token = String::new();
    let mut deepest = 0;
    loop {
        let request = pb::ListDownlineRequest { page_token: token, ..list(0, 5) };
        let page = genealogy(&channel).list_downline(authed(request, &s.backend)).await.expect("a page").into_inner();
        deepest = page.members.iter().map(|m| m.level).fold(deepest, u32::max);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(deepest, 3, "max_depth 0 lists down to the server's limit");
    let status = genealogy(&channel).list_downline(authed(list(4, 5), &s.backend)).await.expect_err("too deep");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("max_depth:"), "{status:?}");
    s.stop().await;
}

/// An ImportPartners stream that sends one chunk and then stalls.
fn stalled_import(channel: &Channel, token: &str) -> tokio::task::JoinHandle<tonic::Status> {
    let (channel, token) = (channel.clone(), token.to_owned());
    tokio::spawn(async move {
        let chunk = pb::ImportPartnersRequest { partners: vec![row("s1", "", String::new())] };
        let stream = tokio_stream::iter(vec![chunk]).chain(tokio_stream::pending());
        genealogy(&channel).import_partners(authed(stream, &token)).await.expect_err("a stalled stream fails")
    })
}

/// A GetPartner whose request body never ends (slowloris).
fn stalled_unary(channel: &Channel, token: &str) -> tokio::task::JoinHandle<tonic::Status> {
    let (channel, token) = (channel.clone(), token.to_owned());
    tokio::spawn(async move {
        let message = pb::GetPartnerRequest { partner_id: "c0".into() }.encode_to_vec();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.expect("ready");
        let body = tokio_stream::iter(vec![message]).chain(tokio_stream::pending());
        let path = "/downline.v1.GenealogyService/GetPartner".parse().expect("a path");
        grpc.client_streaming(authed(body, &token), path, RawCodec).await.expect_err("a stalled call fails")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_is_shed_and_slow_requests_time_out() {
    let s = Secured::start(small()).await;
    let channel = s.channel().await;
    genealogy(&channel).create_partner(authed(row("c0", "", String::new()), &s.backend)).await.expect("a root");
    let get = pb::GetPartnerRequest { partner_id: "c0".into() };

    // Three stalled streams for two stream slots: the one refused ends
    // first; unary calls are served while the two others hold the slots.
    let started = Instant::now();
    let mut stalled = vec![
        stalled_import(&channel, &s.backend),
        stalled_import(&channel, &s.admin),
        stalled_import(&channel, &s.backend),
    ];
    let refused = first_to_end(&mut stalled).await;
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("--max-concurrent-streams"), "{refused:?}");
    genealogy(&channel).get_partner(authed(get.clone(), &s.backend)).await.expect("unary calls are served");
    all_time_out(stalled).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(2400) && waited < Duration::from_secs(8),
        "stream timeout after {waited:?}"
    );
    healthy(&channel, &s.backend).await;

    // Three unary calls whose request never ends, for two slots: the one
    // shed ends first; health still answers; the others time out.
    let started = Instant::now();
    let mut stalled = vec![
        stalled_unary(&channel, &s.backend),
        stalled_unary(&channel, &s.admin),
        stalled_unary(&channel, &s.backend),
    ];
    let shed = first_to_end(&mut stalled).await;
    assert_eq!(shed.code(), Code::ResourceExhausted, "{shed:?}");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health.check(tonic_health::pb::HealthCheckRequest::default()).await.expect("health is never shed");
    all_time_out(stalled).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1400) && waited < Duration::from_secs(6), "unary timeout after {waited:?}");
    healthy(&channel, &s.backend).await;
    s.stop().await;
}

/// Asserts that every one of `tasks` ends with DEADLINE_EXCEEDED.
async fn all_time_out(tasks: Vec<tokio::task::JoinHandle<tonic::Status>>) {
    for task in tasks {
        let status = task.await.expect("the task");
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    }
}

/// Waits for the first of `tasks` to end, removes it and returns its status.
async fn first_to_end(tasks: &mut Vec<tokio::task::JoinHandle<tonic::Status>>) -> tonic::Status {
    loop {
        if let Some(k) = tasks.iter().position(|t| t.is_finished()) {
            return tasks.remove(k).await.expect("the task");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
