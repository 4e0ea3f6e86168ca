//! `downline-tools loadtest`: a bounded, open-loop load generator for a running
//! server.
//!
//! Open loop: request `i` is scheduled at `start + i / rate`, whatever
//! happened to earlier requests, and its latency is measured from that
//! scheduled time. A slow answer therefore delays nobody's clock: requests
//! that wait for a free in-flight slot (or for the generator itself) count
//! that wait in their latency (no coordinated omission). The schedule is
//! kept to a few microseconds by [`Clock`](crate::loadtest_clock::Clock).
//!
//! Two clients: `--client h2` (the default) writes unary calls straight
//! onto HTTP/2 streams on one thread, so the generator takes as little as
//! possible from the server it shares a machine with
//! ([`loadtest_h2`](crate::loadtest_h2)); `--client tonic` sends them
//! through tonic's typed clients on a multi-threaded runtime, as an
//! application would (and is used for TLS targets and `record-orders`).
//!
//! With `--rate 0` the load is a closed loop instead: `--concurrency`
//! workers each send the next request as soon as the previous one answered,
//! and latency is measured from the send.
//!
//! Three histograms are printed: `latency` (scheduled to answered: what a
//! user would see), `service` (sent to answered: the server and the
//! network) and `send lag` (scheduled to sent: the generator's own delay,
//! including waiting for a free slot).

use crate::bearer::Bearer;
use crate::loadtest_calls::CallSettings;
use crate::loadtest_clock::Clock;
use crate::loadtest_h2::{self as lean, LeanChannel};
use crate::loadtest_stats::{Outcome, Stats};
use downline::proto::v1 as pb;
use parking_lot::Mutex;
use pb::genealogy_service_client::GenealogyServiceClient;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tonic::transport::{Channel, Endpoint};

/// The longest run, in seconds.
pub const MAX_DURATION_S: u64 = 600;
/// The highest open-loop rate, in requests per second.
pub const MAX_RATE: u64 = 1_000_000;
/// The most requests in flight at once.
pub const MAX_CONCURRENCY: usize = 4096;
/// In-flight requests per HTTP/2 connection.
const IN_FLIGHT_PER_CHANNEL: usize = 16;

/// The RPC a load test sends.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// `GetPartner` of a random existing partner.
    GetPartner,
    /// `GetUpline` (every level) of a random existing partner.
    GetUpline,
    /// The first `ListDownline` page (`--page-size`) of a random existing partner.
    ListDownline,
    /// `CreatePartner` of a new partner (`lt-<run>-<n>`) under a random existing sponsor.
    CreatePartner,
    /// `GetVolumes` of a random existing partner in `--period`.
    GetVolumes,
    /// `RecordOrder` (durable, unary) of a new 12.34 RETAIL order of a random partner.
    RecordOrder,
    /// `RecordOrders`: one stream of `--batch` new orders per request; the
    /// report's rate is streams, multiply by `--batch` for orders.
    RecordOrders,
    /// `GetTeamProgress` (the plan's levels) of a random existing partner in `--period`.
    GetTeamProgress,
    /// `GetRankProgress` of a random existing partner in `--period`.
    GetRankProgress,
    /// `RecordTrainingCompletion` (durable) of one of `--modules` modules
    /// (`lt-m0`.., created first) by a random partner on `--completed-on`.
    RecordTrainingCompletion,
}

/// The client that sends the requests.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// Unary calls written straight onto HTTP/2 streams, on one thread: the
    /// cheapest generator (plaintext only; `record-orders` uses tonic).
    H2,
    /// tonic's typed clients on a multi-threaded runtime, as an application.
    Tonic,
}

/// Flags of `downline-tools loadtest`.
#[derive(clap::Args, Debug)]
pub struct LoadtestArgs {
    /// The server to load; the only address this command talks to.
    #[arg(long, env = "DOWNLINE_TARGET", default_value = "http://127.0.0.1:50051")]
    pub target: String,
    /// The RPC to send.
    #[arg(long, value_enum, env = "DOWNLINE_RPC", default_value = "get-partner")]
    pub rpc: Rpc,
    /// The client: `h2` (lean, one thread) or `tonic` (an application's).
    #[arg(long, value_enum, env = "DOWNLINE_CLIENT", default_value = "h2")]
    pub client: Client,
    /// Requests per second on a fixed schedule (open loop); 0 runs a closed
    /// loop as fast as `--concurrency` workers can go.
    #[arg(long, env = "DOWNLINE_RATE", default_value_t = 1_000)]
    pub rate: u64,
    /// How long to send, in seconds (at most 600).
    #[arg(long, env = "DOWNLINE_DURATION_S", default_value_t = 10)]
    pub duration_s: u64,
    /// The most requests in flight (closed loop: the number of workers).
    /// One HTTP/2 connection is opened per 16 of them.
    #[arg(long, env = "DOWNLINE_CONCURRENCY", default_value_t = 64)]
    pub concurrency: usize,
    /// A partners.csv (id in the first column) to take random existing ids
    /// from. Without it, ids are listed with ListDownline under `--root`
    /// (one of the two is required).
    #[arg(long, env = "DOWNLINE_IDS_FROM")]
    pub ids_from: Option<PathBuf>,
    /// The partner whose downline supplies the ids when `--ids-from` is not
    /// given (one of the two is required; it must exist on the target). The
    /// listing is breadth-first, so these ids are the shallow ones.
    #[arg(long, env = "DOWNLINE_ROOT")]
    pub root: Option<String>,
    /// The most ids to list under `--root`.
    #[arg(long, env = "DOWNLINE_MAX_IDS", default_value_t = 10_000)]
    pub max_ids: usize,
    /// The page size of `list-downline` requests.
    #[arg(long, env = "DOWNLINE_PAGE_SIZE", default_value_t = 100)]
    pub page_size: i32,
    /// The period of volume requests and orders.
    #[arg(long, env = "DOWNLINE_PERIOD", default_value = "2026-11")]
    pub period: String,
    /// Orders per `record-orders` stream (sent as chunks of up to 1000).
    #[arg(long, env = "DOWNLINE_BATCH", default_value_t = 1000)]
    pub batch: usize,
    /// Training modules `record-training-completion` spreads over.
    #[arg(long, env = "DOWNLINE_MODULES", default_value_t = 20)]
    pub modules: usize,
    /// The day `record-training-completion` records, YYYY-MM-DD.
    #[arg(long, env = "DOWNLINE_COMPLETED_ON", default_value = "2026-11-28")]
    pub completed_on: String,
    /// The seed of the random choice of ids.
    #[arg(long, env = "DOWNLINE_SEED", default_value_t = 7)]
    pub seed: u64,
    /// A request not answered within this many milliseconds counts as a
    /// client timeout; the run also ends at most this long after `--duration-s`.
    #[arg(long, env = "DOWNLINE_TIMEOUT_MS", default_value_t = 5_000)]
    pub timeout_ms: u64,
    /// An API key or JWT, sent as `authorization: Bearer <token>`.
    #[arg(long, env = "DOWNLINE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// What a caller that runs other work beside an open-loop load
/// (`downline-tools stall`) hooks into it; ignored by a closed loop.
#[derive(Default)]
pub struct Hooks {
    /// Once set, the run ends early: requests scheduled after this instant
    /// are not sent (those scheduled before it still are, however late).
    pub end: Arc<Mutex<Option<Instant>>>,
    /// Told the instant request 0 is scheduled at, once the load is ready.
    pub started: Option<mpsc::Sender<Instant>>,
    /// Keep every request's scheduled time and latency, for [`Stats::window`].
    pub timeline: bool,
}

/// Runs the load and prints its report.
pub fn run(args: LoadtestArgs) -> Result<(), String> {
    measure(args)?.print()
}

/// Runs the load and returns what it measured (the report is printed by
/// [`run`]; the plan's one-line description is printed at the start).
pub fn measure(args: LoadtestArgs) -> Result<Stats, String> {
    measure_with(args, Hooks::default())
}

/// [`measure`], with `hooks` into the open loop.
pub fn measure_with(args: LoadtestArgs, hooks: Hooks) -> Result<Stats, String> {
    validate(&args)?;
    let lean = args.client == Client::H2 && lean::supports(args.rpc) && args.target.starts_with("http://");
    let runtime = if lean {
        // One thread sends, keeps the schedule and reads the answers.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start tokio: {e}"))?
    } else {
        downline::cli::runtime()?
    };
    runtime.block_on(async move {
        let ids = Arc::new(crate::loadtest_ids::load_ids(&args).await?);
        let channels = connect(&args, &ids[0], if lean { 1 } else { connection_count(&args) }).await?;
        let bearer = Bearer::new(args.token.as_deref())?;
        let mut lean_channels = Vec::new();
        if lean {
            for _ in 0..connection_count(&args) {
                lean_channels.push(LeanChannel::connect(&args.target, &bearer, args.rpc).await?);
            }
        }
        if args.rpc == Rpc::RecordTrainingCompletion {
            crate::loadtest_team::prepare_modules(channels[0].clone(), &bearer, args.modules).await?;
        }
        let plan = Arc::new(Plan::new(&args, ids, channels, lean_channels, bearer));
        downline::cli::stdout::line(format_args!("{}", plan.describe(&args)))?;
        if args.rate == 0 {
            Ok(closed_loop(plan, &args).await)
        } else {
            open_loop(plan, &args, hooks).await
        }
    })
}

/// One HTTP/2 connection per 16 in-flight requests.
fn connection_count(args: &LoadtestArgs) -> usize {
    args.concurrency.div_ceil(IN_FLIGHT_PER_CHANNEL)
}

/// Checks the flags' ranges before anything is sent.
pub fn validate(args: &LoadtestArgs) -> Result<(), String> {
    if !(1..=MAX_DURATION_S).contains(&args.duration_s) {
        return Err(format!("--duration-s must be 1 to {MAX_DURATION_S}"));
    }
    if args.rate > MAX_RATE {
        return Err(format!("--rate must be at most {MAX_RATE} (0 for a closed loop)"));
    }
    if !(1..=MAX_CONCURRENCY).contains(&args.concurrency) {
        return Err(format!("--concurrency must be 1 to {MAX_CONCURRENCY}"));
    }
    if !(1..=60_000).contains(&args.timeout_ms) {
        return Err("--timeout-ms must be 1 to 60000".into());
    }
    if !(1..=1000).contains(&args.page_size) {
        return Err("--page-size must be 1 to 1000".into());
    }
    if !(1..=100_000).contains(&args.batch) {
        return Err("--batch must be 1 to 100000".into());
    }
    if !(1..=500).contains(&args.modules) {
        return Err("--modules must be 1 to 500".into());
    }
    if args.root.is_none() && args.ids_from.is_none() {
        return Err(crate::loadtest_ids::NO_IDS.into());
    }
    Ok(())
}

/// Opens `count` tonic connections, and checks each with a GetPartner of
/// `probe_id` (which also warms it up).
async fn connect(args: &LoadtestArgs, probe_id: &str, count: usize) -> Result<Vec<Channel>, String> {
    let endpoint = Endpoint::from_shared(args.target.clone())
        .map_err(|e| format!("--target {}: {e}", args.target))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5));
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count {
        let channel = endpoint.connect().await.map_err(|e| format!("cannot connect to {}: {e}", args.target))?;
        let probe = pb::GetPartnerRequest { partner_id: probe_id.to_owned() };
        GenealogyServiceClient::with_interceptor(channel.clone(), Bearer::new(args.token.as_deref())?)
            .get_partner(probe)
            .await
            .map_err(|s| format!("probe GetPartner('{probe_id}') failed: {:?}: {}", s.code(), s.message()))?;
        channels.push(channel);
    }
    Ok(channels)
}

/// What every request needs: the connections, the ids and the RPC.
struct Plan {
    rpc: Rpc,
    /// tonic connections; only the first is used when `lean` is not empty.
    channels: Vec<Channel>,
    /// The lean client's connections, when it sends this run's requests.
    lean: Vec<LeanChannel>,
    ids: Arc<Vec<String>>,
    settings: CallSettings,
    timeout: Duration,
    bearer: Bearer,
}

impl Plan {
    fn new(
        args: &LoadtestArgs,
        ids: Arc<Vec<String>>,
        channels: Vec<Channel>,
        lean: Vec<LeanChannel>,
        bearer: Bearer,
    ) -> Plan {
        let settings = CallSettings {
            period: args.period.clone(),
            page_size: args.page_size,
            batch: args.batch,
            modules: args.modules,
            completed_on: args.completed_on.clone(),
            run_tag: format!("{:x}{:x}", downline::service::now_unix_ms(), args.seed),
        };
        let timeout = Duration::from_millis(args.timeout_ms);
        Plan { rpc: args.rpc, channels, lean, ids, settings, timeout, bearer }
    }

    fn describe(&self, args: &LoadtestArgs) -> String {
        let mode = match args.rate {
            0 => format!("closed loop with {} workers", args.concurrency),
            r => format!("open loop at {r}/s with at most {} in flight", args.concurrency),
        };
        let source = match &args.ids_from {
            Some(path) => path.display().to_string(),
            None => format!("the downline of '{}' (breadth-first)", args.root.as_deref().unwrap_or("")),
        };
        let (client, connections) = match self.lean.len() {
            0 => ("tonic", self.channels.len()),
            n => ("h2", n),
        };
        format!(
            "loadtest {:?} against {} for {} s: {mode}, {client} client, {connections} connections, {} ids from {source}, seed {}",
            self.rpc,
            args.target,
            args.duration_s,
            self.ids.len(),
            args.seed
        )
    }

    /// The partner (and sponsor, for creations) of request `n`.
    fn pick(&self, n: u64, rng: &mut StdRng) -> (String, String) {
        let existing = self.ids[rng.gen_range(0..self.ids.len())].clone();
        match self.rpc {
            Rpc::CreatePartner => (format!("lt-{}-{n}", self.settings.run_tag), existing),
            Rpc::RecordOrders => (String::new(), String::new()),
            _ => (existing, String::new()),
        }
    }

    /// Sends request `n` on its connection and waits for the answer.
    async fn send(&self, n: u64, partner_id: String, sponsor_id: String) -> Result<(), Outcome> {
        let call = self.settings.call(self.rpc, n, partner_id, sponsor_id, &self.ids);
        let answered = async {
            // Encoded only when the lean client sends it.
            match (!self.lean.is_empty()).then(|| call.frame()).flatten() {
                Some((body, actor)) => self.lean[n as usize % self.lean.len()].unary(body, actor).await,
                None => {
                    let channel = self.channels[n as usize % self.channels.len()].clone();
                    call.send_tonic(channel, &self.bearer).await.map_err(|s| Outcome::Status(s.code()))
                }
            }
        };
        match tokio::time::timeout(self.timeout, answered).await {
            Ok(result) => result,
            Err(_) => Err(Outcome::ClientTimeout),
        }
    }
}

/// One request of the open-loop schedule.
struct Slot {
    n: u64,
    scheduled: Instant,
}

async fn open_loop(plan: Arc<Plan>, args: &LoadtestArgs, hooks: Hooks) -> Result<Stats, String> {
    let total = args.rate * args.duration_s;
    let start = Instant::now() + Duration::from_millis(20);
    let hard_end = start + Duration::from_secs(args.duration_s) + plan.timeout;
    let mut stats = Stats::new(start, total);
    if hooks.timeline {
        stats.keep_timeline(usize::try_from(total).unwrap_or(usize::MAX));
    }
    let stats = Arc::new(Mutex::new(stats));
    let slots = Arc::new(Semaphore::new(args.concurrency));
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut clock = Clock::new()?;
    if let Some(started) = hooks.started {
        // The receiver may have given up waiting: the load runs anyway.
        let _ = started.send(start);
    }
    for n in 0..total {
        let slot = Slot {
            n,
            scheduled: start + Duration::from_nanos((u128::from(n) * 1_000_000_000 / u128::from(args.rate)) as u64),
        };
        if hooks.end.lock().is_some_and(|end| slot.scheduled > end) {
            stats.lock().ended_after(n);
            break;
        }
        clock.wait_until(slot.scheduled).await?;
        let acquired = tokio::time::timeout_at(hard_end.into(), Arc::clone(&slots).acquire_owned()).await;
        let permit = match acquired {
            Ok(permit) if Instant::now() < hard_end => permit.expect("the semaphore is never closed"),
            _ => {
                // Past the end of the run: never sent. Recorded with the wait
                // it already had, a lower bound of its latency.
                stats.lock().unsent(slot.scheduled, Instant::now());
                continue;
            }
        };
        let (partner_id, sponsor_id) = plan.pick(slot.n, &mut rng);
        let (plan, stats) = (Arc::clone(&plan), Arc::clone(&stats));
        tokio::spawn(async move {
            let sent = Instant::now();
            let result = plan.send(slot.n, partner_id, sponsor_id).await;
            stats.lock().record(slot.scheduled, sent, Instant::now(), result);
            drop(permit);
        });
    }
    // Every request has its own timeout, so all slots come back.
    let _ = slots.acquire_many(args.concurrency as u32).await;
    Ok(Arc::try_unwrap(stats).map_or_else(|s| s.lock().clone(), Mutex::into_inner))
}

async fn closed_loop(plan: Arc<Plan>, args: &LoadtestArgs) -> Stats {
    let start = Instant::now();
    let end = start + Duration::from_secs(args.duration_s);
    let stats = Arc::new(Mutex::new(Stats::new(start, 0)));
    let workers: Vec<_> = (0..args.concurrency as u64)
        .map(|w| {
            let (plan, stats) = (Arc::clone(&plan), Arc::clone(&stats));
            let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(w));
            let stride = args.concurrency as u64;
            tokio::spawn(async move {
                let mut n = w;
                while Instant::now() < end {
                    let (partner_id, sponsor_id) = plan.pick(n, &mut rng);
                    let sent = Instant::now();
                    let result = plan.send(n, partner_id, sponsor_id).await;
                    let mut s = stats.lock();
                    s.record_unscheduled(sent, Instant::now(), result);
                    n += stride;
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    Arc::try_unwrap(stats).map_or_else(|s| s.lock().clone(), Mutex::into_inner)
}
