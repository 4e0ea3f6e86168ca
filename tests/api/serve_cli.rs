//! `downline serve` as a process: it prints the address it listens on, and
//! SIGTERM or SIGINT stop it gracefully (exit 0, everything flushed), after
//! which a new process on the same directory serves the same partners; an
//! idle client stream is cancelled at the drain deadline
//! (`--shutdown-grace-ms`) instead of holding the shutdown up; a SIGTERM
//! during a commission run (`--job-grace-secs 0`) exits 0 all the same.

use crate::genealogy_support::{create, get};
use crate::harness::connect;
use crate::volume_support::{order, record_ok, volume_client, volumes_ok, EXAMPLE_PERIOD};
use downline::proto::v1 as pb;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt as _;
use tonic::Code;

/// The server process; killed if a test fails before it stops.
pub struct Serve(pub Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> (Serve, SocketAddr) {
    serve_with(dir, &[])
}

fn serve_with(dir: &Path, flags: &[&str]) -> (Serve, SocketAddr) {
    let mut args = vec!["--listen", "127.0.0.1:0", "--data-dir"];
    let dir = dir.to_str().expect("a UTF-8 temp dir");
    args.push(dir);
    args.extend_from_slice(flags);
    spawn_serve(&args, Stdio::null())
}

/// `downline serve ARGS` with its stderr to `stderr`, once it printed the
/// address it listens on.
pub fn spawn_serve(args: &[&str], stderr: Stdio) -> (Serve, SocketAddr) {
    spawn_serve_with_env(args, &[], stderr)
}

/// [`spawn_serve`] with `env` added to the server's environment.
pub fn spawn_serve_with_env(args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> (Serve, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line on stdout");
    let addr = line.trim().strip_prefix("listening on ").expect("the listening line").parse().expect("an address");
    (Serve(child), addr)
}

/// Sends `signal` and waits (at most 30 s) for a clean exit.
pub fn stop(mut server: Serve, signal: &str) {
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args([signal, &pid]).status().expect("kill runs").success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.0.try_wait().expect("wait works") {
            assert!(status.success(), "{signal} must stop the server cleanly, got {status}");
            return;
        }
        assert!(Instant::now() < deadline, "the server did not stop after {signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_stop_gracefully_and_keep_everything() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (server, addr) = serve(dir.path());
    let mut client = connect(addr).await;
    create(&mut client, "root", "").await;
    create(&mut client, "kid", "root").await;
    drop(client);
    stop(server, "-TERM");

    let (server, addr) = serve(dir.path());
    let mut client = connect(addr).await;
    assert_eq!(get(&mut client, "kid").await.sponsor_id, "root");
    create(&mut client, "grandkid", "kid").await;
    drop(client);
    stop(server, "-INT");

    let (_server, addr) = serve(dir.path());
    let mut client = connect(addr).await;
    let root = get(&mut client, "root").await;
    assert_eq!((root.frontline_count, root.downline_count), (1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_an_idle_stream_at_the_drain_deadline() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let grace = Duration::from_millis(500);
    let (mut server, addr) = serve_with(dir.path(), &["--shutdown-grace-ms", "500"]);
    let mut client = connect(addr).await;
    create(&mut client, "root", "").await;
    let mut v = volume_client(addr).await;
    let retail = |id: &str| order(id, "root", EXAMPLE_PERIOD, "10", pb::OrderKind::Retail);
    record_ok(&mut v, retail("acked")).await;

    // A RecordOrders stream sends one order and then nothing (its idle
    // timeout is the default 30 s). Once the order shows in the volumes,
    // the stream is open on the server.
    let mut streaming = v.clone();
    let first = pb::RecordOrdersRequest { orders: vec![retail("streamed")] };
    let stream = tokio::spawn(async move {
        let requests = tokio_stream::iter([first]).chain(tokio_stream::pending());
        streaming.record_orders(requests).await.expect_err("the stream is cancelled")
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while volumes_ok(&mut v, "root", EXAMPLE_PERIOD).await.pv != "20.00" {
        assert!(Instant::now() < deadline, "the streamed order never showed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
    let signalled = Instant::now();
    let status = stream.await.expect("the stream task");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let limit = grace + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = server.0.try_wait().expect("wait works") {
            break exit;
        }
        assert!(signalled.elapsed() < limit, "still running {limit:?} after SIGTERM with an idle stream open");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "SIGTERM must stop the server cleanly, got {exit}");
    drop(server);

    let (_server, addr) = serve(dir.path());
    let mut v = volume_client(addr).await;
    let pv = volumes_ok(&mut v, "root", EXAMPLE_PERIOD).await.pv;
    assert!(pv == "10.00" || pv == "20.00", "the acknowledged order is kept (the streamed one may be): {pv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_commission_run_exits_cleanly_and_keeps_every_write() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // A grace of 0 s: the run finishes or is cancelled at its next chunk.
    let (server, addr) = serve_with(dir.path(), &["--job-grace-secs", "0", "--job-memory-mb", "64"]);
    let mut client = connect(addr).await;
    create(&mut client, "root", "").await;
    create(&mut client, "kid", "root").await;
    let mut v = volume_client(addr).await;
    record_ok(&mut v, order("o-1", "kid", EXAMPLE_PERIOD, "70", pb::OrderKind::Retail)).await;
    let mut comp = pb::compensation_service_client::CompensationServiceClient::new(crate::harness::channel(addr).await);
    let request = pb::StartCommissionRunRequest { period: EXAMPLE_PERIOD.into(), dry_run: false };
    comp.start_commission_run(request).await.expect("a run starts");
    drop((client, v, comp));
    stop(server, "-TERM");

    let (_server, addr) = serve(dir.path());
    let mut v = volume_client(addr).await;
    assert_eq!(volumes_ok(&mut v, "root", EXAMPLE_PERIOD).await.gv, "70.00", "the acknowledged order is intact");
}
