//! A standard output whose reader has gone (`downline keys new ... | head -1`):
//! the helpers that run a real binary into it. The pipe's reader is closed
//! before the command starts, so every write it makes meets a broken pipe:
//! the tests do not depend on timing.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// The write end of a pipe nobody reads: the reader was a child that ended.
fn closed_pipe(binary: &str) -> Stdio {
    let mut reader = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let writer = reader.stdin.take().expect("piped stdin");
    assert!(reader.wait().expect("it ends").success());
    Stdio::from(writer)
}

/// Runs `binary` with `args`, `stdin`, and a closed pipe as its stdout.
pub fn run_unread(binary: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(closed_pipe(binary))
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()).expect("stdin");
    child.wait_with_output().expect("the binary ends")
}

/// The command exited 0 and said nothing of a panic or a broken pipe.
#[track_caller]
pub fn assert_quiet_success(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{what}: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
}
