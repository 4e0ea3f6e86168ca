//! `downline serve` as a process: it prints the address it listens on, and
//! SIGTERM or SIGINT stop it gracefully (exit 0, everything flushed), after
//! which a new process on the same directory serves the same partners.

use crate::genealogy_support::{create, get};
use crate::harness::connect;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server process; killed if a test fails before it stops.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> (Serve, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line on stdout");
    let addr = line.trim().strip_prefix("listening on ").expect("the listening line").parse().expect("an address");
    (Serve(child), addr)
}

/// Sends `signal` and waits (at most 30 s) for a clean exit.
fn stop(mut server: Serve, signal: &str) {
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
