//! How `downline serve` starts, as a process: a second server on a data
//! directory another one holds exits non-zero saying so; a taken port
//! fails before the data directory is opened (nor created); `--listen`
//! takes a host name; `serve` keeps the memory it frees (it starts itself
//! again with glibc's tunables set) unless `--keep-freed-memory false`.

use crate::genealogy_support::{create, get};
use crate::harness::connect;
use crate::serve_cli::{spawn_serve, stop};
use std::process::{Command, Output, Stdio};

/// `downline serve ARGS` run to its end (it is expected to fail at start).
fn serve_to_the_end(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downline"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_directory_says_another_one_holds_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("a UTF-8 path");
    let (first, addr) = spawn_serve(&["--listen", "127.0.0.1:0", "--data-dir", data], Stdio::null());
    let mut client = connect(addr).await;
    create(&mut client, "root", "").await;

    let second = tokio::task::spawn_blocking({
        let data = data.to_owned();
        move || serve_to_the_end(&["--listen", "127.0.0.1:0", "--data-dir", &data])
    })
    .await
    .expect("no panic");
    assert!(!second.status.success(), "the second server must not start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains(&format!("the data directory {data} is held by another server (or process)")), "{stderr}");
    assert!(!stderr.contains("WouldBlock") && !stderr.contains("os error"), "no raw sled error: {stderr}");
    // The first server was not disturbed.
    assert_eq!(get(&mut client, "root").await.partner_id, "root");
    drop(client);
    stop(first, "-TERM");
}

#[test]
fn a_taken_port_fails_first_naming_the_address_and_touches_no_data() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("never-made");
    let out = serve_to_the_end(&["--listen", &addr, "--data-dir", data.to_str().expect("UTF-8")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("cannot listen on {addr}")), "{stderr}");
    assert!(!data.exists(), "the data directory must not be created when the port is taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_takes_a_host_name() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let (server, addr) =
        spawn_serve(&["--listen", "localhost:0", "--data-dir", data.to_str().expect("UTF-8")], Stdio::null());
    assert!(addr.ip().is_loopback(), "localhost resolves to a loopback address: {addr}");
    let mut client = connect(addr).await;
    create(&mut client, "root", "").await;
    assert_eq!(get(&mut client, "root").await.partner_id, "root");
    drop(client);
    stop(server, "-TERM");
}

#[test]
fn a_listen_name_that_does_not_resolve_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("never-made");
    let out =
        serve_to_the_end(&["--listen", "no-such-host.invalid:50051", "--data-dir", data.to_str().expect("UTF-8")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--listen no-such-host.invalid:50051: cannot resolve it"), "{stderr}");
    assert!(!data.exists());
}

/// Whether the process `pid` runs with `GLIBC_TUNABLES` set to the
/// server's malloc settings (glibc rewrites the variable's text in place as
/// it reads it, so only the start of the value is compared).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn runs_with_the_malloc_settings(pid: u32) -> bool {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the server's environment");
    environ.split(|&b| b == 0).any(|entry| entry.starts_with(b"GLIBC_TUNABLES=glibc.malloc.arena_max=1"))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_freed_memory_by_starting_again_with_glibc_tunables_unless_told_not_to() {
    assert!(std::env::var_os("GLIBC_TUNABLES").is_none(), "the test needs an environment without GLIBC_TUNABLES");
    for (keep, expected) in [("true", true), ("false", false)] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let data = dir.path().join("data");
        let data = data.to_str().expect("a UTF-8 path");
        let args = ["--listen", "127.0.0.1:0", "--data-dir", data, "--keep-freed-memory", keep];
        let (server, addr) = spawn_serve(&args, Stdio::null());
        // The same process id serves: `exec` replaced the program in place.
        assert_eq!(runs_with_the_malloc_settings(server.0.id()), expected, "--keep-freed-memory {keep}");
        let mut client = connect(addr).await;
        create(&mut client, "root", "").await;
        assert_eq!(get(&mut client, "root").await.partner_id, "root");
        drop(client);
        stop(server, "-TERM");
    }
}
