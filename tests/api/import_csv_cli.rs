//! `downline import` reads RFC 4180 CSV through the real binary: quoted
//! fields with commas and doubled quotes, CRLF line ends, a byte-order mark
//! and a quoted header; a row it cannot read names its row, line and
//! column; a failed import removes the data directory it made, never one
//! that was there before.

use crate::genealogy_support::get;
use crate::harness::{connect, start_server};
use crate::import_cli::import;
use crate::volume_support::{volume_client, volumes_ok};
use std::path::Path;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("a temp file");
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// A byte-order mark, a quoted header, CRLF, a comma and doubled quotes
/// inside quoted names.
const PARTNERS: &str = "\u{feff}\"id\",\"sponsor_id\",\"joined_on\",\"display_name\"\r\n\
    Q1,,2026-01-01,\"Smith, John\"\r\n\
    Q2,Q1,2026-01-02,\"Ann \"\"the Boss\"\" Lee\"\r\n\
    Q3,Q1,2026-01-03,\r\n";
const ORDERS: &str = "order_id,partner_id,period,volume,kind\r\n\"o-1\",Q2,2026-11,\"60.00\",retail\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoted_fields_crlf_and_a_byte_order_mark_are_read() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = files.path().join("data");
    let partners = write(files.path(), "p.csv", PARTNERS.as_bytes());
    let orders = write(files.path(), "o.csv", ORDERS.as_bytes());
    let out = import(&data, &["--partners", &partners, "--orders", &orders]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 new, 0 unchanged"));

    let server = start_server(&data).await;
    let mut client = connect(server.local_addr).await;
    assert_eq!(get(&mut client, "Q1").await.display_name, "Smith, John");
    let q2 = get(&mut client, "Q2").await;
    assert_eq!((q2.display_name.as_str(), q2.sponsor_id.as_str()), ("Ann \"the Boss\" Lee", "Q1"));
    assert_eq!(get(&mut client, "Q3").await.display_name, "");
    let mut volumes = volume_client(server.local_addr).await;
    assert_eq!(volumes_ok(&mut volumes, "Q1", "2026-11").await.gv, "60.00");
    server.shutdown().await.expect("a clean stop");
}

/// Runs a failing import into a new directory; answers its stderr.
fn refused(files: &Path, name: &str, partners: &[u8]) -> String {
    let data = files.join(format!("data-{name}"));
    let path = write(files, name, partners);
    let out = import(&data, &["--partners", &path]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && said.contains("nothing was imported"), "{said}");
    assert!(!data.exists(), "the failed import left {} behind: {said}", data.display());
    said
}

#[test]
fn a_row_it_cannot_read_names_row_line_and_column() {
    let files = tempfile::tempdir().expect("a temp dir");
    let header = "id,sponsor_id,joined_on\n";
    let extra = refused(files.path(), "extra.csv", format!("{header}a,,2026-01-01\nb,a,2026-01-01,x\n").as_bytes());
    assert!(extra.contains("line 3") && extra.contains("row 2.columns") && extra.contains("4 columns"), "{extra}");
    let short = refused(files.path(), "short.csv", format!("{header}a,,2026-01-01\r\nb,a\r\n").as_bytes());
    assert!(short.contains("line 3") && short.contains("row 2.joined_on") && short.contains("missing"), "{short}");
    let mut bytes = format!("{header}a,,2026-01-01\nb,").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe,2026-01-01\n");
    let utf8 = refused(files.path(), "utf8.csv", &bytes);
    assert!(utf8.contains("line 3") && utf8.contains("row 2.sponsor_id"), "{utf8}");
    // A quoted line break is read as part of the name, which refuses it.
    let spanning = "id,sponsor_id,joined_on,display_name\na,,2026-01-01,\"two\nlines\"\n";
    let broken = refused(files.path(), "spanning.csv", spanning.as_bytes());
    assert!(broken.contains("line 2") && broken.contains("row 1.display_name"), "{broken}");
}

#[test]
fn a_failed_import_keeps_a_directory_that_existed() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = files.path().join("data");
    let good = write(files.path(), "good.csv", b"id,sponsor_id,joined_on\na,,2026-01-01\n");
    assert!(import(&data, &["--partners", &good]).status.success());
    let bad = write(files.path(), "bad.csv", b"id,sponsor_id,joined_on\nb,zz,2026-01-01\n");
    let out = import(&data, &["--partners", &bad]);
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.exists(), "a data directory that existed before the import is kept");
    let again = import(&data, &["--partners", &good]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 new, 1 unchanged"), "a is still there");

    let empty = files.path().join("empty");
    std::fs::create_dir(&empty).expect("an empty dir");
    assert!(!import(&empty, &["--partners", &bad]).status.success());
    assert!(empty.exists(), "an empty directory made by the user is kept");
}
