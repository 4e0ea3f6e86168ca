//! `downline import` through the real binary: partners whose sponsors come
//! after their recruits and orders load into a data directory, a server
//! started on it serves them, a bad row imports nothing, and running the
//! same import again changes nothing.

use crate::genealogy_support::get;
use crate::harness::{connect, start_server};
use crate::volume_support::{volume_client, volumes_ok};
use std::path::Path;
use std::process::{Command, Output};

/// Runs `downline import --data-dir DIR ARGS...` to its end.
pub fn import(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downline"))
        .arg("import")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a temp file");
    path.to_str().expect("a UTF-8 path").to_owned()
}

const PARTNERS: &str = "id,sponsor_id,joined_on\nc,b,2026-03-01\nb,a,2026-02-01\na,,2026-01-01\nd,a,2026-04-01\n";
const ORDERS: &str =
    "order_id,partner_id,period,volume,kind\n1,c,2026-11,60.00,retail\n2,b,2026-11,10.5,self\n3,d,2026-11,49.00,fee\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_partners_and_orders_are_served() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = files.path().join("data");
    let (partners, orders) = (write(files.path(), "p.csv", PARTNERS), write(files.path(), "o.csv", ORDERS));
    let out = import(&data, &["--partners", &partners, "--orders", &orders]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = import(&data, &["--partners", &partners, "--orders", &orders]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success() && said.contains("0 new, 4 unchanged") && said.contains("0 new, 3 unchanged"),
        "{said}"
    );

    let server = start_server(&data).await;
    let mut client = connect(server.local_addr).await;
    let c = get(&mut client, "c").await;
    assert_eq!((c.sponsor_id.as_str(), c.depth, c.joined_on.as_str()), ("b", 2, "2026-03-01"));
    let a = get(&mut client, "a").await;
    assert_eq!((a.frontline_count, a.downline_count), (2, 3));
    let mut volumes = volume_client(server.local_addr).await;
    let a = volumes_ok(&mut volumes, "a", "2026-11").await;
    // b (10.50) is inactive, so compression lifts c (60.00) to a's level 1.
    assert_eq!((a.gv.as_str(), a.levels[0].volume.as_str(), a.levels[1].volume.as_str()), ("70.50", "70.50", "0.00"));
    let d = volumes_ok(&mut volumes, "d", "2026-11").await;
    assert_eq!(d.pv, "0.00", "a fee is never volume");
    server.shutdown().await.expect("a clean stop");
}

#[test]
fn a_bad_row_imports_nothing() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = files.path().join("data");
    let bad = write(files.path(), "bad.csv", "id,sponsor_id,joined_on\na,,2026-01-01\nb,zz,2026-01-01\n");
    let out = import(&data, &["--partners", &bad]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("row 2.sponsor_id") && said.contains("nothing was imported"),
        "{said}"
    );
    let good = write(files.path(), "good.csv", "id,sponsor_id,joined_on\na,,2026-01-01\n");
    let out = import(&data, &["--partners", &good]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("1 new, 0 unchanged"), "a was not imported before: {said}");
    let header = write(files.path(), "header.csv", "id,sponsor,joined_on\n");
    let out = import(&data, &["--partners", &header]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("header"));
}
