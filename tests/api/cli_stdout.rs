//! Every printing command of the real binary with a standard output whose
//! reader has gone (`downline keys new ... | head -1`): it exits 0, quietly,
//! never "failed printing to stdout" in a panic, and still does its work.
//! The pipe's reader is closed before the command starts, so every write it
//! makes meets a broken pipe: the test does not depend on timing.

use crate::common::{example_tree, get, start_server, Harness};
use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// The write end of a pipe nobody reads: the reader was a child that ended.
fn closed_pipe() -> Stdio {
    let mut reader = Command::new(env!("CARGO_BIN_EXE_downline"))
        .arg("--version")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let writer = reader.stdin.take().expect("piped stdin");
    assert!(reader.wait().expect("it ends").success());
    Stdio::from(writer)
}

/// Runs the binary with `args`, `stdin`, and a closed pipe as its stdout.
fn run_unread(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()).expect("stdin");
    child.wait_with_output().expect("the binary ends")
}

#[track_caller]
fn assert_quiet_success(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{what}: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
}

#[test]
fn keys_and_hiccups_exit_quietly_without_a_reader() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("keys.txt");
    let path = file.to_str().expect("a utf-8 path");
    let out = run_unread(&["keys", "new", "--role", "admin", "--name", "ops"], "");
    assert_quiet_success(&out, "keys new");
    let out = run_unread(&["keys", "new", "--role", "admin", "--name", "ops", "--append", path], "");
    assert_quiet_success(&out, "keys new --append");
    assert_eq!(std::fs::read_to_string(&file).expect("the keys file").lines().count(), 1, "the line is appended");
    let out = run_unread(&["keys", "hash", "--role", "admin", "--name", "ops"], "dl_abc\n");
    assert_quiet_success(&out, "keys hash");
    // Without a reader hiccups stops after its first line instead of measuring.
    let out = run_unread(&["hiccups", "--duration-s", "1", "--threads", "1"], "");
    assert_quiet_success(&out, "hiccups");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_still_imports_without_a_reader() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = files.path().join("data");
    let csv = files.path().join("p.csv");
    std::fs::write(&csv, "id,sponsor_id,joined_on\nb,a,2026-02-01\na,,2026-01-01\n").expect("a csv");
    let (data_arg, csv_arg) = (data.to_str().expect("utf-8"), csv.to_str().expect("utf-8"));
    let out = run_unread(&["import", "--data-dir", data_arg, "--partners", csv_arg], "");
    assert_quiet_success(&out, "import");
    let server = start_server(&data).await;
    let mut client = crate::common::connect(server.local_addr).await;
    assert_eq!(get(&mut client, "b").await.sponsor_id, "a", "the import was written");
    server.shutdown().await.expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_exits_quietly_without_a_reader() {
    let mut h = Harness::new().await;
    example_tree(&mut h.client).await;
    let target = format!("http://{}", h.addr);
    let out = tokio::task::spawn_blocking(move || {
        run_unread(&["loadtest", "--target", &target, "--rate", "50", "--duration-s", "1", "--root", "A"], "")
    })
    .await
    .expect("no panic");
    assert_quiet_success(&out, "loadtest");
}
