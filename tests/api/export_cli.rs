//! `downline export`, the real binary against a real server: its three
//! files hold what the export streams hold (payout.csv: exactly the
//! statements whose payable is above zero), and an error exits non-zero
//! with a message naming the call and the field.

use crate::compensation_api::{comp, run};
use crate::export_api::export_statements;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use std::process::{Command, Output};

const DOWNLINE: &str = env!("CARGO_BIN_EXE_downline");

/// Runs `downline export` with `args` off the async workers.
async fn downline_export(args: Vec<String>) -> Output {
    let run = move || Command::new(DOWNLINE).arg("export").args(args).output().expect("downline runs");
    tokio::task::spawn_blocking(run).await.expect("the command's thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_command_writes_the_streams_and_a_payout_of_the_paid_partners() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let done = run(&mut c, EXAMPLE_PERIOD, false).await;
    let out = tempfile::tempdir().expect("a temp dir");
    let server = format!("http://{}", h.addr);
    let args = ["--server", &server, "--period", EXAMPLE_PERIOD, "--out"].map(str::to_owned);
    let mut args = args.to_vec();
    args.push(out.path().display().to_string());
    let ran = downline_export(args).await;
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let summary = String::from_utf8_lossy(&ran.stdout);
    assert!(summary.contains(&done.run_id) && summary.contains("12 statements"), "{summary}");

    let statements: Vec<pb::Statement> = export_statements(&mut c, &done.run_id)
        .await
        .expect("the statement export")
        .into_iter()
        .flat_map(|m| m.statements)
        .collect();
    let mut want = String::from("partner_id,payable\n");
    for s in statements.iter().filter(|s| s.payable != "0.00") {
        want.push_str(&format!("{},{}\n", s.partner_id, s.payable));
    }
    let payout = std::fs::read_to_string(out.path().join("payout.csv")).expect("payout.csv");
    assert_eq!(payout, want);
    assert_eq!(payout.lines().count(), 1 + 7, "example.md pays seven partners");

    let lines = std::fs::read_to_string(out.path().join("statements.csv")).expect("statements.csv");
    let line_count: usize = statements.iter().map(|s| s.lines.len().max(1)).sum();
    assert_eq!(lines.lines().count(), 1 + line_count, "one row a statement line");
    assert!(
        lines.contains(&format!("{},A,{EXAMPLE_PERIOD},Silver,true,113.70,LEVEL,2,1540.00,0.05,77.00", done.run_id))
    );

    let volumes = std::fs::read_to_string(out.path().join("volumes.csv")).expect("volumes.csv");
    let header = volumes.lines().next().expect("a header");
    assert!(header.starts_with("partner_id,period,pv,rv,gv,lv_1,"), "{header}");
    let ids: Vec<&str> = volumes.lines().skip(1).map(|l| l.split(',').next().unwrap_or("")).collect();
    assert_eq!(ids, EXAMPLE_TREE.map(|(id, _)| id).to_vec(), "every partner, in id order");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_command_fails_with_a_message_naming_the_field() {
    let (h, _v) = example_with_orders().await;
    let out = tempfile::tempdir().expect("a temp dir");
    let server = format!("http://{}", h.addr);
    let dir = out.path().display().to_string();
    let ran =
        downline_export(["--server", &server, "--period", "2031-01", "--out", &dir].map(str::to_owned).to_vec()).await;
    assert!(!ran.status.success());
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(stderr.contains("ExportVolumes failed: NotFound") && stderr.contains("period"), "{stderr}");
    // No finished run: the command says how to get one.
    let ran =
        downline_export(["--server", &server, "--period", EXAMPLE_PERIOD, "--out", &dir].map(str::to_owned).to_vec())
            .await;
    assert!(!ran.status.success());
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(stderr.contains("no finished commission run"), "{stderr}");
    h.stop().await;
}
