//! `downline serve --admin-listen` as a process: it prints the admin
//! page's address after the gRPC one and serves the page (here from
//! DOWNLINE_ADMIN_LISTEN, in development mode) and SIGTERM still stops it
//! cleanly, an idle admin connection notwithstanding; an open admin page
//! off loopback is refused at start with a message naming the flag.

use crate::admin_support::get;
use crate::serve_cli::{stop, Serve};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_prints_and_serves_the_admin_page_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("DOWNLINE_ADMIN_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let server = Serve(child);
    let (mut grpc, mut admin) = (String::new(), String::new());
    stdout.read_line(&mut grpc).expect("the listening line");
    stdout.read_line(&mut admin).expect("the admin line");
    assert!(grpc.starts_with("listening on "), "{grpc}");
    let addr: SocketAddr = admin
        .trim()
        .strip_prefix("admin page on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .expect("the admin line")
        .parse()
        .expect("an address");
    let index = get(addr, "/").await;
    assert_eq!(index.status, 200, "{}", index.body);
    assert!(index.body.contains("action=\"/partners\""), "the partner search: {}", index.body);
    // An idle browser connection must not hold the shutdown up.
    let _idle = tokio::net::TcpStream::connect(addr).await.expect("an idle connection");
    stop(server, "-TERM");
}

#[test]
fn an_open_admin_page_off_loopback_does_not_start() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--admin-listen 0.0.0.0:0: no API keys or JWT key are configured"), "{stderr}");
}
