//! The `hiccups` command of the real `downline-tools` binary.

/// `downline-tools hiccups` watches the asked number of busy, then sleeping,
/// threads, and refuses a run of zero seconds before starting any.
#[test]
fn hiccups_reports_every_thread() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_downline-tools"))
            .arg("hiccups")
            .args(args)
            .output()
            .expect("the binary runs")
    };
    let out = run(&["--duration-s", "1", "--threads", "2"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = |word: &str| text.lines().filter(|l| l.starts_with("thread ") && l.contains(word)).count();
    assert_eq!((lines("gaps"), lines("sleeps")), (2, 2), "{text}");
    let refused = run(&["--duration-s", "0"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--duration-s must be 1 to 600"), "{refused:?}");
}
