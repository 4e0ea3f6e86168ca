//! `downline-tools loadtest` against a real server, with both clients:
//! every request it reports as answered was answered, a refusal is counted
//! under its status code, and the lean client's writes carry the actor.

use crate::auth_support::{authed, Secured};
use crate::genealogy_support::{downline_ids, events_all, row};
use crate::volume_support::{example_with_orders, EXAMPLE_PERIOD as P};
use downline::proto::v1::genealogy_service_client::GenealogyServiceClient;
use downline::service::limits::Limits;
use downline_tools::loadtest::{measure, Client, LoadtestArgs, Rpc};
use downline_tools::loadtest_stats::Stats;
use std::collections::BTreeMap;

/// One second at 200/s of `rpc` against `addr`, ids from A's downline.
fn args(addr: std::net::SocketAddr, rpc: Rpc, client: Client, period: &str) -> LoadtestArgs {
    LoadtestArgs {
        target: format!("http://{addr}"),
        rpc,
        client,
        rate: 200,
        duration_s: 1,
        concurrency: 32,
        ids_from: None,
        root: Some("A".into()),
        max_ids: 100,
        page_size: 10,
        period: period.into(),
        batch: 10,
        modules: 2,
        completed_on: "2026-11-28".into(),
        seed: 7,
        timeout_ms: 10_000,
        token: None,
    }
}

/// Runs a load test off the test's runtime (it builds its own).
async fn run(args: LoadtestArgs) -> Stats {
    tokio::task::spawn_blocking(move || measure(args)).await.expect("no panic").expect("the load test runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_clients_get_every_answer() {
    let (h, _) = example_with_orders().await;
    for client in [Client::H2, Client::Tonic] {
        for rpc in [Rpc::GetVolumes, Rpc::GetPartner, Rpc::GetUpline, Rpc::GetTeamProgress] {
            let stats = run(args(h.addr, rpc, client, P)).await;
            assert_eq!((stats.sent(), stats.ok()), (200, 200), "{client:?} {rpc:?}: {:?}", stats.errors());
        }
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_counted_under_their_code() {
    let (h, _) = example_with_orders().await;
    for client in [Client::H2, Client::Tonic] {
        // No order was ever recorded in 2026-10: known partners read zeros
        // there (issue #20), which are answers, not refusals.
        let stats = run(args(h.addr, Rpc::GetVolumes, client, "2026-10")).await;
        assert_eq!((stats.ok(), stats.errors().len()), (200, 0), "{client:?}: {:?}", stats.errors());
        // A malformed period: INVALID_ARGUMENT, as a headers-only answer
        // (the lean client reads it from the headers).
        let stats = run(args(h.addr, Rpc::GetVolumes, client, "2026-13")).await;
        assert_eq!(stats.ok(), 0, "{client:?}");
        assert_eq!(stats.errors(), &BTreeMap::from([("InvalidArgument".to_owned(), 200)]), "{client:?}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lean_creations_are_real_and_carry_the_actor() {
    let (mut h, _) = example_with_orders().await;
    let before = downline_ids(&mut h.client, "A", 0, 1000).await.len();
    let stats = run(args(h.addr, Rpc::CreatePartner, Client::H2, P)).await;
    assert_eq!((stats.ok(), stats.errors().len()), (200, 0), "{:?}", stats.errors());
    let after = downline_ids(&mut h.client, "A", 0, 1000).await;
    assert_eq!(after.len(), before + 200, "every acknowledged creation is in the genealogy");
    let created = after.iter().map(|(_, id)| id).find(|id| id.starts_with("lt-")).expect("a created partner");
    let events = events_all(&mut h.client, created, 100).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "downline-loadtest");
    h.stop().await;
}

/// With `--token`, both clients send it: against a server that demands
/// credentials every request is answered (none is UNAUTHENTICATED).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_clients_send_the_token() {
    let s = Secured::start(Limits::default()).await;
    let mut c = GenealogyServiceClient::new(s.channel().await);
    c.create_partner(authed(row("A", ""), &s.backend)).await.expect("A is created");
    c.create_partner(authed(row("B", "A"), &s.backend)).await.expect("B is created");
    for client in [Client::H2, Client::Tonic] {
        let mut load = args(s.addr, Rpc::GetPartner, client, P);
        load.token = Some(s.backend.clone());
        let stats = run(load).await;
        assert_eq!((stats.ok(), stats.errors().len()), (200, 0), "{client:?}: {:?}", stats.errors());
    }
    s.stop().await;
}

/// Without `--root` or `--ids-from`, or with a root the target does not
/// have, the run stops before sending anything, saying what to pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_an_existing_root_says_what_to_pass() {
    let (h, _) = example_with_orders().await;
    let mut load = args(h.addr, Rpc::GetPartner, Client::H2, P);
    load.root = None;
    let refused = tokio::task::spawn_blocking(move || measure(load)).await.expect("no panic").err();
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("pass --root ID") && e.contains("--ids-from")),
        "{refused:?}"
    );
    let mut load = args(h.addr, Rpc::GetPartner, Client::H2, P);
    load.root = Some("1".into());
    let refused = tokio::task::spawn_blocking(move || measure(load)).await.expect("no panic").err();
    let expected =
        format!("partner '1' does not exist on the target http://{}; pass --root with an existing id", h.addr);
    assert!(refused.as_deref().is_some_and(|e| e.contains(&expected)), "{refused:?}");
    h.stop().await;
}

/// The binary's defaults: a rate of 1000/s, and no root.
#[test]
fn the_binary_defaults_to_1000_per_second_and_requires_a_root() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_downline-tools"))
        .args(["loadtest", "--target", "http://127.0.0.1:9", "--duration-s", "1"])
        .env_remove("DOWNLINE_ROOT")
        .env_remove("DOWNLINE_IDS_FROM")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --root ID"), "{out:?}");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_downline-tools"))
        .args(["loadtest", "--help"])
        .output()
        .expect("the binary runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("[default: 1000]"), "{help}");
}
