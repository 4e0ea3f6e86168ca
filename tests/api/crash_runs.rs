//! Crash test of commission runs through the real server binary (issue
//! #17): a run cut by SIGKILL is FAILED after the restart, with its reason,
//! and the runs that finished before it answer exactly as before.
//!
//! A network of 200,000 partners is imported offline, so a run computes
//! long enough for the kill, sent as soon as StartCommissionRun answered
//! (which it does once the run's start is durable), to land while it
//! computes. Should a run still finish first on a fast machine, it must be
//! SUCCEEDED and intact, and the test tries again (at most 3 times); it
//! fails if no attempt cut a run. No timer decides an assertion.

use crate::crash_support::{connect_channel, Server};
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tonic::transport::Channel;

type Comp = CompensationServiceClient<Channel>;

const PARTNERS: usize = 200_000;
const PERIOD: &str = "2031-03";
const RPC_TIMEOUT: Duration = Duration::from_secs(30);
const ATTEMPTS: usize = 3;

/// A ternary tree of `PARTNERS` and an order for every seventh partner,
/// imported offline with `downline import`.
fn import(dir: &Path) -> std::path::PathBuf {
    let (mut partners, mut orders) =
        (String::from("id,sponsor_id,joined_on\n"), String::from("order_id,partner_id,period,volume,kind\n"));
    for i in 0..PARTNERS {
        let sponsor = if i == 0 { String::new() } else { format!("p{}", (i - 1) / 3) };
        let _ = writeln!(partners, "p{i},{sponsor},2030-01-01");
        if i % 7 == 0 {
            let kind = if i % 2 == 0 { "retail" } else { "self" };
            let _ = writeln!(orders, "o{i},p{i},{PERIOD},{}.00,{kind}", 20 + i % 90);
        }
    }
    let (p, o) = (dir.join("partners.csv"), dir.join("orders.csv"));
    std::fs::write(&p, partners).expect("partners.csv");
    std::fs::write(&o, orders).expect("orders.csv");
    let data = dir.join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_downline"))
        .arg("import")
        .arg("--data-dir")
        .arg(&data)
        .arg("--partners")
        .arg(&p)
        .arg("--orders")
        .arg(&o)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data
}

async fn client(server: &Server) -> Comp {
    CompensationServiceClient::new(connect_channel(&server.url, RPC_TIMEOUT).await)
}

async fn start(c: &mut Comp, dry_run: bool) -> String {
    let request = pb::StartCommissionRunRequest { period: PERIOD.into(), dry_run };
    c.start_commission_run(request).await.expect("a run starts").into_inner().run_id
}

async fn get(c: &mut Comp, run_id: &str) -> pb::CommissionRun {
    c.get_commission_run(pb::GetCommissionRunRequest { run_id: run_id.into() }).await.expect("the run").into_inner()
}

/// Polls a run until it is no longer RUNNING (at most 60 s).
async fn finished(c: &mut Comp, run_id: &str) -> pb::CommissionRun {
    for _ in 0..6000 {
        let run = get(c, run_id).await;
        if run.state != pb::RunState::Running as i32 {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("run {run_id} does not finish");
}

/// A run and the first page of its statements.
async fn answers(c: &mut Comp, run_id: &str) -> (pb::CommissionRun, pb::ListStatementsResponse) {
    let request = pb::ListStatementsRequest { run_id: run_id.into(), page_size: 500, page_token: String::new() };
    let page = c.list_statements(request).await.expect("statements").into_inner();
    (get(c, run_id).await, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_by_sigkill_is_failed_after_a_restart_and_earlier_runs_are_intact() {
    let files = tempfile::tempdir().expect("a temp dir");
    let data = import(files.path());
    let mut server = Server::start(&data);
    let mut c = client(&server).await;
    let (dry, real) = (start(&mut c, true).await, start(&mut c, false).await);
    for id in [&dry, &real] {
        assert_eq!(finished(&mut c, id).await.state, pb::RunState::Succeeded as i32, "run {id}");
    }
    let before = (answers(&mut c, &dry).await, answers(&mut c, &real).await);
    assert_eq!(before.0 .1.statements.len(), 500, "a page of statements");

    let mut cut = None;
    for _ in 0..ATTEMPTS {
        let run_id = start(&mut c, true).await;
        server.kill();
        server = Server::start(&data);
        c = client(&server).await;
        assert_eq!((answers(&mut c, &dry).await, answers(&mut c, &real).await), before, "earlier runs intact");
        let after = get(&mut c, &run_id).await;
        if after.state == pb::RunState::Succeeded as i32 {
            // It finished before the kill: stored whole, so served.
            answers(&mut c, &run_id).await;
            continue;
        }
        assert_eq!(after.state, pb::RunState::Failed as i32, "{after:?}");
        assert!(after.error.contains("the server stopped while this run computed"), "{}", after.error);
        cut = Some(run_id);
        break;
    }
    let cut = cut.expect("a SIGKILL landed while a run computed");
    // The reason stays after another (clean) restart, and new runs go on.
    server.kill();
    let server = Server::start(&data);
    let mut c = client(&server).await;
    assert_eq!(get(&mut c, &cut).await.state, pb::RunState::Failed as i32);
    let next = start(&mut c, true).await;
    assert_eq!(finished(&mut c, &next).await.state, pb::RunState::Succeeded as i32);
}
