//! Client streams (ImportPartners, RecordOrders) against a server with
//! small stream limits (issue #21 item 4): they have their own budget, so
//! idle streams that spend it never lock unary calls out; a stream that
//! sends nothing for the idle timeout ends with DEADLINE_EXCEEDED naming
//! it, and a stream that keeps sending within it is not cut.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt as _;
use tonic::{Code, Status};

/// A RecordOrders stream that sends `first` (if any), then nothing.
async fn silent_orders(mut v: VolumeClient, first: Option<pb::Order>) -> Status {
    let first = first.map(|o| pb::RecordOrdersRequest { orders: vec![o] });
    let stream = tokio_stream::iter(first).chain(tokio_stream::pending());
    v.record_orders(stream).await.expect_err("a silent stream never succeeds")
}

fn retail(id: &str, partner: &str) -> pb::Order {
    order(id, partner, EXAMPLE_PERIOD, "10", pb::OrderKind::Retail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_spend_their_own_budget_and_unary_calls_stay_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        max_concurrent_streams: 4,
        max_concurrent_requests: 4,
        stream_idle_timeout: Duration::from_secs(120),
        stream_timeout: Duration::from_secs(120),
        ..Limits::default()
    };
    let server = start_server_with(dir.path(), limits).await;
    let mut c = connect(server.local_addr).await;
    let mut v = volume_client(server.local_addr).await;
    create(&mut c, "root", "").await;

    // Five silent streams for four slots: exactly one is refused, at once,
    // while the four others stay open (for two minutes).
    let (done, mut finished) = tokio::sync::mpsc::channel(8);
    let streams: Vec<_> = (0..5)
        .map(|_| {
            let (v, done) = (v.clone(), done.clone());
            tokio::spawn(async move {
                let _ = done.send(silent_orders(v, None).await).await;
            })
        })
        .collect();
    let refused = finished.recv().await.expect("one stream ends");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("--max-concurrent-streams"), "{refused:?}");
    let delay = crate::details_support::retry_delay(&refused);
    assert_eq!(delay, std::time::Duration::from_millis(200), "load shedding's RetryInfo");

    // Every stream slot is held: unary calls are served all the same ...
    assert_eq!(get(&mut c, "root").await.partner_id, "root");
    record_ok(&mut v, retail("u-1", "root")).await;
    create(&mut c, "kid", "root").await;
    // ... and another stream, of either kind, is refused.
    expect_err(record_stream(&mut v, vec![vec![retail("s-1", "root")]]).await, Code::ResourceExhausted, &["streams"]);
    expect_err(import(&mut c, vec![vec![row("x", "root")]]).await, Code::ResourceExhausted, &["streams"]);

    // Closing the silent streams frees their slots.
    streams.iter().for_each(|s| s.abort());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match record_stream(&mut v, vec![vec![retail("s-1", "root")]]).await {
            Ok(answer) => {
                assert_eq!(answer.recorded_count, 1);
                break;
            }
            Err(s) if s.code() == Code::ResourceExhausted && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(s) => panic!("the slots must be free again: {s:?}"),
        }
    }
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_ends_at_its_idle_timeout_and_a_talking_one_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let idle = Duration::from_millis(600);
    let limits = Limits { stream_idle_timeout: idle, stream_timeout: Duration::from_secs(60), ..Limits::default() };
    let server = start_server_with(dir.path(), limits).await;
    let mut c = connect(server.local_addr).await;
    let v = volume_client(server.local_addr).await;
    create(&mut c, "root", "").await;

    // Silent from the start, and silent after a first message.
    for first in [None, Some(retail("i-1", "root"))] {
        let status = silent_orders(v.clone(), first).await;
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert!(status.message().contains("--stream-idle-timeout-ms"), "{status:?}");
    }
    let stream = tokio_stream::iter([pb::ImportPartnersRequest { partners: vec![row("i", "root")] }])
        .chain(tokio_stream::pending());
    let status = c.import_partners(stream).await.expect_err("a silent import");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("--stream-idle-timeout-ms"), "{status:?}");

    // An order every 50 ms for twice the idle timeout: never cut.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let sender = tokio::spawn(async move {
        for k in 0..24 {
            let chunk = pb::RecordOrdersRequest { orders: vec![retail(&format!("t-{k}"), "root")] };
            tx.send(chunk).await.expect("the stream is open");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut v = v.clone();
    let answer = v.record_orders(tokio_stream::wrappers::ReceiverStream::new(rx)).await.expect("a talking stream");
    assert_eq!(answer.into_inner().recorded_count, 24);
    sender.await.expect("the sender");
    server.shutdown().await.expect("a clean shutdown");
}
