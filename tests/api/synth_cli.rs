//! `downline synth` through the real binary: the files it writes are what
//! `downline import` reads, and a server over the imported directory
//! serves every partner and order of them.

use crate::genealogy_support::get;
use crate::harness::{connect, start_server};
use crate::volume_support::{volume_client, volumes_ok};
use std::process::{Command, Output};

fn downline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_downline")).args(args).output().expect("the binary runs")
}

/// The sum of the non-fee volumes of an orders.csv, in cents: the root's
/// group volume once all of them are imported.
fn volume_cents(orders_csv: &str) -> i64 {
    orders_csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|fields| fields[4] != "fee")
        .map(|fields| {
            let (units, cents) = fields[3].split_once('.').expect("two decimals");
            let value = units.trim_start_matches('-').parse::<i64>().expect("units") * 100
                + cents.parse::<i64>().expect("cents");
            if units.starts_with('-') {
                -value
            } else {
                value
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthesized_files_import_and_serve() {
    let files = tempfile::tempdir().expect("a temp dir");
    let out_dir = files.path().join("net");
    let out_dir = out_dir.to_str().expect("UTF-8");
    let made = downline(&["synth", "--partners", "2000", "--out", out_dir]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let partners_csv = std::fs::read_to_string(format!("{out_dir}/partners.csv")).expect("partners.csv");
    let orders_csv = std::fs::read_to_string(format!("{out_dir}/orders.csv")).expect("orders.csv");
    assert!(partners_csv.starts_with("id,sponsor_id,joined_on\n1,,2021-11-"), "{}", &partners_csv[..60]);
    assert_eq!(partners_csv.lines().count(), 2001);
    let orders = orders_csv.lines().count() - 1;
    assert!(orders > 1000, "about 1.1 orders a partner: {orders}");
    assert_eq!(
        made.stdout,
        format!("wrote 2000 partners to {out_dir}/partners.csv and {orders} orders to {out_dir}/orders.csv\n")
            .into_bytes()
    );

    let data = files.path().join("data");
    let data = data.to_str().expect("UTF-8");
    let (partners, orders_path) = (format!("{out_dir}/partners.csv"), format!("{out_dir}/orders.csv"));
    let imported = downline(&["import", "--data-dir", data, "--partners", &partners, "--orders", &orders_path]);
    let said = String::from_utf8_lossy(&imported.stdout);
    assert!(imported.status.success(), "{said} {}", String::from_utf8_lossy(&imported.stderr));
    assert!(said.contains(&format!("orders: {orders} new")), "{said}");

    let server = start_server(std::path::Path::new(data)).await;
    let mut client = connect(server.local_addr).await;
    let root = get(&mut client, "1").await;
    assert_eq!((root.sponsor_id.as_str(), root.downline_count), ("", 1999));
    let last = partners_csv.lines().last().expect("a last row");
    let fields: Vec<&str> = last.split(',').collect();
    let partner = get(&mut client, fields[0]).await;
    assert_eq!((partner.sponsor_id.as_str(), partner.joined_on.as_str()), (fields[1], fields[2]));
    let mut volumes = volume_client(server.local_addr).await;
    let gv = volumes_ok(&mut volumes, "1", "2026-11").await.gv;
    let cents = volume_cents(&orders_csv);
    assert_eq!(gv, format!("{}.{:02}", cents / 100, cents % 100), "every order's volume reaches the root");
    server.shutdown().await.expect("a clean stop");
}

#[test]
fn synth_refuses_zero_partners_and_a_bad_period() {
    let files = tempfile::tempdir().expect("a temp dir");
    let out_dir = files.path().join("net");
    let out_dir = out_dir.to_str().expect("UTF-8");
    let zero = downline(&["synth", "--partners", "0", "--out", out_dir]);
    assert!(!zero.status.success());
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--partners"));
    let period = downline(&["synth", "--partners", "10", "--out", out_dir, "--period", "2026-13"]);
    assert!(!period.status.success());
    assert!(
        String::from_utf8_lossy(&period.stderr).contains("--period"),
        "{}",
        String::from_utf8_lossy(&period.stderr)
    );
    assert!(!files.path().join("net").exists(), "nothing is written for a bad flag");
}
