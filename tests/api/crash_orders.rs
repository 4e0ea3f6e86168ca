//! Crash test of orders through the real server binary: acknowledged orders
//! survive SIGKILL, and no order ever counts twice.
//!
//! A network of 200 partners is imported (and acknowledged) once. Each round
//! runs concurrent writers against `downline serve` (on a `TempDir`,
//! 127.0.0.1, a free port): unary RecordOrder and RecordOrders streams
//! (1 to 3 chunks of 1 to 50 orders, sometimes paced), RETAIL/SELF/FEE,
//! positive and negative volumes, in 2 periods, each order with a unique id.
//! Writers also re-send acknowledged orders (any writer's, any round; alone
//! or inside streams; the volume written another way, e.g. `5` for `5.00`)
//! and repeat new orders inside one stream: those must answer OK / count as
//! repeated. An OK RecordOrder, or a RecordOrders response, acknowledges its
//! new orders. After a random delay the server is SIGKILLed and restarted
//! on the same directory, and the test proves:
//! - before any retry, each period holds at least its acknowledged orders
//!   and at most those plus the in-flight ones (ListPeriods);
//! - every order acknowledged so far (all rounds) is there: re-sent in
//!   streams, all count as repeated, none as recorded; this round's ones,
//!   re-sent alone, answer their content;
//! - the in-flight orders, retried (a client retry), answer OK, once;
//! - then ListPeriods counts exactly the distinct orders of each period, and
//!   PV/RV/GV of every partner in both periods equal the sums of the client's
//!   order list (PV = RETAIL + SELF, RV = RETAIL, GV = PV of the partner and
//!   its whole downline, FEE never counts): nothing lost, nothing twice;
//! - RecalculateVolumes of each period finds 0 differences.
//!
//! Fast mode (3 rounds): `cargo test --release --test api crash_orders`. Long
//! mode: `DOWNLINE_CRASH_ROUNDS=30 cargo test --release --test api crash_orders
//! -- --nocapture`. The seed is printed; `DOWNLINE_CRASH_SEED=N` replays a
//! workload (the kill moment still depends on timing).

use crate::crash_support::{kill_and_restart, rounds_and_seed, task_seed, Server};
use downline::proto::v1 as pb;
use pb::genealogy_service_client::GenealogyServiceClient;
use pb::operations_service_client::OperationsServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use tonic::{Code, Status};

type Volumes = VolumeServiceClient<Channel>;
/// Every order acknowledged so far (all rounds), shared by the writers.
type Pool = Arc<Mutex<Vec<pb::Order>>>;

const PARTNERS: usize = 200;
const PERIODS: [&str; 2] = ["2031-01", "2031-02"];
const RETAIL: i32 = pb::OrderKind::Retail as i32;
const SELF: i32 = pb::OrderKind::Self_ as i32;
const FEE: i32 = pb::OrderKind::Fee as i32;
/// Concurrent writers per round.
const TASKS: usize = 6;
/// Bounds of one writer: it stops at the first error (the kill) or here.
const MAX_CALLS_PER_TASK: usize = 20_000;
const TASK_TIME_LIMIT: Duration = Duration::from_secs(20);
/// Every RPC of the test times out after this.
const RPC_TIMEOUT: Duration = Duration::from_secs(15);
/// Acknowledged orders re-sent per stream after a restart: a lost order is
/// named within such a group.
const RESEND_GROUP: usize = 100;
/// Concurrent checkers after a restart.
const CHECKERS: usize = 4;
/// GetOperation polls of a recalculation, 20 ms apart.
const MAX_POLLS: usize = 1_500;

async fn connect(url: &str) -> Channel {
    crate::crash_support::connect_channel(url, RPC_TIMEOUT).await
}

/// Units of 0.0001 as a decimal with at least `places` decimals (0 to 4).
fn volume_text(units: i64, places: usize) -> String {
    let (sign, abs) = (if units < 0 { "-" } else { "" }, units.unsigned_abs());
    let mut frac = format!("{:04}", abs % 10_000);
    while frac.len() > places && frac.ends_with('0') {
        frac.pop();
    }
    let dot = if frac.is_empty() { "" } else { "." };
    format!("{sign}{}{dot}{frac}", abs / 10_000)
}

/// The units of a decimal the test wrote or the server answered.
fn units(text: &str) -> i64 {
    let (negative, t) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let parse = |s: &str| s.parse::<i64>().unwrap_or_else(|e| panic!("volume {text:?}: {e}"));
    assert!(frac.len() <= 4, "volume {text:?} has more than 4 places");
    (parse(whole) * 10_000 + parse(&format!("{frac:0<4}"))) * if negative { -1 } else { 1 }
}

fn new_order(rng: &mut StdRng, id: String) -> pb::Order {
    let kind = match rng.gen_range(0..100) {
        0..=44 => RETAIL,
        45..=84 => SELF,
        _ => FEE,
    };
    let units = if rng.gen_bool(0.15) { -rng.gen_range(1..=300_000) } else { rng.gen_range(0..=2_000_000) };
    pb::Order {
        order_id: id,
        partner_id: format!("p{}", rng.gen_range(0..PARTNERS)),
        period: PERIODS[rng.gen_range(0..PERIODS.len())].to_owned(),
        volume: volume_text(units, rng.gen_range(0..=4)),
        kind,
        ..pb::Order::default()
    }
}

/// The same order, its volume written another way.
fn reworded(rng: &mut StdRng, o: &pb::Order) -> pb::Order {
    pb::Order { volume: volume_text(units(&o.volume), rng.gen_range(0..=4)), ..o.clone() }
}

fn same(a: &pb::Order, b: &pb::Order) -> bool {
    (&a.order_id, &a.partner_id, &a.period, a.kind) == (&b.order_id, &b.partner_id, &b.period, b.kind)
        && units(&a.volume) == units(&b.volume)
}

fn pick(rng: &mut StdRng, pool: &Pool) -> Option<pb::Order> {
    pool.lock().expect("pool").choose(rng).cloned()
}

/// A RecordOrders stream of `chunks`, pausing `pause_ms` after each.
async fn stream(
    client: &mut Volumes,
    chunks: Vec<Vec<pb::Order>>,
    pause_ms: u64,
) -> Result<pb::RecordOrdersResponse, Status> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        for orders in chunks {
            if tx.send(pb::RecordOrdersRequest { orders }).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
    });
    Ok(client.record_orders(tokio_stream::wrappers::ReceiverStream::new(rx)).await?.into_inner())
}

/// Says what is wrong with a stream's tally, if anything.
fn tally(a: &pb::RecordOrdersResponse, recorded: usize, repeated: usize) -> Option<String> {
    let want = (recorded as u64, repeated as u64, 0);
    ((a.recorded_count, a.repeated_count, a.refused_count) != want)
        .then(|| format!("answered {a:?}, expected (recorded, repeated, refused) {want:?}"))
}

/// RecordOrder of `sent`; on OK, says what is wrong with the answer (it must
/// be `original`), if anything.
async fn unary(client: &mut Volumes, sent: &pb::Order, original: &pb::Order) -> Result<Option<String>, Status> {
    let a = client.record_order(pb::RecordOrderRequest { order: Some(sent.clone()) }).await?.into_inner();
    Ok((!same(&a, original)).then(|| format!("sent {sent:?}, answered {a:?}")))
}

/// Awaits every checker; returns their problems.
async fn gather(mut checks: tokio::task::JoinSet<Vec<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    while let Some(found) = checks.join_next().await {
        problems.extend(found.expect("a checker panicked"));
    }
    problems
}

/// What one writer did before the kill.
#[derive(Default)]
struct TaskRun {
    /// Its new orders that were acknowledged.
    acked: Vec<pb::Order>,
    /// The new orders of the call that got no answer.
    in_flight: Vec<pb::Order>,
    /// Repeats (of acknowledged orders, or inside a stream) answered right.
    repeats: usize,
    /// Refusals and wrong answers: every call of the workload must succeed.
    problems: Vec<String>,
    failed_at: Option<Instant>,
}

async fn run_task(mut client: Volumes, prefix: String, mut rng: StdRng, pool: Pool, until: Instant) -> TaskRun {
    let mut run = TaskRun::default();
    let mut next = 0usize;
    let mut id = |rng: &mut StdRng| {
        next += 1;
        new_order(rng, format!("{prefix}.{next}"))
    };
    for _ in 0..MAX_CALLS_PER_TASK {
        if Instant::now() >= until {
            break;
        }
        let roll = rng.gen_range(0..100);
        let (new, repeats, result) = match if roll < 15 { pick(&mut rng, &pool) } else { None } {
            Some(old) => (Vec::new(), 1, unary(&mut client, &reworded(&mut rng, &old), &old).await),
            None if roll < 55 => {
                let o = id(&mut rng);
                let answer = unary(&mut client, &o, &o).await;
                (vec![o], 0, answer)
            }
            None => {
                let (mut new, mut repeats, mut chunks) = (Vec::new(), 0, Vec::new());
                for _ in 0..rng.gen_range(1..=3) {
                    let mut chunk = Vec::new();
                    for _ in 0..rng.gen_range(1..=50) {
                        let again = match rng.gen_range(0..100) {
                            0..=7 => pick(&mut rng, &pool),
                            8..=11 => new.choose(&mut rng).cloned(),
                            _ => None,
                        };
                        chunk.push(match again {
                            Some(o) => {
                                repeats += 1;
                                reworded(&mut rng, &o)
                            }
                            None => {
                                new.push(id(&mut rng));
                                new[new.len() - 1].clone()
                            }
                        });
                    }
                    chunks.push(chunk);
                }
                let pause = if rng.gen_bool(0.3) { rng.gen_range(1..=5) } else { 0 };
                let answer = stream(&mut client, chunks, pause).await;
                let n = new.len();
                (new, repeats, answer.map(|a| tally(&a, n, repeats).map(|w| format!("a stream of {n} new orders {w}"))))
            }
        };
        match result {
            Ok(wrong) => {
                run.problems.extend(wrong.map(|w| format!("{prefix}: {w}")));
                pool.lock().expect("pool").extend(new.iter().cloned());
                run.acked.extend(new);
                run.repeats += repeats;
            }
            Err(status) => {
                use Code::*;
                if matches!(
                    status.code(),
                    InvalidArgument | NotFound | AlreadyExists | FailedPrecondition | OutOfRange | DataLoss
                ) {
                    run.problems.push(format!("{prefix}: a call was refused: {status:?}"));
                }
                run.failed_at = Some(Instant::now());
                run.in_flight = new;
                break;
            }
        }
    }
    run
}

/// Imports the network (acknowledged: durable); returns each partner's
/// sponsor index (always lower than its own).
async fn create_network(channel: Channel, rng: &mut StdRng) -> Vec<Option<usize>> {
    let mut sponsors = vec![None];
    for i in 1..PARTNERS {
        let lowest = if rng.gen_bool(0.6) { i.saturating_sub(4) } else { 0 };
        sponsors.push(Some(rng.gen_range(lowest..i)));
    }
    let rows: Vec<pb::CreatePartnerRequest> = (0..PARTNERS)
        .map(|i| pb::CreatePartnerRequest {
            partner_id: format!("p{i}"),
            sponsor_id: sponsors[i].map_or_else(String::new, |s| format!("p{s}")),
            joined_on: "2030-06-15".to_owned(),
            display_name: format!("Partner {i}"),
        })
        .collect();
    let chunks: Vec<pb::ImportPartnersRequest> =
        rows.chunks(50).map(|c| pb::ImportPartnersRequest { partners: c.to_vec() }).collect();
    let answer = GenealogyServiceClient::new(channel)
        .import_partners(tokio_stream::iter(chunks))
        .await
        .expect("import the network")
        .into_inner();
    assert_eq!(answer.created_count, PARTNERS as u64, "{answer:?}");
    sponsors
}

/// ListPeriods as period -> order count (closed periods are a problem).
async fn period_counts(client: &mut Volumes) -> BTreeMap<String, u64> {
    let answer = client.list_periods(pb::ListPeriodsRequest {}).await.expect("ListPeriods").into_inner();
    assert!(answer.periods.iter().all(|p| !p.closed), "a period is closed: {answer:?}");
    answer.periods.into_iter().map(|p| (p.period, p.order_count)).collect()
}

/// The orders of each period in `orders`.
fn counts_of<'a>(orders: impl Iterator<Item = &'a pb::Order>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    orders.for_each(|o| *counts.entry(o.period.clone()).or_default() += 1);
    counts
}

/// Re-sends `orders` from concurrent clients: `alone` (each must answer its
/// content), or in streams of [`RESEND_GROUP`] (all must count as repeated,
/// so an order recorded anew was lost). Returns the problems.
async fn resend(channel: &Channel, orders: Arc<Vec<pb::Order>>, alone: bool, seed: u64) -> Vec<String> {
    let mut checks = tokio::task::JoinSet::new();
    for checker in 0..CHECKERS {
        let (mut client, orders) = (Volumes::new(channel.clone()), Arc::clone(&orders));
        let mut rng = StdRng::seed_from_u64(seed ^ checker as u64);
        checks.spawn(async move {
            let mut problems = Vec::new();
            for group in orders.chunks(if alone { 1 } else { RESEND_GROUP }).skip(checker).step_by(CHECKERS) {
                if alone {
                    match unary(&mut client, &reworded(&mut rng, &group[0]), &group[0]).await {
                        Ok(wrong) => problems.extend(wrong),
                        Err(s) => problems.push(format!("re-sent {:?}: {s:?}", group[0])),
                    }
                    continue;
                }
                let chunks = group.chunks(50).map(|c| c.iter().map(|o| reworded(&mut rng, o)).collect()).collect();
                match stream(&mut client, chunks, 0).await {
                    Ok(a) if a.recorded_count > 0 => problems.push(format!(
                        "ACKNOWLEDGED ORDERS LOST: {} of these {} were recorded anew: {:?}",
                        a.recorded_count,
                        group.len(),
                        group.iter().map(|o| &o.order_id).collect::<Vec<_>>()
                    )),
                    Ok(a) => problems.extend(tally(&a, 0, group.len()).map(|w| format!("re-sent acknowledged: {w}"))),
                    Err(s) => problems.push(format!("re-sending acknowledged orders failed: {s:?}")),
                }
            }
            problems
        });
    }
    gather(checks).await
}

/// Compares PV, RV and GV of every partner in every period with the sums of
/// `orders`; returns how many values it compared and the differences.
async fn check_volumes(channel: &Channel, sponsors: &[Option<usize>], orders: &[pb::Order]) -> (usize, Vec<String>) {
    let mut expected: BTreeMap<(String, usize), [i64; 3]> = BTreeMap::new();
    for period in PERIODS {
        let (mut pv, mut rv) = (vec![0i64; PARTNERS], vec![0i64; PARTNERS]);
        for o in orders.iter().filter(|o| o.period == period && o.kind != FEE) {
            let x: usize = o.partner_id[1..].parse().expect("partner index");
            pv[x] += units(&o.volume);
            rv[x] += if o.kind == RETAIL { units(&o.volume) } else { 0 };
        }
        let mut gv = pv.clone();
        for x in (1..PARTNERS).rev() {
            gv[sponsors[x].expect("sponsor")] += gv[x];
        }
        for x in 0..PARTNERS {
            expected.insert((period.to_owned(), x), [pv[x], rv[x], gv[x]]);
        }
    }
    let has_orders = counts_of(orders.iter());
    let expected = Arc::new(expected);
    let mut checks = tokio::task::JoinSet::new();
    for checker in 0..CHECKERS {
        let (mut client, expected, has_orders) =
            (Volumes::new(channel.clone()), Arc::clone(&expected), has_orders.clone());
        checks.spawn(async move {
            let mut problems = Vec::new();
            for ((period, x), want) in expected.iter().skip(checker).step_by(CHECKERS) {
                let request = pb::GetVolumesRequest { partner_id: format!("p{x}"), period: period.clone() };
                match client.get_volumes(request).await {
                    Ok(v) => {
                        let v = v.into_inner();
                        let got = [units(&v.pv), units(&v.rv), units(&v.gv)];
                        if got != *want {
                            problems.push(format!("p{x} in {period}: (pv, rv, gv) units {got:?}, expected {want:?}"));
                        }
                    }
                    Err(s) if s.code() == Code::NotFound && !has_orders.contains_key(period) => {}
                    Err(s) => problems.push(format!("GetVolumes p{x} {period}: {s:?}")),
                }
            }
            problems
        });
    }
    (expected.len(), gather(checks).await)
}

/// Runs RecalculateVolumes of `period` to the end; says what is wrong.
async fn recalculate(channel: &Channel, period: &str) -> Option<String> {
    let request = pb::RecalculateVolumesRequest { period: period.to_owned() };
    let mut last = match Volumes::new(channel.clone()).recalculate_volumes(request).await {
        Ok(op) => op.into_inner(),
        Err(s) => return Some(format!("RecalculateVolumes {period}: {s:?}")),
    };
    let mut ops = OperationsServiceClient::new(channel.clone());
    for _ in 0..MAX_POLLS {
        if last.done {
            let clean = |r: &pb::RecalculationResult| r.difference_count == 0 && r.partner_count == PARTNERS as u64;
            let ok = matches!(&last.result, Some(pb::operation::Result::Recalculation(r)) if clean(r));
            return (!ok).then(|| format!("recalculation of {period}: {last:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let request = pb::GetOperationRequest { name: last.name.clone() };
        last = match ops.get_operation(request).await {
            Ok(op) => op.into_inner(),
            Err(s) => return Some(format!("GetOperation {}: {s:?}", last.name)),
        };
    }
    Some(format!("recalculation of {period} not done after {MAX_POLLS} polls: {last:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_orders_survive_sigkill_and_count_once() {
    let (rounds, seed) = rounds_and_seed("orders crash test");
    let started = Instant::now();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut server = Server::start(dir.path());
    let sponsors = create_network(connect(&server.url).await, &mut rng).await;
    let pool: Pool = Arc::default();
    // Acknowledged new orders, repeats during the load, orders in flight at
    // a kill, of which stored, and volume figures compared.
    let (mut acked_total, mut repeats_total, mut flying_total, mut applied, mut values_total) = (0, 0, 0, 0, 0);
    for round in 0..rounds {
        let until = Instant::now() + TASK_TIME_LIMIT;
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let client = Volumes::new(connect(&server.url).await);
            let (prefix, pool) = (format!("r{round}.t{task}"), Arc::clone(&pool));
            let rng = StdRng::seed_from_u64(task_seed(seed, round, task));
            handles.push(tokio::spawn(run_task(client, prefix, rng, pool, until)));
        }
        let killed = kill_and_restart(&mut server, dir.path(), &mut rng, handles, RPC_TIMEOUT).await;
        let (delay, killed_at, mut runs) = (killed.delay_ms, killed.at, killed.runs);
        let channel = connect(&server.url).await;
        let mut client = Volumes::new(channel.clone());
        let mut problems = Vec::new();
        for (task, run) in runs.iter_mut().enumerate() {
            problems.append(&mut run.problems);
            if run.failed_at.is_some_and(|at| at < killed_at) {
                problems.push(format!("round {round} task {task}: a call failed before the kill"));
            }
        }
        let acked: Arc<Vec<pb::Order>> = Arc::new(runs.iter().flat_map(|r| r.acked.iter().cloned()).collect());
        let in_flight: Vec<pb::Order> = runs.iter().flat_map(|r| r.in_flight.iter().cloned()).collect();
        let everything: Arc<Vec<pb::Order>> = Arc::new(pool.lock().expect("pool").clone());
        // Before any retry: acknowledged <= stored <= acknowledged + in flight.
        let counts = [counts_of(everything.iter()), counts_of(in_flight.iter()), period_counts(&mut client).await];
        for period in PERIODS {
            let [lo, fly, got] = counts.each_ref().map(|c| c.get(period).copied().unwrap_or(0));
            if got < lo || got > lo + fly {
                problems.push(format!("{period}: {got} orders stored; {lo} acknowledged, {fly} in flight"));
            }
        }
        problems.extend(resend(&channel, Arc::clone(&everything), false, rng.gen()).await);
        problems.extend(resend(&channel, Arc::clone(&acked), true, rng.gen()).await);
        // The client retries its in-flight orders: each stream's as a stream.
        for run in runs.iter().filter(|r| !r.in_flight.is_empty()) {
            let chunks: Vec<Vec<pb::Order>> = run.in_flight.chunks(50).map(<[pb::Order]>::to_vec).collect();
            match stream(&mut client, chunks, 0).await {
                Ok(a) if a.recorded_count + a.repeated_count == run.in_flight.len() as u64 && a.refused_count == 0 => {
                    applied += a.repeated_count as usize;
                }
                Ok(a) => problems.push(format!("retry of {} in-flight orders answered {a:?}", run.in_flight.len())),
                Err(s) => problems.push(format!("retry of {} in-flight orders failed: {s:?}", run.in_flight.len())),
            }
        }
        problems.extend(resend(&channel, Arc::new(in_flight.clone()), true, rng.gen()).await);
        assert!(problems.is_empty(), "seed {seed}, round {round} (killed after {delay} ms):\n{}", problems.join("\n"));
        pool.lock().expect("pool").extend(in_flight.iter().cloned());
        let all: Vec<pb::Order> = pool.lock().expect("pool").clone();
        let want = counts_of(all.iter());
        let seen = period_counts(&mut client).await;
        if seen != want {
            problems.push(format!("ListPeriods counts {seen:?}, the client sent {want:?} distinct orders"));
        }
        let (values, found) = check_volumes(&channel, &sponsors, &all).await;
        problems.extend(found.into_iter().take(30));
        for period in want.keys() {
            problems.extend(recalculate(&channel, period).await);
        }
        assert!(problems.is_empty(), "seed {seed}, round {round} (killed after {delay} ms):\n{}", problems.join("\n"));
        let (repeats, flying, total) = (runs.iter().map(|r| r.repeats).sum::<usize>(), in_flight.len(), all.len());
        (acked_total, repeats_total, flying_total, values_total) =
            (acked_total + acked.len(), repeats_total + repeats, flying_total + flying, values_total + values);
        let elapsed = started.elapsed();
        eprintln!(
            "round {round}: killed after {delay} ms; {} new orders acknowledged, {repeats} repeats answered, \
             {flying} in flight; {total} orders in all; {elapsed:.1?} so far",
            acked.len()
        );
    }
    let elapsed = started.elapsed();
    eprintln!(
        "orders crash test passed: {rounds} rounds, seed {seed}, {acked_total} acknowledged orders checked, \
         {repeats_total} repeats answered during the load, {flying_total} orders in flight at a kill ({applied} had \
         been stored), {values_total} volume figures compared, {elapsed:.1?}"
    );
}
