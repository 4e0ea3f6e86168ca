//! Commission runs of open periods survive a restart, and
//! DeleteCommissionRun (issue #17), through the real API: a server holding
//! a dry run and a real run (taken after a move, so the network's change
//! count is part of their freshness) answers GetCommissionRun,
//! GetStatement (by run and by period) and ListStatements exactly the same
//! after a restart, and closes with the restored real run as its official
//! run; DeleteCommissionRun deletes a dry run (its share of the job memory
//! comes back, and it stays deleted after a restart), and refuses a running
//! run, a real run, an official run, an unknown and a malformed id.

use crate::compensation_api::{comp, run};
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::server::RunningServer;
use pb::compensation_service_client::CompensationServiceClient;
use std::path::Path;
use tonic::transport::Channel;
use tonic::Code;

type Comp = CompensationServiceClient<Channel>;

/// example.md's network with its orders, and a move (B under D) first.
async fn example_moved(dir: &Path) -> (RunningServer, Comp) {
    let server = start_server(dir).await;
    let mut c = connect(server.local_addr).await;
    example_tree(&mut c).await;
    let mut v = volume_client(server.local_addr).await;
    for o in example_orders(EXAMPLE_PERIOD) {
        record_ok(&mut v, o).await;
    }
    let request = pb::MovePartnerRequest { partner_id: "B".into(), new_sponsor_id: "D".into(), ..Default::default() };
    c.move_partner(request).await.expect("a move");
    let comp = comp(server.local_addr).await;
    (server, comp)
}

async fn restart(server: RunningServer, dir: &Path) -> (RunningServer, Comp) {
    server.shutdown().await.expect("a clean shutdown");
    let server = start_server(dir).await;
    let comp = comp(server.local_addr).await;
    (server, comp)
}

/// Every answer about a run: the run, each partner's statement, every page
/// of ListStatements (pages of 5, so the page tokens are used).
async fn answers(c: &mut Comp, run_id: &str) -> Vec<String> {
    let run = c.get_commission_run(pb::GetCommissionRunRequest { run_id: run_id.into() }).await;
    let mut out = vec![format!("{:?}", run.map(tonic::Response::into_inner))];
    for id in EXAMPLE_IDS {
        let request = pb::GetStatementRequest { partner_id: id.into(), run_id: run_id.into(), ..Default::default() };
        out.push(format!("{:?}", c.get_statement(request).await.map(tonic::Response::into_inner)));
    }
    let mut page_token = String::new();
    loop {
        let request = pb::ListStatementsRequest { run_id: run_id.into(), page_size: 5, page_token };
        let page = c.list_statements(request).await.expect("a page").into_inner();
        out.push(format!("{:?}", page.statements));
        if page.next_page_token.is_empty() {
            return out;
        }
        page_token = page.next_page_token;
    }
}

/// Each partner's statement of the period (its latest real run while open).
async fn period_statements(c: &mut Comp) -> Vec<String> {
    let mut out = Vec::new();
    for id in EXAMPLE_IDS {
        let request =
            pb::GetStatementRequest { partner_id: id.into(), period: EXAMPLE_PERIOD.into(), ..Default::default() };
        out.push(format!("{:?}", c.get_statement(request).await.map(tonic::Response::into_inner)));
    }
    out
}

async fn delete(c: &mut Comp, run_id: &str) -> Result<(), tonic::Status> {
    c.delete_commission_run(pb::DeleteCommissionRunRequest { run_id: run_id.into() }).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_and_a_real_run_answer_the_same_after_a_restart_and_the_real_one_closes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (server, mut c) = example_moved(dir.path()).await;
    let real = run(&mut c, EXAMPLE_PERIOD, false).await;
    let dry = run(&mut c, EXAMPLE_PERIOD, true).await;
    assert_eq!((real.state, dry.state), (pb::RunState::Succeeded as i32, pb::RunState::Succeeded as i32));
    let before = (answers(&mut c, &real.run_id).await, answers(&mut c, &dry.run_id).await);
    let by_period = period_statements(&mut c).await;
    assert!(before.0[1].contains("Ok("), "statements are served: {}", before.0[1]);

    let (server, mut c) = restart(server, dir.path()).await;
    assert_eq!(answers(&mut c, &real.run_id).await, before.0, "the real run after a restart");
    assert_eq!(answers(&mut c, &dry.run_id).await, before.1, "the dry run after a restart");
    assert_eq!(period_statements(&mut c).await, by_period, "the period's statements after a restart");
    let (server, mut c) = restart(server, dir.path()).await;
    assert_eq!(answers(&mut c, &dry.run_id).await, before.1, "the same after a second restart");

    // The restored real run is fresh (its change count came back): it closes.
    let mut v = volume_client(server.local_addr).await;
    close(&mut v, EXAMPLE_PERIOD).await.expect("the period closes with the restored run");
    let official = c.get_commission_run(pb::GetCommissionRunRequest { run_id: real.run_id.clone() }).await;
    let official = official.expect("the official run").into_inner();
    assert!(official.official && official.payable_total == real.payable_total, "{official:?}");
    assert_eq!(period_statements(&mut c).await, by_period, "the official statements equal the run's");
    let closed = (answers(&mut c, &real.run_id).await, answers(&mut c, &dry.run_id).await);
    let (server, mut c) = restart(server, dir.path()).await;
    assert_eq!((answers(&mut c, &real.run_id).await, answers(&mut c, &dry.run_id).await), closed, "after the close");
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_commission_run_deletes_dry_runs_only() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (server, mut c) = example_moved(dir.path()).await;
    expect_err(delete(&mut c, "").await, Code::InvalidArgument, &["run_id"]);
    expect_err(delete(&mut c, "2026-11-00000000-9").await, Code::NotFound, &["run_id", "2026-11-00000000-9"]);
    let real = run(&mut c, EXAMPLE_PERIOD, false).await;
    let dry = run(&mut c, EXAMPLE_PERIOD, true).await;
    expect_err(
        delete(&mut c, &real.run_id).await,
        Code::FailedPrecondition,
        &["run_id", &real.run_id, "not a dry run"],
    );

    // A running run is refused (the hook holds it before its body).
    server.app().job_hooks().hold_next_job();
    let held = c.start_commission_run(pb::StartCommissionRunRequest { period: EXAMPLE_PERIOD.into(), dry_run: true });
    let held = held.await.expect("a run starts").into_inner();
    expect_err(delete(&mut c, &held.run_id).await, Code::FailedPrecondition, &["run_id", "still running"]);
    server.app().job_hooks().release_held_jobs();

    let in_use = server.app().jobs.budget_bytes().1;
    delete(&mut c, &dry.run_id).await.expect("a dry run is deleted");
    assert!(server.app().jobs.budget_bytes().1 < in_use, "its share of the budget came back");
    let gone = c.get_commission_run(pb::GetCommissionRunRequest { run_id: dry.run_id.clone() }).await;
    expect_err(gone, Code::NotFound, &["run_id", &dry.run_id]);
    expect_err(delete(&mut c, &dry.run_id).await, Code::NotFound, &["run_id"]);

    let (server, mut c) = restart(server, dir.path()).await;
    let gone = c.get_commission_run(pb::GetCommissionRunRequest { run_id: dry.run_id.clone() }).await;
    expect_err(gone, Code::NotFound, &["run_id", &dry.run_id]);
    let mut v = volume_client(server.local_addr).await;
    close(&mut v, EXAMPLE_PERIOD).await.expect("the period closes");
    expect_err(delete(&mut c, &real.run_id).await, Code::FailedPrecondition, &["run_id", &real.run_id, "official"]);
    server.shutdown().await.expect("a clean shutdown");
}
