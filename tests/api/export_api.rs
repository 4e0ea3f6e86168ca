//! The bulk exports of issue #17 through the real API: ExportVolumes and
//! ExportStatements equal GetVolumes (with GetRankProgress's rank) and
//! GetStatement for every partner, on example.md's network (open, then
//! closed) and on a 10k synthetic one, in id order and in chunks; unknown
//! periods and runs, partner tokens, and a client that drops the stream.

use crate::auth_support::*;
use crate::compensation_api::{comp, run, statement, Comp};
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use pb::genealogy_service_client::GenealogyServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use tonic::Code;

/// Rows of one export message at most (`service::export::CHUNK_ROWS`).
const CHUNK_ROWS: usize = 4096;

/// Every message of a volume export.
pub async fn export_volumes(
    v: &mut VolumeClient,
    period: &str,
) -> Result<Vec<pb::ExportVolumesResponse>, tonic::Status> {
    let mut stream = v.export_volumes(pb::ExportVolumesRequest { period: period.into() }).await?.into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

/// Every message of a statement export.
pub async fn export_statements(c: &mut Comp, run_id: &str) -> Result<Vec<pb::ExportStatementsResponse>, tonic::Status> {
    let mut stream = c.export_statements(pb::ExportStatementsRequest { run_id: run_id.into() }).await?.into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

/// Checks the messages' sizes and that the ids strictly increase (byte order).
fn assert_chunked_in_id_order(sizes: &[usize], ids: &[&str]) {
    assert!(sizes.iter().all(|&n| n > 0 && n <= CHUNK_ROWS), "message sizes {sizes:?}");
    assert!(ids.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()), "not in id order: {ids:?}");
}

/// The exported volumes equal GetVolumes and the ranks `rank_of` gives.
async fn assert_volume_export(v: &mut VolumeClient, period: &str, rank_of: &[(String, String)], partners: usize) {
    let messages = export_volumes(v, period).await.expect("the volume export");
    let rows: Vec<pb::ExportedVolumes> = messages.iter().flat_map(|m| m.partners.clone()).collect();
    let volumes: Vec<pb::Volumes> = rows.iter().map(|r| r.volumes.clone().expect("volumes")).collect();
    let ids: Vec<&str> = volumes.iter().map(|v| v.partner_id.as_str()).collect();
    assert_chunked_in_id_order(&messages.iter().map(|m| m.partners.len()).collect::<Vec<_>>(), &ids);
    assert_eq!(rows.len(), partners, "every partner once");
    for (row, got) in rows.iter().zip(&volumes) {
        assert_eq!(got, &volumes_ok(v, &got.partner_id, period).await, "{}", got.partner_id);
        let rank = rank_of.iter().find(|(id, _)| *id == got.partner_id).map(|(_, r)| r.as_str());
        assert_eq!(Some(row.paid_as_rank.as_str()), rank, "{}", got.partner_id);
    }
}

/// The exported statements equal GetStatement for every partner of `ids`.
async fn assert_statement_export(c: &mut Comp, run_id: &str, ids: &[String]) -> Vec<pb::Statement> {
    let messages = export_statements(c, run_id).await.expect("the statement export");
    let statements: Vec<pb::Statement> = messages.iter().flat_map(|m| m.statements.clone()).collect();
    let exported: Vec<&str> = statements.iter().map(|s| s.partner_id.as_str()).collect();
    assert_chunked_in_id_order(&messages.iter().map(|m| m.statements.len()).collect::<Vec<_>>(), &exported);
    let mut want_ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    want_ids.sort_unstable();
    assert_eq!(exported, want_ids, "every partner of the run, in id order");
    for s in &statements {
        assert_eq!(s, &statement(c, &s.partner_id, run_id, "").await.expect("GetStatement"), "{}", s.partner_id);
    }
    statements
}

#[tokio::test]
async fn exports_equal_get_volumes_and_get_statement_on_example_md_open_and_closed() {
    let (h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let done = run(&mut c, EXAMPLE_PERIOD, false).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:?}");
    let ids: Vec<String> = EXAMPLE_TREE.iter().map(|(id, _)| id.to_string()).collect();
    let mut live_ranks = Vec::new();
    for id in &ids {
        let request = pb::GetRankProgressRequest { partner_id: id.clone(), period: EXAMPLE_PERIOD.into() };
        let progress = c.get_rank_progress(request).await.expect("rank progress").into_inner();
        live_ranks.push((id.clone(), progress.paid_as_rank));
    }
    assert_volume_export(&mut v, EXAMPLE_PERIOD, &live_ranks, ids.len()).await;
    let statements = assert_statement_export(&mut c, &done.run_id, &ids).await;
    let payable: Vec<(&str, &str, &str)> =
        statements.iter().map(|s| (s.partner_id.as_str(), s.paid_as_rank.as_str(), s.payable.as_str())).collect();
    assert_eq!(payable, crate::compensation_api::PAYABLE.to_vec(), "example.md's figures");

    // Closed: the frozen figures, the official run's ranks, its statements
    // recomputed from them.
    close(&mut v, EXAMPLE_PERIOD).await.expect("the close");
    let official_ranks: Vec<(String, String)> =
        statements.iter().map(|s| (s.partner_id.clone(), s.paid_as_rank.clone())).collect();
    assert_volume_export(&mut v, EXAMPLE_PERIOD, &official_ranks, ids.len()).await;
    let official = assert_statement_export(&mut c, &done.run_id, &ids).await;
    assert_eq!(official, statements, "the official run exports what the run did");
    // After a restart the closed figures are read from the store.
    let mut h = h;
    h.restart().await;
    let (mut v, mut c) = (volume_client(h.addr).await, comp(h.addr).await);
    assert_volume_export(&mut v, EXAMPLE_PERIOD, &official_ranks, ids.len()).await;
    assert_eq!(assert_statement_export(&mut c, &done.run_id, &ids).await, statements, "after a restart");
    h.stop().await;
}

/// A server holding `n` synthetic partners (ids "1".."n", creation order is
/// not id order) and their orders of [`EXAMPLE_PERIOD`].
pub async fn synthetic_network(h: &mut Harness, n: usize) -> Vec<String> {
    let partners = downline::synth::partners(n, 17);
    let rows: Vec<pb::CreatePartnerRequest> = partners
        .iter()
        .map(|p| pb::CreatePartnerRequest {
            partner_id: p.partner_id.clone(),
            sponsor_id: p.sponsor_id.clone(),
            joined_on: p.joined_on.to_string(),
            display_name: String::new(),
        })
        .collect();
    let chunks: Vec<pb::ImportPartnersRequest> =
        rows.chunks(2000).map(|c| pb::ImportPartnersRequest { partners: c.to_vec() }).collect();
    h.client.import_partners(tokio_stream::iter(chunks)).await.expect("the import");
    let orders: Vec<pb::Order> = downline::synth::orders(n, 17, EXAMPLE_PERIOD)
        .into_iter()
        .map(|o| pb::Order {
            order_id: o.order_id,
            partner_id: o.partner_id,
            period: o.period,
            volume: o.volume,
            kind: downline_kind(o.kind) as i32,
            ..Default::default()
        })
        .collect();
    let mut v = volume_client(h.addr).await;
    let chunks: Vec<pb::RecordOrdersRequest> =
        orders.chunks(2000).map(|c| pb::RecordOrdersRequest { orders: c.to_vec() }).collect();
    let answer = v.record_orders(tokio_stream::iter(chunks)).await.expect("the orders").into_inner();
    assert_eq!(answer.refused_count, 0, "{answer:?}");
    partners.into_iter().map(|p| p.partner_id).collect()
}

fn downline_kind(kind: downline::engine::OrderKind) -> pb::OrderKind {
    match kind {
        downline::engine::OrderKind::Retail => pb::OrderKind::Retail,
        downline::engine::OrderKind::SelfPurchase => pb::OrderKind::Self_,
        downline::engine::OrderKind::Fee => pb::OrderKind::Fee,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_export_equals_get_statement_for_every_partner_of_a_10k_network() {
    let mut h = Harness::new().await;
    let ids = synthetic_network(&mut h, 10_000).await;
    let mut c = comp(h.addr).await;
    let done = run(&mut c, EXAMPLE_PERIOD, true).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:?}");
    let statements = assert_statement_export(&mut c, &done.run_id, &ids).await;
    assert!(statements.iter().any(|s| s.payable != "0.00"), "some partner is paid");
    // Volumes too: every partner once, in id order, equal to GetVolumes.
    let mut v = volume_client(h.addr).await;
    let messages = export_volumes(&mut v, EXAMPLE_PERIOD).await.expect("the volume export");
    assert!(messages.len() >= 3, "10,000 rows come in several messages");
    for row in messages.iter().flat_map(|m| &m.partners).step_by(97) {
        let got = row.volumes.as_ref().expect("volumes");
        assert_eq!(got, &volumes_ok(&mut v, &got.partner_id, EXAMPLE_PERIOD).await);
    }
    assert_eq!(messages.iter().map(|m| m.partners.len()).sum::<usize>(), ids.len());
    h.stop().await;
}

#[tokio::test]
async fn unknown_periods_and_runs_are_not_found_and_malformed_ones_invalid() {
    let (h, mut v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    expect_err(export_volumes(&mut v, "2031-01").await, Code::NotFound, &["period", "2031-01"]);
    expect_err(export_volumes(&mut v, "2031-13").await, Code::InvalidArgument, &["period"]);
    expect_err(export_volumes(&mut v, "").await, Code::InvalidArgument, &["period"]);
    expect_err(export_statements(&mut c, "2026-11-0000-1").await, Code::NotFound, &["run_id", "2026-11-0000-1"]);
    expect_err(export_statements(&mut c, "").await, Code::InvalidArgument, &["run_id"]);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_token_may_not_export() {
    let s = Secured::start(Limits::default()).await;
    let channel = s.channel().await;
    let mut g = GenealogyServiceClient::new(channel.clone());
    let me = pb::CreatePartnerRequest { partner_id: "me".into(), joined_on: "2026-01-01".into(), ..Default::default() };
    g.create_partner(authed(me, &s.backend)).await.expect("a partner");
    let order = order("o1", "me", EXAMPLE_PERIOD, "10", pb::OrderKind::Retail);
    let mut v = VolumeServiceClient::new(channel.clone());
    v.record_order(authed(pb::RecordOrderRequest { order: Some(order) }, &s.backend)).await.expect("an order");
    let token = partner_token("me");
    let volumes = pb::ExportVolumesRequest { period: EXAMPLE_PERIOD.into() };
    let denied = v.export_volumes(authed(volumes.clone(), &token)).await.map(|_| ());
    expect_err(denied, Code::PermissionDenied, &["ExportVolumes"]);
    let mut c = pb::compensation_service_client::CompensationServiceClient::new(channel);
    let statements = pb::ExportStatementsRequest { run_id: "2026-11-0000-1".into() };
    let denied = c.export_statements(authed(statements, &token)).await.map(|_| ());
    expect_err(denied, Code::PermissionDenied, &["ExportStatements"]);
    // The backend may.
    let mut stream = v.export_volumes(authed(volumes, &s.backend)).await.expect("allowed").into_inner();
    let first = stream.message().await.expect("a message").expect("one partner");
    assert_eq!(first.partners.len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_the_stream_after_the_first_chunk_leaves_the_server_serving() {
    let mut h = Harness::new().await;
    synthetic_network(&mut h, 20_000).await;
    let app = std::sync::Arc::clone(h.app());
    let mut v = volume_client(h.addr).await;
    // More dropped exports than may run at once: each producer must stop
    // and give its turn back, or the last ones would be refused.
    for _ in 0..downline::app::export::MAX_EXPORTS + 2 {
        let request = pb::ExportVolumesRequest { period: EXAMPLE_PERIOD.into() };
        let mut stream = export_when_a_turn_is_free(&mut v, request).await;
        let first = stream.message().await.expect("the first message").expect("a message");
        assert_eq!(first.partners.len(), CHUNK_ROWS);
        drop(stream);
    }
    // Every producer ends (polled: they notice at their next message).
    for _ in 0..2000 {
        if app.exports_running() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(app.exports_running(), 0, "a dropped export's producer stops");
    let whole = export_volumes(&mut v, EXAMPLE_PERIOD).await.expect("a whole export after the drops");
    assert_eq!(whole.iter().map(|m| m.partners.len()).sum::<usize>(), 20_000);
    volumes_ok(&mut v, "1", EXAMPLE_PERIOD).await;
    h.stop().await;
}

/// Starts an export, retrying while every turn is taken by producers that
/// have not yet noticed their client left.
async fn export_when_a_turn_is_free(
    v: &mut VolumeClient,
    request: pb::ExportVolumesRequest,
) -> tonic::Streaming<pb::ExportVolumesResponse> {
    for _ in 0..2000 {
        match v.export_volumes(request.clone()).await {
            Ok(answer) => return answer.into_inner(),
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(status) => panic!("the export is refused: {status:?}"),
        }
    }
    panic!("no export turn came free");
}
