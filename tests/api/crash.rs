//! Crash test of the real server binary: acknowledged writes survive SIGKILL.
//!
//! Each round runs concurrent tasks against `downline serve` (on a
//! `TempDir`, 127.0.0.1, a free port). Every task owns a tree of its own
//! (one root, chains and bushes under known sponsors) and writes it in
//! order: CreatePartner, ImportPartners of small batches (rows shuffled, so
//! sponsors may follow their recruits), MovePartner, and SetPartnerStatus
//! (SUSPENDED/ENROLLED, sometimes TERMINATED). No other task touches that
//! tree, so its acknowledged (OK) writes fix its state exactly; the one
//! write in flight when the server dies may or may not have happened. After
//! a random delay the server is SIGKILLed and restarted on the same
//! directory, and the test proves:
//! - every task's tree is exactly its acknowledged state, or that state plus
//!   its in-flight write (all or nothing): every acknowledged partner
//!   exists with its sponsor, status, depth, frontline and downline counts,
//!   as later acknowledged moves and terminations left them;
//! - an in-flight creation or import, retried with the same content, answers
//!   OK, creates nothing twice, and every partner has exactly one CREATED
//!   audit event (each partner's event kinds equal the model's);
//! - ListDownline (all levels, paged) lists exactly the model's downline,
//!   and as many partners as GetPartner's downline_count says;
//! - the trees of earlier rounds are still intact after later crashes (the
//!   directory is reused): same views, same ListDownline order.
//!
//! Fast mode (3 rounds): `cargo test --release --test api crash::`. Long mode, by hand:
//! `DOWNLINE_CRASH_ROUNDS=30 cargo test --release --test api crash:: -- --nocapture`.
//! The seed is printed; `DOWNLINE_CRASH_SEED=N` replays a workload (the kill
//! moment still depends on timing).

use crate::crash_support::{
    diff, kill_and_restart, rounds_and_seed, task_seed, Model, Op, Server, View, CREATED, ENROLLED, SUSPENDED,
    TERMINATED,
};
use downline::proto::v1 as pb;
use pb::genealogy_service_client::GenealogyServiceClient;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use tonic::{Code, Status};

type Client = GenealogyServiceClient<Channel>;

/// Concurrent writers per round.
const TASKS: usize = 6;
/// Bounds of one writer: it stops at the first error (the kill) or here.
const MAX_OPS_PER_TASK: usize = 5_000;
const TASK_TIME_LIMIT: Duration = Duration::from_secs(20);
/// Every RPC of the test times out after this.
const RPC_TIMEOUT: Duration = Duration::from_secs(15);
/// The most pages one listing may take.
const MAX_PAGES: usize = 10_000;
/// Partners per task whose ListDownline is compared, besides the root.
const DOWNLINE_SAMPLES: usize = 3;
/// Concurrent readers that re-check the trees of earlier rounds.
const RECHECK_TASKS: usize = 8;

async fn connect(url: &str) -> Client {
    Client::new(crate::crash_support::connect_channel(url, RPC_TIMEOUT).await)
}

fn new_row(rng: &mut StdRng, prefix: &str, next: &mut usize, sponsor: &str) -> pb::CreatePartnerRequest {
    *next += 1;
    pb::CreatePartnerRequest {
        partner_id: format!("{prefix}.{next}"),
        sponsor_id: sponsor.to_owned(),
        joined_on: format!("20{:02}-{:02}-{:02}", rng.gen_range(10..=25), rng.gen_range(1..=12), rng.gen_range(1..=28)),
        display_name: if rng.gen_bool(0.3) { String::new() } else { format!("Partner {prefix} {next}") },
    }
}

/// The next write of a task: one that must succeed and change something.
fn next_op(rng: &mut StdRng, m: &Model, prefix: &str, next: &mut usize) -> Op {
    let live = m.live();
    let Some(newest) = live.last() else {
        return Op::Create(new_row(rng, prefix, next, ""));
    };
    let roll = rng.gen_range(0..100);
    if (30..40).contains(&roll) {
        let mut rows: Vec<pb::CreatePartnerRequest> = Vec::new();
        for i in 0..rng.gen_range(1..=6) {
            let sponsor = match i {
                0 => live.choose(rng).cloned(),
                _ if rng.gen_bool(0.3) => live.choose(rng).cloned(),
                _ => rows.choose(rng).map(|r| r.partner_id.clone()),
            };
            let row = new_row(rng, prefix, next, &sponsor.expect("a sponsor"));
            rows.push(row);
        }
        rows.shuffle(rng);
        return Op::Import(rows);
    }
    if (40..65).contains(&roll) {
        let movable: Vec<&String> = live.iter().filter(|id| !m.is_root(id)).collect();
        if let Some(&id) = movable.choose(rng) {
            let below: BTreeSet<String> = m.downline(id).into_iter().collect();
            let sponsor = &m.partners[id].sponsor;
            let targets: Vec<&String> =
                live.iter().filter(|t| *t != id && *t != sponsor && !below.contains(*t)).collect();
            if let Some(&to) = targets.choose(rng) {
                return Op::Move { id: id.clone(), to: to.clone() };
            }
        }
    }
    if roll >= 65 {
        let id = live.choose(rng).expect("a live partner");
        let status = match m.partners[id].status {
            _ if !m.is_root(id) && rng.gen_bool(0.1) => TERMINATED,
            ENROLLED => SUSPENDED,
            _ => ENROLLED,
        };
        return Op::Status { id: id.clone(), status };
    }
    // A chain grows under the newest live partner, a bush under any.
    let sponsor = if rng.gen_bool(0.5) { newest } else { live.choose(rng).expect("a live partner") };
    Op::Create(new_row(rng, prefix, next, &sponsor.clone()))
}

async fn import(client: &mut Client, rows: &[pb::CreatePartnerRequest]) -> Result<pb::ImportPartnersResponse, Status> {
    let chunks: Vec<pb::ImportPartnersRequest> =
        rows.chunks(2).map(|c| pb::ImportPartnersRequest { partners: c.to_vec() }).collect();
    Ok(client.import_partners(tokio_stream::iter(chunks)).await?.into_inner())
}

/// Sends a write; on OK, says what is wrong with the answer, if anything.
async fn send(client: &mut Client, op: &Op) -> Result<Option<String>, Status> {
    let wrong = |bad: bool, answer: &dyn std::fmt::Debug| bad.then(|| format!("wrong answer {answer:?}"));
    Ok(match op {
        Op::Create(r) => {
            let p = client.create_partner(r.clone()).await?.into_inner();
            wrong(p.partner_id != r.partner_id || p.sponsor_id != r.sponsor_id || p.status != ENROLLED, &p)
        }
        Op::Import(rows) => {
            let a = import(client, rows).await?;
            wrong(a.created_count != rows.len() as u64 || a.unchanged_count != 0, &a)
        }
        Op::Move { id, to } => {
            let request = pb::MovePartnerRequest {
                partner_id: id.clone(),
                new_sponsor_id: to.clone(),
                reason: "crash test".into(),
            };
            let p = client.move_partner(request).await?.into_inner();
            wrong(p.partner_id != *id || p.sponsor_id != *to, &p)
        }
        Op::Status { id, status } => {
            let request =
                pb::SetPartnerStatusRequest { partner_id: id.clone(), status: *status, reason: "crash test".into() };
            let p = client.set_partner_status(request).await?.into_inner();
            wrong(p.partner_id != *id || p.status != *status, &p)
        }
    })
}

/// What one writer did before the kill.
struct TaskRun {
    /// The state its acknowledged writes define.
    model: Model,
    /// The write that got no answer.
    in_flight: Option<Op>,
    /// The log of its acknowledged writes, in order.
    log: Vec<Op>,
    acked: usize,
    /// Refusals and wrong answers: every write of the workload must succeed.
    problems: Vec<String>,
    failed_at: Option<Instant>,
}

async fn run_task(mut client: Client, prefix: String, mut rng: StdRng, until: Instant) -> TaskRun {
    let mut run = TaskRun {
        model: Model::default(),
        in_flight: None,
        log: Vec::new(),
        acked: 0,
        problems: Vec::new(),
        failed_at: None,
    };
    let mut next = 0;
    for _ in 0..MAX_OPS_PER_TASK {
        if Instant::now() >= until {
            break;
        }
        let op = next_op(&mut rng, &run.model, &prefix, &mut next);
        match send(&mut client, &op).await {
            Ok(wrong) => {
                run.problems.extend(wrong.map(|w| format!("{prefix}: {op:?}: {w}")));
                run.model.apply(&op);
                run.acked += 1;
                run.log.push(op);
            }
            Err(status) => {
                use Code::*;
                if matches!(
                    status.code(),
                    InvalidArgument | NotFound | AlreadyExists | FailedPrecondition | OutOfRange | DataLoss
                ) {
                    run.problems.push(format!("{prefix}: {op:?} was refused: {status:?}"));
                }
                run.failed_at = Some(Instant::now());
                run.in_flight = Some(op);
                break;
            }
        }
    }
    run
}

/// GetPartner of each id; absent ids are left out.
async fn observe(client: &mut Client, ids: &BTreeSet<String>) -> BTreeMap<String, View> {
    let mut seen = BTreeMap::new();
    for id in ids {
        match client.get_partner(pb::GetPartnerRequest { partner_id: id.clone() }).await {
            Ok(p) => {
                seen.insert(id.clone(), View::from(&p.into_inner()));
            }
            Err(s) if s.code() == Code::NotFound => {}
            Err(s) => panic!("GetPartner {id}: {s:?}"),
        }
    }
    seen
}

/// The kinds of a partner's audit events, oldest first.
async fn event_kinds(client: &mut Client, id: &str) -> Vec<i32> {
    let mut kinds = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = pb::ListGenealogyEventsRequest { partner_id: id.to_owned(), page_size: 1000, page_token };
        let page = client
            .list_genealogy_events(request)
            .await
            .unwrap_or_else(|s| panic!("events of {id}: {s:?}"))
            .into_inner();
        assert!(page.events.iter().all(|e| e.partner_id == id), "events of {id} name another partner: {page:?}");
        kinds.extend(page.events.iter().map(|e| e.kind));
        if page.next_page_token.is_empty() {
            return kinds;
        }
        page_token = page.next_page_token;
    }
    panic!("events of {id}: more than {MAX_PAGES} pages");
}

/// The ids ListDownline lists below `id` at every level, page by page.
async fn listed_downline(client: &mut Client, id: &str, page_size: i32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = pb::ListDownlineRequest { partner_id: id.to_owned(), max_depth: 0, page_size, page_token };
        let page =
            client.list_downline(request).await.unwrap_or_else(|s| panic!("downline of {id}: {s:?}")).into_inner();
        ids.extend(page.members.into_iter().map(|m| m.partner.expect("member partner").partner_id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
    panic!("downline of {id}: more than {MAX_PAGES} pages");
}

/// The settled trees of earlier rounds, with the listing of their roots.
type History = Vec<(Model, Vec<String>)>;

/// Compares the earlier trees `group`, `group + RECHECK_TASKS`, ... with
/// the server; returns how many partners it checked and the differences.
async fn recheck(client: &mut Client, history: &History, group: usize) -> (usize, Vec<String>) {
    let (mut count, mut problems) = (0, Vec::new());
    for (i, (m, listing)) in history.iter().enumerate().skip(group).step_by(RECHECK_TASKS) {
        let seen = observe(client, &m.ids_with(None)).await;
        problems.extend(diff(&m.views(), &seen).into_iter().take(20).map(|d| format!("earlier tree {i}: {d}")));
        if let Some(root) = m.order.first() {
            let now = listed_downline(client, root, 1000).await;
            if now != *listing {
                problems.push(format!("earlier tree {i}: ListDownline order changed: {listing:?} became {now:?}"));
            }
        }
        count += seen.len();
    }
    (count, problems)
}

#[derive(Default)]
struct Totals {
    acked: usize,
    in_flight: usize,
    applied: usize,
    retried: usize,
    partners: usize,
    rechecked: usize,
}

/// Resolves a task's in-flight write from what survived, retries an
/// in-flight creation, and returns the task's final model.
async fn settle(
    client: &mut Client,
    run: TaskRun,
    t: &mut Totals,
    problems: &mut Vec<String>,
    who: &str,
) -> Option<Model> {
    let before = run.model;
    let after = run.in_flight.as_ref().map(|op| {
        let mut m = before.clone();
        m.apply(op);
        m
    });
    let seen = observe(client, &before.ids_with(run.in_flight.as_ref())).await;
    let applied = if seen == before.views() {
        false
    } else if after.as_ref().is_some_and(|a| seen == a.views()) {
        true
    } else {
        let lines = |m: &Model| diff(&m.views(), &seen).into_iter().take(20).collect::<Vec<_>>().join("\n    ");
        problems.push(format!(
            "{who}: ACKNOWLEDGED STATE LOST OR WRONG ({} acknowledged writes; in flight: {:?})\n  vs acknowledged:\n    {}\n  vs acknowledged + in-flight:\n    {}\n  last acknowledged writes:\n    {}",
            run.acked,
            run.in_flight,
            lines(&before),
            after.as_ref().map_or_else(|| "(nothing in flight)".to_owned(), lines),
            run.log.iter().rev().take(10).rev().map(|op| format!("{op:?}")).collect::<Vec<_>>().join("\n    "),
        ));
        return None;
    };
    t.acked += run.acked;
    t.in_flight += usize::from(run.in_flight.is_some());
    t.applied += usize::from(applied);
    let answer = match &run.in_flight {
        Some(Op::Create(r)) => Some(client.create_partner(r.clone()).await.map(|p| {
            let p = p.into_inner();
            (p.sponsor_id != r.sponsor_id || p.status != ENROLLED).then(|| format!("{p:?}"))
        })),
        Some(Op::Import(rows)) => Some(import(client, rows).await.map(|a| {
            let n = rows.len() as u64;
            let want = if applied { (0, n) } else { (n, 0) };
            ((a.created_count, a.unchanged_count) != want)
                .then(|| format!("{a:?}, expected (created, unchanged) {want:?}"))
        })),
        _ => None,
    };
    match answer {
        None => {}
        Some(Ok(None)) => t.retried += 1,
        Some(Ok(Some(wrong))) => problems.push(format!("{who}: retry of {:?} answered {wrong}", run.in_flight)),
        Some(Err(s)) => problems.push(format!("{who}: retry of {:?} after restart failed: {s:?}", run.in_flight)),
    }
    let retried_creation = matches!(run.in_flight, Some(Op::Create(_) | Op::Import(_)));
    if applied || retried_creation {
        after
    } else {
        Some(before)
    }
}

/// Checks a settled round: exact views, event kinds, and listings.
async fn check_tree(client: &mut Client, t: usize, m: &Model, rng: &mut StdRng) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let views = m.views();
    let seen = observe(client, &m.ids_with(None)).await;
    problems.extend(diff(&views, &seen).into_iter().take(20).map(|d| format!("task {t} after retries: {d}")));
    for (id, p) in &m.partners {
        let kinds = event_kinds(client, id).await;
        let created = kinds.iter().filter(|&&k| k == CREATED).count();
        if created != 1 || kinds != p.events {
            problems.push(format!("{id}: {created} CREATED events; event kinds {kinds:?}, expected {:?}", p.events));
        }
    }
    let live = m.live();
    let mut sample: Vec<&String> = live.choose_multiple(rng, DOWNLINE_SAMPLES).collect();
    sample.extend(live.first()); // the root
    for id in sample {
        let mut listed = listed_downline(client, id, rng.gen_range(5..=200)).await;
        let count = views[id].downline;
        if listed.len() as u64 != count || seen.get(id).map(|v| v.downline) != Some(count) {
            problems.push(format!("{id}: ListDownline lists {}, downline_count {count}", listed.len()));
        }
        let mut expected = m.downline(id);
        listed.sort();
        expected.sort();
        if listed != expected {
            problems.push(format!("{id}: ListDownline lists {listed:?}, expected {expected:?}"));
        }
    }
    (views.len(), problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let (rounds, seed) = rounds_and_seed("crash test");
    let started = Instant::now();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut server = Server::start(dir.path());
    let mut history: Arc<History> = Arc::default();
    let mut t = Totals::default();
    for round in 0..rounds {
        let until = Instant::now() + TASK_TIME_LIMIT;
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let client = connect(&server.url).await;
            let prefix = format!("r{round}.t{task}");
            let rng = StdRng::seed_from_u64(task_seed(seed, round, task));
            handles.push(tokio::spawn(run_task(client, prefix, rng, until)));
        }
        let killed = kill_and_restart(&mut server, dir.path(), &mut rng, handles, RPC_TIMEOUT).await;
        let (delay, killed_at, runs) = (killed.delay_ms, killed.at, killed.runs);
        let mut client = connect(&server.url).await;
        let mut problems = Vec::new();
        let mut models = Vec::new();
        let acked_before = t.acked;
        for (task, mut run) in runs.into_iter().enumerate() {
            let who = format!("round {round} task {task}");
            problems.append(&mut run.problems);
            if run.failed_at.is_some_and(|at| at < killed_at) {
                problems.push(format!("{who}: {:?} failed before the kill", run.in_flight));
            }
            models.extend(settle(&mut client, run, &mut t, &mut problems, &who).await);
        }
        assert!(problems.is_empty(), "seed {seed}, round {round}:\n{}", problems.join("\n"));
        // This round's trees (views, events, listings) and, untouched, the
        // earlier ones (views, listing order), by concurrent readers.
        let mut checks = tokio::task::JoinSet::new();
        for (task, m) in models.iter().enumerate() {
            let (mut client, m, mut rng) = (client.clone(), m.clone(), StdRng::seed_from_u64(rng.gen()));
            checks.spawn(async move { (true, check_tree(&mut client, task, &m, &mut rng).await) });
        }
        for group in 0..RECHECK_TASKS.min(history.len()) {
            let (mut client, history) = (client.clone(), Arc::clone(&history));
            checks.spawn(async move { (false, recheck(&mut client, &history, group).await) });
        }
        while let Some(result) = checks.join_next().await {
            let (fresh, (count, mut found)) = result.expect("a check panicked");
            *if fresh { &mut t.partners } else { &mut t.rechecked } += count;
            problems.append(&mut found);
        }
        assert!(problems.is_empty(), "seed {seed}, round {round}:\n{}", problems.join("\n"));
        for m in models {
            let listing = match m.order.first() {
                Some(root) => listed_downline(&mut client, root, 1000).await,
                None => Vec::new(),
            };
            Arc::make_mut(&mut history).push((m, listing));
        }
        eprintln!(
            "round {round}: killed after {delay} ms; {} acknowledged writes checked; {:.1?} so far",
            t.acked - acked_before,
            started.elapsed()
        );
    }
    eprintln!(
        "crash test passed: {rounds} rounds, seed {seed}, {} acknowledged writes checked, {} in flight at a kill \
         ({} had happened), {} creations retried, {} partners checked after their crash, {} re-checked later, {:.1?}",
        t.acked,
        t.in_flight,
        t.applied,
        t.retried,
        t.partners,
        t.rechecked,
        started.elapsed()
    );
}
