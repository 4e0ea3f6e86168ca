//! Issue #21: an offline import stopped by SIGTERM in its write phase
//! leaves its `IMPORTING` marker; `serve` and `verify` refuse the directory
//! with a message that says to rerun or discard the import, and running
//! the import again completes it.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// More than one write batch (65,536 partners) of the import.
const PARTNERS: u32 = 70_000;
/// The longest the interrupted import may take to exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

fn partners_csv(path: &Path) {
    let mut text = String::from("id,sponsor_id,joined_on\nr,,2026-01-01\n");
    for i in 1..PARTNERS {
        let sponsor = if i < 10 { "r".to_owned() } else { format!("q{}", i / 10) };
        text.push_str(&format!("q{i},{sponsor},2026-01-01\n"));
    }
    std::fs::write(path, text).expect("the CSV");
}

fn downline(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downline")).args(args).arg("--data-dir").arg(dir).output().expect("it runs")
}

#[test]
fn a_sigterm_in_the_write_phase_leaves_a_marked_directory_that_a_rerun_completes() {
    let files = tempfile::tempdir().expect("a temp dir");
    let csv = files.path().join("partners.csv");
    partners_csv(&csv);
    let dir = files.path().join("data");
    // The hidden pause holds the import after its first batch, until the signal.
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["import", "--pause-after-batch-ms", "600000", "--partners"])
        .arg(&csv)
        .arg("--data-dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the import starts");
    let deadline = Instant::now() + EXIT_TIMEOUT;
    while !dir.join("IMPORTING").exists() {
        assert!(Instant::now() < deadline, "the import never reached its write phase");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the import did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("piped stderr"), &mut stderr);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("was interrupted") && stderr.contains("rerun"), "{stderr}");
    assert!(dir.join("IMPORTING").exists(), "the marker stays");

    let refusal = format!("an import into {0} was interrupted: rerun `downline import` or delete {0}", dir.display());
    let served = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("serve runs");
    assert!(!served.status.success(), "serve must refuse a partial import");
    assert!(String::from_utf8_lossy(&served.stderr).contains(&refusal), "{served:?}");
    let verified = downline(&["verify"], &dir);
    assert!(!verified.status.success() && String::from_utf8_lossy(&verified.stderr).contains(&refusal));

    let csv_arg = csv.to_str().expect("a UTF-8 path");
    let rerun = downline(&["import", "--partners", csv_arg], &dir);
    let said = String::from_utf8_lossy(&rerun.stdout);
    assert!(rerun.status.success(), "{said} {}", String::from_utf8_lossy(&rerun.stderr));
    assert!(said.contains("4464 new, 65536 unchanged"), "the rerun completes the first batch's import: {said}");
    assert!(!dir.join("IMPORTING").exists(), "the completed import removed its marker");
    let verified = downline(&["verify"], &dir);
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && said.contains("70,000 partners"), "{said}");
}
