//! Prometheus metrics (issue #19) through a real server: gRPC calls, one
//! of them refused, move the per-method counts by code and the latency
//! histograms; the network's gauges, the store's flushes and a finished
//! job show at the next scrape. The `downline` binary prints the metrics
//! address, and refuses a metrics listener beyond loopback without
//! credentials, naming the flag, before it touches the data directory.

use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

const CREATE: &str = "/downline.v1.GenealogyService/CreatePartner";
const GET: &str = "/downline.v1.GenealogyService/GetPartner";
const RECORD: &str = "/downline.v1.VolumeService/RecordOrder";

/// One HTTP/1.1 GET; the status line and the body.
async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the metrics listener accepts");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("an answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("headers and a body");
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

/// `/metrics`, asserting a 200 in the OpenMetrics format.
async fn scrape(addr: SocketAddr) -> String {
    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.ends_with("# EOF\n"), "an OpenMetrics exposition ends with # EOF: {body}");
    body
}

/// The value of one series (name and labels exactly as exposed), if shown.
fn value(text: &str, series: &str) -> Option<f64> {
    let line = text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))?;
    Some(line.split(' ').next()?.parse().expect("a number"))
}

fn calls(method: &str, code: &str) -> String {
    format!("downline_rpc_requests_total{{method=\"{method}\",code=\"{code}\"}}")
}

fn latency_count(method: &str) -> String {
    format!("downline_rpc_duration_seconds_count{{method=\"{method}\"}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_by_code_latency_partners_orders_flushes_and_jobs_show_in_a_scrape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server_with_metrics(dir.path()).await;
    let metrics = server.metrics_addr.expect("a metrics listener");
    let before = scrape(metrics).await;
    assert_eq!(value(&before, "downline_partners"), Some(0.0), "{before}");
    assert_eq!(value(&before, &calls(CREATE, "OK")), None, "no call yet: {before}");

    let mut c = connect(server.local_addr).await;
    example_tree(&mut c).await;
    let missing = c.get_partner(pb::GetPartnerRequest { partner_id: "nobody".into() }).await;
    expect_err(missing, Code::NotFound, &["nobody"]);
    let mut v = volume_client(server.local_addr).await;
    for o in example_orders(EXAMPLE_PERIOD) {
        record_ok(&mut v, o).await;
    }
    let mut o = operations_client(server.local_addr).await;
    recalculate(&mut v, &mut o, EXAMPLE_PERIOD).await;

    let after = scrape(metrics).await;
    let partners = EXAMPLE_TREE.len() as f64;
    assert_eq!(value(&after, &calls(CREATE, "OK")), Some(partners), "{after}");
    assert_eq!(value(&after, &calls(GET, "NOT_FOUND")), Some(1.0), "{after}");
    assert_eq!(value(&after, &calls(GET, "OK")), None, "{after}");
    assert_eq!(value(&after, &calls(RECORD, "OK")), Some(15.0), "{after}");
    assert_eq!(value(&after, &latency_count(CREATE)), Some(partners), "{after}");
    assert_eq!(value(&after, &latency_count(GET)), Some(1.0), "{after}");
    let bucket = format!("downline_rpc_duration_seconds_bucket{{le=\"+Inf\",method=\"{CREATE}\"}}");
    let bucket_alt = format!("downline_rpc_duration_seconds_bucket{{method=\"{CREATE}\",le=\"+Inf\"}}");
    let inf = value(&after, &bucket).or_else(|| value(&after, &bucket_alt));
    assert_eq!(inf, Some(partners), "the +Inf bucket holds every call: {after}");
    assert_eq!(value(&after, "downline_partners"), Some(partners), "{after}");
    assert_eq!(value(&after, &format!("downline_period_orders{{period=\"{EXAMPLE_PERIOD}\"}}")), Some(15.0));
    assert_eq!(value(&after, "downline_job_duration_seconds_count{kind=\"recalculation\"}"), Some(1.0), "{after}");
    assert_eq!(value(&after, "downline_jobs_running{kind=\"recalculation\"}"), Some(0.0), "{after}");
    // Every acknowledged write waited for a flush: at least one flush, and
    // the flushes' groups add up to the 27 writes at least.
    let flushes = value(&after, "downline_store_flush_duration_seconds_count").expect("flushes");
    assert!(flushes >= 1.0, "{after}");
    let grouped = value(&after, "downline_store_flush_group_writes_sum").expect("group sizes");
    assert!(grouped >= partners + 15.0, "{grouped} writes flushed: {after}");
    assert!(value(&after, "downline_network_memory_bytes").expect("memory") > 0.0, "{after}");

    let (status, _) = http_get(metrics, "/elsewhere").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    server.shutdown().await.expect("a clean shutdown");
}

#[test]
fn the_binary_prints_the_metrics_address_and_serves_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    assert!(first.starts_with("listening on "), "{first}");
    let second = lines.next().expect("a second line").expect("text");
    let addr = second.strip_prefix("metrics on http://").and_then(|rest| rest.strip_suffix("/metrics"));
    let addr: SocketAddr = addr.unwrap_or_else(|| panic!("the metrics line: {second}")).parse().expect("an address");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let body = runtime.block_on(scrape(addr));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(value(&body, "downline_partners"), Some(0.0), "{body}");
}

/// Starts the binary in development mode with `--metrics-listen metrics`
/// over `data`; it must refuse to start: its standard error.
fn refused_start(metrics: &str, data: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", metrics, "--data-dir"])
        .arg(data)
        .env_remove("DOWNLINE_KEYS_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "it must refuse to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_metrics_listener_beyond_loopback_without_credentials_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let stderr = refused_start("0.0.0.0:0", &data);
    assert!(stderr.contains("--metrics-listen 0.0.0.0:0"), "the message names the flag and address: {stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!data.exists(), "nothing is created before the refusal");
}

#[test]
fn a_taken_metrics_port_fails_before_the_data_directory_is_opened() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let stderr = refused_start(&addr.to_string(), &data);
    assert!(stderr.contains(&addr.to_string()), "the message names the address: {stderr}");
    assert!(!data.exists(), "the data directory is not opened before the listeners are bound");
}
