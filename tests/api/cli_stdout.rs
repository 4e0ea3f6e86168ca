//! Every printing command of the real `downline` binary with a standard
//! output whose reader has gone (`downline keys new ... | head -1`): it exits
//! 0, quietly, never "failed printing to stdout" in a panic, and still does
//! its work. The tools' commands are tested alike in `tools/tests`.

use crate::genealogy_support::get;
use crate::harness::{connect, start_server};
use crate::pipe_support::{assert_quiet_success, run_unread};

/// The server binary under test.
const DOWNLINE: &str = env!("CARGO_BIN_EXE_downline");

#[test]
fn keys_exit_quietly_without_a_reader() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("keys.txt");
    let path = file.to_str().expect("a utf-8 path");
    let out = run_unread(DOWNLINE, &["keys", "new", "--role", "admin", "--name", "ops"], "");
    assert_quiet_success(&out, "keys new");
    let out = run_unread(DOWNLINE, &["keys", "new", "--role", "admin", "--name", "ops", "--append", path], "");
    assert_quiet_success(&out, "keys new --append");
    assert_eq!(std::fs::read_to_string(&file).expect("the keys file").lines().count(), 1, "the line is appended");
    let out = run_unread(DOWNLINE, &["keys", "hash", "--role", "admin", "--name", "ops"], "dl_abc\n");
    assert_quiet_success(&out, "keys hash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_still_imports_without_a_reader() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = files.path().join("data");
    let csv = files.path().join("p.csv");
    std::fs::write(&csv, "id,sponsor_id,joined_on\nb,a,2026-02-01\na,,2026-01-01\n").expect("a csv");
    let (data_arg, csv_arg) = (data.to_str().expect("utf-8"), csv.to_str().expect("utf-8"));
    let out = run_unread(DOWNLINE, &["import", "--data-dir", data_arg, "--partners", csv_arg], "");
    assert_quiet_success(&out, "import");
    let server = start_server(&data).await;
    let mut client = connect(server.local_addr).await;
    assert_eq!(get(&mut client, "b").await.sponsor_id, "a", "the import was written");
    server.shutdown().await.expect("a clean stop");
}
