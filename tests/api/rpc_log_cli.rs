//! The access log of `downline serve --log-format json`, read from the
//! real process's stderr: exactly one `rpc` line per call, with its
//! method, status code, latency, caller role and name; a failed
//! authentication also writes one warning, and a second one within 10 s
//! is held back. Every write logs where its time went (at debug).

use crate::auth_support::authed;
use crate::genealogy_support::row;
use crate::harness::channel;
use crate::serve_cli::{spawn_serve, spawn_serve_with_env, stop};
use downline::auth::keys::{line, new_key};
use downline::auth::Role;
use downline::proto::v1 as pb;
use pb::genealogy_service_client::GenealogyServiceClient;
use serde_json::Value;
use std::process::Stdio;
use tonic::Code;

const GET_PARTNER: &str = "/downline.v1.GenealogyService/GetPartner";
const CREATE_PARTNER: &str = "/downline.v1.GenealogyService/CreatePartner";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_rpc_line_per_call_and_one_warning_for_failed_auth() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = new_key();
    let keys_file = dir.path().join("keys.txt");
    std::fs::write(&keys_file, format!("{}\n", line(&key, Role::Backend, "back-office"))).expect("a keys file");
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let data = dir.path().join("data");
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
        "--data-dir",
        data.to_str().expect("UTF-8"),
        "--keys-file",
        keys_file.to_str().expect("UTF-8"),
    ];
    let (server, addr) = spawn_serve(&args, Stdio::from(log));
    let mut c = GenealogyServiceClient::new(channel(addr).await);

    c.create_partner(authed(row("root", ""), &key)).await.expect("a backend creates");
    for _ in 0..2 {
        let refused = c.get_partner(authed(pb::GetPartnerRequest { partner_id: "root".into() }, "not-a-key")).await;
        assert_eq!(refused.expect_err("a bad key").code(), Code::Unauthenticated);
    }
    let missing = c.get_partner(authed(pb::GetPartnerRequest { partner_id: "nobody".into() }, &key)).await;
    assert_eq!(missing.expect_err("no such partner").code(), Code::NotFound);
    drop(c);
    stop(server, "-TERM");

    let text = std::fs::read_to_string(&log_path).expect("the log");
    let lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let message = |v: &Value| v["fields"]["message"].as_str().unwrap_or("").to_owned();
    let rpcs: Vec<&Value> = lines.iter().filter(|v| message(v) == "rpc").collect();
    let seen: Vec<(&str, &str, &str, &str)> = rpcs
        .iter()
        .map(|v| {
            let f = &v["fields"];
            let text = |name: &str| f[name].as_str().unwrap_or("?");
            (text("method"), text("code"), text("role"), text("caller"))
        })
        .collect();
    assert_eq!(
        seen,
        [
            (CREATE_PARTNER, "OK", "backend", "back-office"),
            (GET_PARTNER, "UNAUTHENTICATED", "", ""),
            (GET_PARTNER, "UNAUTHENTICATED", "", ""),
            (GET_PARTNER, "NOT_FOUND", "backend", "back-office"),
        ],
        "{text}"
    );
    for rpc in &rpcs {
        assert_eq!(rpc["level"], "INFO");
        assert!(rpc["fields"]["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{rpc}");
    }
    let warnings: Vec<&Value> =
        lines.iter().filter(|v| v["level"] == "WARN" && message(v).starts_with("authentication failed")).collect();
    assert_eq!(warnings.len(), 1, "the second failure within 10 s is held back: {text}");
    assert_eq!(warnings[0]["fields"]["method"], GET_PARTNER);
}

/// The steps of a write in the log, in microseconds, in the order they
/// happen.
const WRITE_STEPS: [&str; 5] = ["schedule_us", "lock_wait_us", "apply_us", "stage_us", "durable_us"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_logs_its_steps_at_debug_and_reads_log_none() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let data = dir.path().join("data");
    let args = ["--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir", data.to_str().expect("UTF-8")];
    let env = [("RUST_LOG", "info,downline::app::write_steps=debug")];
    let (server, addr) = spawn_serve_with_env(&args, &env, Stdio::from(log));
    let mut c = GenealogyServiceClient::new(channel(addr).await);
    c.create_partner(row("root", "")).await.expect("created");
    c.create_partner(row("kid", "root")).await.expect("created");
    c.get_partner(pb::GetPartnerRequest { partner_id: "kid".into() }).await.expect("read");
    // A retry changes nothing, and still waits for the flush: a write too.
    c.create_partner(row("kid", "root")).await.expect("the same answer");
    drop(c);
    stop(server, "-TERM");

    let text = std::fs::read_to_string(&log_path).expect("the log");
    let writes: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v| v["fields"]["message"] == "write" || v["fields"]["message"] == "slow write")
        .collect();
    assert_eq!(writes.len(), 3, "one line per write, none for the read: {text}");
    for write in &writes {
        let field = |name: &str| write["fields"][name].as_u64().unwrap_or_else(|| panic!("{name} in {write}"));
        let steps: u64 = WRITE_STEPS.iter().map(|name| field(name)).sum();
        // Each step is whole microseconds of the total, so they add up to
        // at most the total.
        assert!(steps <= field("total_us"), "{write}");
        assert!(write["span"]["method"].as_str().is_some_and(|m| m == CREATE_PARTNER), "in the call's span: {write}");
    }
}
