//! The registry of background jobs through the real API (issue #16): one
//! memory budget (a job that does not fit is RESOURCE_EXHAUSTED naming the
//! budget, with RetryInfo, and changes nothing; the budget comes back when
//! a job ends; a finished run keeps a share for its statements), the
//! shutdown (no new job, a grace period for the running ones, then
//! cancelled; acknowledged writes survive) and a panicking job (FAILED with
//! its reason, the server goes on). The test hooks (`App::job_hooks`) hold
//! a job before its body, so nothing here waits on a timer to synchronise.

use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use downline::server::RunningServer;
use downline::service::limits::Limits;
use pb::compensation_service_client::CompensationServiceClient;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

type Comp = CompensationServiceClient<Channel>;

/// example.md's network and orders on a server with `limits`.
async fn example(dir: &Path, limits: Limits) -> (RunningServer, Comp, VolumeClient) {
    let server = start_server_with(dir, limits).await;
    let mut c = connect(server.local_addr).await;
    example_tree(&mut c).await;
    let mut v = volume_client(server.local_addr).await;
    for o in example_orders(EXAMPLE_PERIOD) {
        record_ok(&mut v, o).await;
    }
    let comp = CompensationServiceClient::new(channel(server.local_addr).await);
    (server, comp, v)
}

async fn start_run(c: &mut Comp) -> Result<String, tonic::Status> {
    let request = pb::StartCommissionRunRequest { period: EXAMPLE_PERIOD.into(), dry_run: false };
    c.start_commission_run(request).await.map(|r| r.into_inner().run_id)
}

async fn get_run(c: &mut Comp, run_id: &str) -> pb::CommissionRun {
    c.get_commission_run(pb::GetCommissionRunRequest { run_id: run_id.into() })
        .await
        .expect("GetCommissionRun")
        .into_inner()
}

/// Polls a run until it is no longer RUNNING (at most 30 s).
async fn wait_run(c: &mut Comp, run_id: &str) -> pb::CommissionRun {
    for _ in 0..6000 {
        let run = get_run(c, run_id).await;
        if run.state != pb::RunState::Running as i32 {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("run {run_id} does not finish");
}

async fn start_recalculation(v: &mut VolumeClient) -> Result<String, tonic::Status> {
    let request = pb::RecalculateVolumesRequest { period: EXAMPLE_PERIOD.into() };
    v.recalculate_volumes(request).await.map(|op| op.into_inner().name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_over_the_memory_budget_is_refused_naming_it_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, mut c, mut v) = example(dir.path(), Limits { job_memory_bytes: 256, ..Limits::default() }).await;
    let needles = ["period: this commission run needs", "job memory budget of 1 KiB (--job-memory-mb)", "0 KiB of it"];
    let refused = expect_err(start_run(&mut c).await, Code::ResourceExhausted, &needles);
    assert_eq!(crate::details_support::retry_delay(&refused), Duration::from_secs(10), "the job budget's delay");
    expect_err(start_recalculation(&mut v).await, Code::ResourceExhausted, &["this recalculation needs"]);
    // Nothing started: no run of the period, nothing reserved.
    let statement =
        pb::GetStatementRequest { partner_id: "A".into(), run_id: String::new(), period: EXAMPLE_PERIOD.into() };
    expect_err(c.get_statement(statement).await, Code::NotFound, &["no finished commission run"]);
    assert_eq!(server.app().jobs.budget_bytes().1, 0);
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_comes_back_when_a_job_ends_and_a_finished_run_keeps_its_share() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, mut c, mut v) = example(dir.path(), Limits::default()).await;
    let (app, mut o) = (Arc::clone(server.app()), operations_client(server.local_addr).await);
    app.job_hooks().hold_next_job();
    let first = start_recalculation(&mut v).await.expect("the first recalculation starts");
    let needed = app.jobs.budget_bytes().1;
    assert!(needed > 0, "a running job holds its estimate");
    // Room for one recalculation, not two.
    app.jobs.set_budget_bytes(needed + needed / 2);
    expect_err(start_recalculation(&mut v).await, Code::ResourceExhausted, &["this recalculation needs", "1 running"]);
    app.job_hooks().release_held_jobs();
    assert!(matches!(wait_operation(&mut o, &first).await.result, Some(pb::operation::Result::Recalculation(_))));
    assert_eq!(app.jobs.budget_bytes().1, 0, "a finished recalculation keeps nothing");
    let second = start_recalculation(&mut v).await.expect("the budget came back: the second one starts");
    wait_operation(&mut o, &second).await;

    // A run keeps a share for its statements while it is remembered.
    app.jobs.set_budget_bytes(u64::MAX);
    app.job_hooks().hold_next_job();
    let run_id = start_run(&mut c).await.expect("a run starts");
    let peak = app.jobs.budget_bytes().1;
    app.job_hooks().release_held_jobs();
    assert_eq!(wait_run(&mut c, &run_id).await.state, pb::RunState::Succeeded as i32);
    let kept = app.jobs.budget_bytes().1;
    assert!(kept > 0 && kept < peak, "kept {kept} of {peak}");
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_refuses_new_jobs_and_lets_a_running_one_finish_within_its_grace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits { job_grace: Duration::from_secs(600), ..Limits::default() };
    let (server, mut c, _v) = example(dir.path(), limits).await;
    let app = Arc::clone(server.app());
    let mut health = HealthClient::new(channel(server.local_addr).await);
    let mut watch = health.watch(HealthCheckRequest::default()).await.expect("Watch").into_inner();
    assert_eq!(watch.message().await.expect("a status").expect("a status").status(), ServingStatus::Serving);
    app.job_hooks().hold_next_job();
    let run_id = start_run(&mut c).await.expect("a run starts");

    let stopped = tokio::spawn(server.shutdown());
    let draining = watch.message().await.expect("a status").expect("a status");
    assert_eq!(draining.status(), ServingStatus::NotServing);
    // Still serving while the job has its grace, but starting nothing.
    expect_err(start_run(&mut c).await, Code::Unavailable, &["shutting down", "starts no new commission run"]);
    assert_eq!(get_run(&mut c, &run_id).await.state, pb::RunState::Running as i32);
    // An open Watch would hold the calls' drain up to its deadline.
    drop((watch, health));
    app.job_hooks().release_held_jobs();
    stopped.await.expect("the shutdown task").expect("a clean shutdown");
    let job = app.jobs.get(downline::app::jobs::JobKind::CommissionRun, &run_id).expect("the run");
    assert!(job.run_result().is_some(), "the run finished within its grace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_cancels_a_job_past_its_grace_and_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits { job_grace: Duration::from_millis(50), ..Limits::default() };
    let (server, mut c, mut v) = example(dir.path(), limits).await;
    let before = volumes_ok(&mut v, "A", EXAMPLE_PERIOD).await;
    let app = Arc::clone(server.app());
    app.job_hooks().hold_next_job();
    let run_id = start_run(&mut c).await.expect("a run starts");
    // Held until cancelled: the shutdown must cancel it to complete.
    server.shutdown().await.expect("a clean shutdown");
    let job = app.jobs.get(downline::app::jobs::JobKind::CommissionRun, &run_id).expect("the run");
    assert!(job.is_cancelled() && job.run_result().is_none(), "cancelled, nothing kept");
    // What GetCommissionRun would answer (the server no longer serves).
    let run = downline::app::runs::RunRef::Live(Arc::clone(&job));
    let proto = downline::service::compensation_runs::run_to_proto(&app, &run).expect("the run's proto");
    assert_eq!(proto.state, pb::RunState::Cancelled as i32, "{proto:?}");
    assert!(proto.error.contains("cancelled") && proto.error.contains("--job-grace-secs"), "{proto:?}");
    drop(run);
    assert_eq!(app.jobs.budget_bytes().1, 0, "a cancelled job gives its memory back");
    drop((job, app));

    let server = start_server_with(dir.path(), Limits::default()).await;
    let mut v = volume_client(server.local_addr).await;
    assert_eq!(volumes_ok(&mut v, "A", EXAMPLE_PERIOD).await, before, "acknowledged writes are intact");
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_fails_with_its_reason_and_the_server_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, mut c, mut v) = example(dir.path(), Limits::default()).await;
    let app = Arc::clone(server.app());
    app.job_hooks().panic_next_job();
    let run_id = start_run(&mut c).await.expect("a run starts");
    let failed = wait_run(&mut c, &run_id).await;
    assert_eq!(failed.state, pb::RunState::Failed as i32, "{failed:?}");
    assert!(failed.error.contains("failed inside the server: a panic injected by a test hook"), "{failed:?}");

    app.job_hooks().panic_next_job();
    let mut o = operations_client(server.local_addr).await;
    let name = start_recalculation(&mut v).await.expect("a recalculation starts");
    match wait_operation(&mut o, &name).await.result {
        Some(pb::operation::Result::Error(e)) => {
            assert_eq!(e.code, Code::Internal as i32);
            assert!(e.message.contains("a panic injected by a test hook"), "{e:?}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(app.jobs.budget_bytes().1, 0, "a panicked job gives its memory back");
    let run_id = start_run(&mut c).await.expect("the server goes on");
    assert_eq!(wait_run(&mut c, &run_id).await.state, pb::RunState::Succeeded as i32);
    server.shutdown().await.expect("a clean shutdown");
}
