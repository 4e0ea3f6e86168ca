//! The tools' printing commands with a standard output whose reader has
//! gone (`downline-tools hiccups | head -1`): they exit 0, quietly, never a
//! panic (the server's commands are tested alike in `tests/api/cli_stdout.rs`).

use crate::harness::Harness;
use crate::pipe_support::{assert_quiet_success, run_unread};
use crate::volume_support::example_tree;

/// The tools binary under test.
const TOOLS: &str = env!("CARGO_BIN_EXE_downline-tools");

#[test]
fn hiccups_exits_quietly_without_a_reader() {
    // Without a reader hiccups stops after its first line instead of measuring.
    let out = run_unread(TOOLS, &["hiccups", "--duration-s", "1", "--threads", "1"], "");
    assert_quiet_success(&out, "hiccups");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadtest_exits_quietly_without_a_reader() {
    let mut h = Harness::new().await;
    example_tree(&mut h.client).await;
    let target = format!("http://{}", h.addr);
    let out = tokio::task::spawn_blocking(move || {
        run_unread(TOOLS, &["loadtest", "--target", &target, "--rate", "50", "--duration-s", "1", "--root", "A"], "")
    })
    .await
    .expect("no panic");
    assert_quiet_success(&out, "loadtest");
}
