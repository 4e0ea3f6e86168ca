//! Backups of a running server and their restore (issue #19), through the
//! real API and the real binary: a 10k network with orders, moves,
//! terminations, a closed period with its official run and an open period
//! restores to a server that answers GetPartner, GetVolumes, GetStatement,
//! ListEvents and ListPeriods exactly as the original; a backup taken while
//! writes go on holds every write acknowledged before it started, and the
//! later ones as a prefix; one backup runs at a time; a damaged, cut or
//! foreign file, and a non-empty directory, restore nothing.

use crate::compensation_api::{comp, run, statement};
use crate::export_api::synthetic_network;
use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use pb::operations_service_client::OperationsServiceClient;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tonic::Code;
use tonic_types::StatusExt;

const DOWNLINE: &str = env!("CARGO_BIN_EXE_downline");
/// The open period after the closed [`EXAMPLE_PERIOD`].
const NEXT_PERIOD: &str = "2026-12";

/// Runs the binary off the async workers.
async fn downline(args: Vec<String>) -> Output {
    let run = move || Command::new(DOWNLINE).args(args).output().expect("downline runs");
    tokio::task::spawn_blocking(run).await.expect("the command's thread")
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

async fn operations(h: &Harness) -> OperationsServiceClient<tonic::transport::Channel> {
    OperationsServiceClient::new(channel(h.addr).await).max_decoding_message_size(64 << 20)
}

/// Everything the API says about `ids`, as text to compare.
async fn answers(addr: std::net::SocketAddr, ids: &[String]) -> Vec<String> {
    let mut c = connect(addr).await;
    let mut v = volume_client(addr).await;
    let mut comp = comp(addr).await;
    let mut out = vec![format!("{:?}", periods(&mut v).await)];
    for id in ids {
        out.push(shown(c.get_partner(pb::GetPartnerRequest { partner_id: id.clone() }).await.map(|r| r.into_inner())));
        out.push(shown(volumes(&mut v, id, EXAMPLE_PERIOD).await));
        out.push(shown(volumes(&mut v, id, NEXT_PERIOD).await));
        out.push(shown(statement(&mut comp, id, "", EXAMPLE_PERIOD).await));
        out.push(format!("{:?}", events_all(&mut c, id, 50).await));
    }
    out
}

/// An answer as text: a refusal by its code and message only (its
/// metadata carries the HTTP date, which differs between two servers
/// asked across a second's boundary).
fn shown<T: std::fmt::Debug>(answer: Result<T, tonic::Status>) -> String {
    match answer {
        Ok(value) => format!("Ok({value:?})"),
        Err(status) => format!("Err({:?}: {})", status.code(), status.message()),
    }
}

/// A 10k network with a closed period (and its official run), moves,
/// terminations and orders of the open period; the ids to compare.
async fn busy_network(h: &mut Harness) -> Vec<String> {
    let ids = synthetic_network(h, 10_000).await;
    let mut c = comp(h.addr).await;
    let official = run(&mut c, EXAMPLE_PERIOD, false).await;
    assert_eq!(official.state, pb::RunState::Succeeded as i32, "{official:?}");
    let mut v = volume_client(h.addr).await;
    close(&mut v, EXAMPLE_PERIOD).await.expect("the close");
    for moved in [&ids[500], &ids[600], &ids[7000]] {
        move_partner(&mut h.client, moved, &ids[0], "backup test").await.expect("a move");
    }
    for (n, id) in ids.iter().step_by(50).enumerate() {
        record_ok(&mut v, order(&format!("next-{n}"), id, NEXT_PERIOD, "12.5000", pb::OrderKind::Retail)).await;
    }
    for gone in [&ids[801], &ids[9000]] {
        set_status(&mut h.client, gone, pb::PartnerStatus::Terminated, "backup test").await.expect("terminated");
    }
    let dry = run(&mut c, NEXT_PERIOD, true).await;
    assert_eq!(dry.state, pb::RunState::Succeeded as i32, "{dry:?}");
    let mut sample: Vec<String> = ids.iter().step_by(97).cloned().collect();
    sample.extend([500, 600, 7000, 801, 9000, 0].map(|i| ids[i].clone()));
    sample
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_10k_network_answers_exactly_as_the_original() {
    let mut h = Harness::new().await;
    let sample = busy_network(&mut h).await;
    let before = answers(h.addr, &sample).await;
    let work = tempfile::tempdir().expect("a temp dir");
    let file = work.path().join("store.dlbackup");
    let server = format!("http://{}", h.addr);
    let backed = downline(args(&["backup", "--server", &server, "--out", &path_arg(&file)])).await;
    assert!(backed.status.success(), "{}", String::from_utf8_lossy(&backed.stderr));
    assert!(String::from_utf8_lossy(&backed.stdout).contains("backed up 10000 partners"), "{backed:?}");
    assert!(!PathBuf::from(format!("{}.partial", file.display())).exists(), "the partial file is renamed");
    h.stop().await;

    let restored = work.path().join("restored");
    let ran = downline(args(&["restore", "--data-dir", &path_arg(&restored), &path_arg(&file)])).await;
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let server = start_server(&restored).await;
    assert_eq!(server.recovered_partners, 10_000);
    assert_eq!(answers(server.local_addr, &sample).await, before, "the restored server answers the same");
    // The restored server takes writes and survives a restart.
    let mut c = connect(server.local_addr).await;
    create(&mut c, "after-restore", &sample[0]).await;
    server.shutdown().await.expect("a clean shutdown");
    let again = start_server(&restored).await;
    assert_eq!(again.recovered_partners, 10_001);
    again.shutdown().await.expect("a clean shutdown");
}

/// Reads BackupStore to its end into one file; the last message.
async fn finish_backup(
    stream: &mut tonic::Streaming<pb::BackupStoreResponse>,
    file: &mut Vec<u8>,
) -> pb::BackupStoreResponse {
    while let Some(message) = stream.message().await.expect("a piece") {
        file.extend_from_slice(&message.data);
        if message.last {
            return message;
        }
    }
    panic!("the backup ended before its last piece");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_holds_the_acknowledged_writes_as_a_prefix() {
    let limits = Limits { backup_piece_bytes: 256, ..Limits::default() };
    let mut h = Harness::with_limits(limits).await;
    sample_tree(&mut h.client).await;
    for n in 0..300 {
        create(&mut h.client, &format!("before-{n}"), "").await;
    }
    let mut ops = operations(&h).await;
    let mut stream = ops.backup_store(pb::BackupStoreRequest {}).await.expect("a backup").into_inner();
    let mut file = Vec::new();
    let first = stream.message().await.expect("a piece").expect("the first piece");
    assert!(!first.last && first.estimated_total_bytes > 0, "{first:?}");
    file.extend_from_slice(&first.data);
    // Writes while the copy is paused part-way (the client reads slowly):
    // each is acknowledged before the next piece is read.
    let mut acknowledged = Vec::new();
    for n in 0..40 {
        let id = format!("during-{n:02}");
        create(&mut h.client, &id, "before-0").await;
        acknowledged.push(id);
        if let Some(piece) = stream.message().await.expect("a piece") {
            file.extend_from_slice(&piece.data);
            assert!(!piece.last, "the copy outlasts the writes (pieces of 256 bytes)");
        }
    }
    let last = finish_backup(&mut stream, &mut file).await;
    assert!(last.corrections > 0, "keys changed during the copy were written again: {last:?}");
    assert_eq!(last.total_bytes, file.len() as u64);
    h.stop().await;

    let work = tempfile::tempdir().expect("a temp dir");
    let path = work.path().join("during.dlbackup");
    std::fs::write(&path, &file).expect("the file");
    let restored = work.path().join("restored");
    let ran = downline(args(&["restore", "--data-dir", &path_arg(&restored), &path_arg(&path)])).await;
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let server = start_server(&restored).await;
    let mut c = connect(server.local_addr).await;
    for n in 0..300 {
        get(&mut c, &format!("before-{n}")).await;
    }
    let held: Vec<bool> = known(&mut c, &acknowledged).await;
    let k = held.iter().take_while(|&&found| found).count();
    assert!(held[k..].iter().all(|&found| !found), "the writes it holds are a prefix: {held:?}");
    assert_eq!(server.recovered_partners as u64, last.partners);
    server.shutdown().await.expect("a clean shutdown");
}

/// Whether each of `ids` is known.
async fn known(c: &mut Client, ids: &[String]) -> Vec<bool> {
    let mut found = Vec::new();
    for id in ids {
        let answer = c.get_partner(pb::GetPartnerRequest { partner_id: id.clone() }).await;
        match answer {
            Ok(_) => found.push(true),
            Err(status) if status.code() == Code::NotFound => found.push(false),
            Err(status) => panic!("{status:?}"),
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_backup_runs_at_a_time_and_a_dropped_one_frees_its_turn() {
    let limits = Limits { backup_piece_bytes: 256, ..Limits::default() };
    let h = Harness::with_limits(limits).await;
    let mut c = connect(h.addr).await;
    sample_tree(&mut c).await;
    for n in 0..100 {
        create(&mut c, &format!("more-{n}"), "root").await;
    }
    let mut ops = operations(&h).await;
    let mut first = ops.backup_store(pb::BackupStoreRequest {}).await.expect("a backup").into_inner();
    first.message().await.expect("a piece").expect("the first piece");
    let refused = expect_err(
        ops.backup_store(pb::BackupStoreRequest {}).await,
        Code::ResourceExhausted,
        &["a backup is running"],
    );
    let retry = refused.get_details_retry_info().expect("RetryInfo");
    assert!(retry.retry_delay.is_some_and(|d| d.as_secs() > 0), "{retry:?}");
    drop(first);
    let mut file = Vec::new();
    for _ in 0..200 {
        match ops.backup_store(pb::BackupStoreRequest {}).await {
            Ok(stream) => {
                let last = finish_backup(&mut stream.into_inner(), &mut file).await;
                assert!(last.partners > 0);
                return h.stop().await;
            }
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
    panic!("the dropped backup never freed its turn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_cut_or_foreign_file_and_a_non_empty_directory_restore_nothing() {
    let h = Harness::new().await;
    let mut c = connect(h.addr).await;
    sample_tree(&mut c).await;
    let work = tempfile::tempdir().expect("a temp dir");
    let good = work.path().join("good.dlbackup");
    let server = format!("http://{}", h.addr);
    let backed = downline(args(&["backup", "--server", &server, "--out", &path_arg(&good)])).await;
    assert!(backed.status.success(), "{}", String::from_utf8_lossy(&backed.stderr));
    let again = downline(args(&["backup", "--server", &server, "--out", &path_arg(&good)])).await;
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("the file exists"));
    h.stop().await;

    let bytes = std::fs::read(&good).expect("the backup");
    let mut flipped = bytes.clone();
    flipped[bytes.len() - 10] ^= 0x10;
    let mut flipped_length = bytes.clone();
    // The first frame's key length: the file now seems to end early.
    flipped_length[16] ^= 0x10;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("flipped", flipped, "is damaged: its SHA-256 checksum does not match"),
        ("flipped-length", flipped_length, "damaged"),
        ("cut", bytes[..bytes.len() - 40].to_vec(), "is truncated or damaged"),
        ("foreign", b"PK\x03\x04 not a backup at all".to_vec(), "is not a downline backup"),
    ];
    for (name, contents, needle) in cases {
        let file = work.path().join(format!("{name}.dlbackup"));
        std::fs::write(&file, contents).expect("a bad file");
        let dir = work.path().join(format!("restored-{name}"));
        let ran = downline(args(&["restore", "--data-dir", &path_arg(&dir), &path_arg(&file)])).await;
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(!ran.status.success() && stderr.contains(needle), "{name}: {stderr}");
        assert!(!dir.exists(), "{name}: nothing is left behind");
    }
    let occupied = work.path().join("occupied");
    std::fs::create_dir(&occupied).expect("a dir");
    std::fs::write(occupied.join("keep.txt"), "mine").expect("a file");
    let ran = downline(args(&["restore", "--data-dir", &path_arg(&occupied), &path_arg(&good)])).await;
    assert!(!ran.status.success() && String::from_utf8_lossy(&ran.stderr).contains("is not empty"), "{ran:?}");
    assert_eq!(std::fs::read_to_string(occupied.join("keep.txt")).expect("untouched"), "mine");
}
