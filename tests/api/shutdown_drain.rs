//! The drain deadline of a shutdown, in process (issue #21 item 5; the
//! binary's SIGTERM is in serve_cli.rs): once `shutdown_grace` passed, an
//! idle client stream is answered UNAVAILABLE naming the deadline, a
//! health Watch (an answer that never ends by itself) ends with the same
//! status after it saw NOT_SERVING, and the shutdown completes, so the
//! directory serves again.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt as _;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_deadline_ends_open_streams_and_watches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits { shutdown_grace: Duration::from_millis(300), ..Limits::default() };
    let server = start_server_with(dir.path(), limits).await;
    let addr = server.local_addr;
    let mut c = connect(addr).await;
    create(&mut c, "root", "").await;
    let mut v = volume_client(addr).await;

    // An idle RecordOrders stream: open on the server once its order shows.
    let mut streaming = v.clone();
    let first =
        pb::RecordOrdersRequest { orders: vec![order("o-1", "root", EXAMPLE_PERIOD, "10", pb::OrderKind::Retail)] };
    let stream = tokio::spawn(async move {
        let requests = tokio_stream::iter([first]).chain(tokio_stream::pending());
        streaming.record_orders(requests).await.expect_err("the stream is cancelled")
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while volumes(&mut v, "root", EXAMPLE_PERIOD).await.map(|vol| vol.pv).ok().as_deref() != Some("10.00") {
        assert!(Instant::now() < deadline, "the streamed order never showed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut health = HealthClient::new(channel(addr).await);
    let mut watch = health.watch(HealthCheckRequest::default()).await.expect("Watch").into_inner();
    assert_eq!(watch.message().await.expect("a status").expect("a status").status(), ServingStatus::Serving);

    let stopped = tokio::spawn(server.shutdown());
    let draining = watch.message().await.expect("a status").expect("a status");
    assert_eq!(draining.status(), ServingStatus::NotServing, "health turns NOT_SERVING when the drain starts");
    let ended = watch.message().await.expect_err("the Watch ends at the drain deadline");
    assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
    assert!(ended.message().contains("--shutdown-grace-ms"), "{ended:?}");
    let cancelled = stream.await.expect("the stream task");
    assert_eq!(cancelled.code(), Code::Unavailable, "{cancelled:?}");
    assert!(cancelled.message().contains("--shutdown-grace-ms"), "{cancelled:?}");
    let stopped = tokio::time::timeout(Duration::from_secs(30), stopped).await;
    stopped.expect("the shutdown completes").expect("the task").expect("a clean shutdown");

    let server = start_server(dir.path()).await;
    let mut c = connect(server.local_addr).await;
    assert_eq!(get(&mut c, "root").await.partner_id, "root");
    server.shutdown().await.expect("a clean shutdown");
}
