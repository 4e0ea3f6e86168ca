//! Issue #21: a damaged data directory is never served. A server takes a
//! few thousand acknowledged orders (one batch each, plus a stream) and
//! stops cleanly; then each damage of the issue is applied to a copy of the
//! directory, and both `downline serve` and `downline verify` must exit
//! non-zero with a message that names the directory, or, when sled lost
//! nothing (the damage hit space its log no longer uses), `verify` must
//! find every order. Which damage sled itself detects varies with the
//! layout; a directory rolled back to an earlier state is caught by the
//! `MANIFEST` file alone.

use crate::genealogy_support::create;
use crate::harness::{connect, start_server};
use crate::volume_support::{order, record_ok, record_stream, volume_client};
use downline::proto::v1 as pb;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Orders recorded one RPC (and one sled batch) each.
const SINGLE_ORDERS: usize = 300;
/// Orders recorded in one stream (a batch per 1024).
const STREAMED_ORDERS: usize = 20_000;
/// The longest `serve` may take to refuse a directory.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(30);

/// A directory with 50 partners and 20,300 acknowledged orders, cleanly
/// stopped twice: `earlier` is a copy of it after the first 300 orders.
async fn populated(dir: &Path, earlier: &Path) {
    let server = start_server(dir).await;
    let mut client = connect(server.local_addr).await;
    create(&mut client, "p0", "").await;
    for i in 1..50 {
        create(&mut client, &format!("p{i}"), &format!("p{}", i / 3)).await;
    }
    let mut volumes = volume_client(server.local_addr).await;
    for i in 0..SINGLE_ORDERS {
        record_ok(
            &mut volumes,
            order(&format!("s{i}"), &format!("p{}", i % 50), "2026-11", "1.5", pb::OrderKind::Retail),
        )
        .await;
    }
    server.shutdown().await.expect("a clean stop");
    copy_dir(dir, earlier);
    let server = start_server(dir).await;
    let mut volumes = volume_client(server.local_addr).await;
    let streamed: Vec<pb::Order> = (0..STREAMED_ORDERS)
        .map(|i| order(&format!("m{i}"), &format!("p{}", i % 50), "2026-11", "2", pb::OrderKind::Retail))
        .collect();
    record_stream(&mut volumes, streamed.chunks(500).map(<[pb::Order]>::to_vec).collect()).await.expect("recorded");
    server.shutdown().await.expect("a clean stop");
}

/// Puts back the database of `earlier` (sled's files) under the current
/// `MANIFEST`: the state sled recovers when it loses the end of its log.
fn roll_back(dir: &Path, earlier: &Path) {
    for entry in std::fs::read_dir(dir).expect("listed") {
        let entry = entry.expect("an entry");
        if entry.file_name() != "MANIFEST" {
            let path = entry.path();
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.expect("removed");
        }
    }
    for entry in std::fs::read_dir(earlier).expect("listed") {
        let entry = entry.expect("an entry");
        if entry.file_name() != "MANIFEST" {
            let target = dir.join(entry.file_name());
            if entry.path().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).expect("copied");
            }
        }
    }
}

fn downline(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downline")).args(args).arg("--data-dir").arg(dir).output().expect("it runs")
}

/// Runs `downline serve` on `dir`, which must exit non-zero before serving;
/// returns its stderr.
fn serve_refuses(dir: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let first_line = std::thread::spawn(move || BufReader::new(stdout).lines().next());
    let deadline = Instant::now() + REFUSAL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not exit on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("piped stderr"), &mut stderr);
    let printed = first_line.join().expect("the reader");
    assert!(!status.success(), "serve must refuse {}: {stderr}", dir.display());
    assert!(printed.is_none(), "serve printed {printed:?} before refusing");
    stderr
}

fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().write(true).open(path).expect("the file");
    file.seek(SeekFrom::Start(at)).expect("seek");
    file.write_all(bytes).expect("written");
}

fn truncate(path: &Path, len: impl FnOnce(u64) -> u64) {
    let file = std::fs::OpenOptions::new().write(true).open(path).expect("the file");
    let size = file.metadata().expect("metadata").len();
    file.set_len(len(size)).expect("truncated");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a copy");
    for entry in std::fs::read_dir(from).expect("listed") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copied");
        }
    }
}

/// Every order and partner, as `verify` prints them.
const INTACT: &str = "50 partners, 20,300 orders";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_data_directory_is_refused_by_serve_and_verify() {
    let files = tempfile::tempdir().expect("a temp dir");
    let base = files.path().join("base");
    let earlier = files.path().join("earlier");
    populated(&base, &earlier).await;
    let intact = downline(&["verify"], &base);
    let said = String::from_utf8_lossy(&intact.stdout);
    assert!(intact.status.success() && said.contains(INTACT), "{said} {}", String::from_utf8_lossy(&intact.stderr));

    type Damage = (&'static str, fn(&Path));
    let damages: [Damage; 7] = [
        ("truncated by 4096 bytes", |d| truncate(&d.join("db"), |n| n.saturating_sub(4096))),
        ("truncated to half", |d| truncate(&d.join("db"), |n| n / 2)),
        ("truncated to 0", |d| truncate(&d.join("db"), |_| 0)),
        ("db deleted", |d| std::fs::remove_file(d.join("db")).expect("deleted")),
        ("8 bytes at offset 100", |d| overwrite(&d.join("db"), 100, b"DAMAGED!")),
        ("4 KiB in the middle", |d| {
            let middle = std::fs::metadata(d.join("db")).expect("db").len() / 2;
            overwrite(&d.join("db"), middle, &[0xA5; 4096]);
        }),
        ("MANIFEST deleted", |d| std::fs::remove_file(d.join("MANIFEST")).expect("deleted")),
    ];
    for (number, (what, damage)) in damages.iter().enumerate() {
        let dir = files.path().join(format!("damage{number}"));
        copy_dir(&base, &dir);
        damage(&dir);
        let named = format!("the data directory {}", dir.display());
        let verified = downline(&["verify"], &dir);
        if verified.status.success() {
            // sled lost nothing (the cut was unused space): then all is there.
            let said = String::from_utf8_lossy(&verified.stdout);
            assert!(said.contains(INTACT), "{what}: verify passed with less: {said}");
            continue;
        }
        let stderr = String::from_utf8_lossy(&verified.stderr);
        assert!(stderr.contains(&named), "{what}: verify must name the directory: {stderr}");
        let refused = serve_refuses(&dir);
        assert!(refused.contains(&named), "{what}: serve must name the directory: {refused}");
        assert!(!refused.contains("panicked at"), "{what}: a panic is not the message: {refused}");
    }

    // An earlier consistent state agrees with its own manifest: only the
    // MANIFEST file outside sled tells it lost acknowledged orders.
    let dir = files.path().join("rolled-back");
    copy_dir(&base, &dir);
    roll_back(&dir, &earlier);
    let expected = format!(
        "the data directory {} is damaged: the MANIFEST file says 20,300 orders, the database holds 300",
        dir.display()
    );
    let verified = downline(&["verify"], &dir);
    assert!(!verified.status.success(), "verify must refuse a rolled-back directory");
    assert!(String::from_utf8_lossy(&verified.stderr).contains(&expected), "{verified:?}");
    assert!(serve_refuses(&dir).contains(&expected));
}

#[test]
fn a_directory_with_data_files_but_no_format_key_is_not_new() {
    let files = tempfile::tempdir().expect("a temp dir");
    let dir = files.path().join("data");
    std::fs::create_dir_all(&dir).expect("a dir");
    std::fs::write(dir.join("notes.txt"), "not sled").expect("a stray file");
    let refused = serve_refuses(&dir);
    assert!(refused.contains("no downline format key"), "{refused}");
    let missing = downline(&["verify"], &files.path().join("nothing"));
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("missing or empty"));
}
