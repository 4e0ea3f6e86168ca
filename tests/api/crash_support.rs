//! Support of `tests/api/crash.rs`: a guard around the real server process and a
//! plain model of one task's partners (the state its acknowledged writes
//! define), from which every partner's expected view is recomputed naively.

use downline::proto::v1 as pb;
use rand::rngs::StdRng;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

pub const ENROLLED: i32 = pb::PartnerStatus::Enrolled as i32;
pub const SUSPENDED: i32 = pb::PartnerStatus::Suspended as i32;
pub const TERMINATED: i32 = pb::PartnerStatus::Terminated as i32;
pub const CREATED: i32 = pb::GenealogyEventKind::Created as i32;
const MOVED: i32 = pb::GenealogyEventKind::Moved as i32;
const STATUS_CHANGED: i32 = pb::GenealogyEventKind::StatusChanged as i32;
const SPONSOR_TERMINATED: i32 = pb::GenealogyEventKind::SponsorTerminated as i32;

/// The kill comes this long after the load starts.
const KILL_AFTER_MS: std::ops::RangeInclusive<u64> = 20..=700;

/// How long a server may take to print its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The server binary on a data directory; SIGKILLed when dropped, so a
/// failing or stuck test never leaks it.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Starts `downline serve` on `dir` at a free port of 127.0.0.1 and
    /// waits for its `listening on` line.
    pub fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the downline binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut server = Server { child, url: String::new() };
        let (tx, rx) = mpsc::channel();
        // Drains stdout until the process dies (EOF), so the pipe never fills.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        for _ in 0..100 {
            let line = rx
                .recv_timeout(STARTUP_TIMEOUT)
                .unwrap_or_else(|e| panic!("the server printed no address within {STARTUP_TIMEOUT:?}: {e}"));
            if let Some(addr) = line.strip_prefix("listening on ") {
                server.url = format!("http://{}", addr.trim());
                return server;
            }
        }
        panic!("the server printed 100 lines but no `listening on`");
    }

    /// SIGKILL (on unix `Child::kill` sends SIGKILL) and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One write of the workload.
#[derive(Clone, Debug)]
pub enum Op {
    Create(pb::CreatePartnerRequest),
    Import(Vec<pb::CreatePartnerRequest>),
    Move { id: String, to: String },
    Status { id: String, status: i32 },
}

/// A partner as the model holds it.
#[derive(Clone, Debug)]
pub struct MPartner {
    pub sponsor: String,
    pub status: i32,
    pub joined_on: String,
    pub name: String,
    /// The kinds of its audit events, oldest first.
    pub events: Vec<i32>,
}

/// What GetPartner must answer for a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub sponsor: String,
    pub status: i32,
    pub depth: u32,
    pub joined_on: String,
    pub name: String,
    pub frontline: u32,
    pub downline: u64,
}

impl From<&pb::Partner> for View {
    fn from(p: &pb::Partner) -> View {
        View {
            sponsor: p.sponsor_id.clone(),
            status: p.status,
            depth: p.depth,
            joined_on: p.joined_on.clone(),
            name: p.display_name.clone(),
            frontline: p.frontline_count,
            downline: p.downline_count,
        }
    }
}

/// The partners of one task: a tree of its own under one root, which no
/// other task touches, so its state is fixed by its acknowledged writes.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub partners: BTreeMap<String, MPartner>,
    /// Ids in creation order (the last live one sponsors a chain).
    pub order: Vec<String>,
}

impl Model {
    /// The live (not terminated) partners, in creation order.
    pub fn live(&self) -> Vec<String> {
        self.order.iter().filter(|id| self.partners[*id].status != TERMINATED).cloned().collect()
    }

    pub fn is_root(&self, id: &str) -> bool {
        self.partners[id].sponsor.is_empty()
    }

    /// The live partners below `id`, at any depth.
    pub fn downline(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut frontier = vec![id.to_owned()];
        for _ in 0..=self.order.len() {
            let Some(s) = frontier.pop() else { break };
            for c in
                self.order.iter().filter(|c| self.partners[*c].status != TERMINATED && self.partners[*c].sponsor == s)
            {
                out.push(c.clone());
                frontier.push(c.clone());
            }
        }
        out
    }

    fn add(&mut self, r: &pb::CreatePartnerRequest) {
        let p = MPartner {
            sponsor: r.sponsor_id.clone(),
            status: ENROLLED,
            joined_on: r.joined_on.clone(),
            name: r.display_name.clone(),
            events: vec![CREATED],
        };
        self.partners.insert(r.partner_id.clone(), p);
        self.order.push(r.partner_id.clone());
    }

    /// Applies an acknowledged (or possibly applied) write. The workload
    /// only generates writes that succeed and change something.
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::Create(r) => self.add(r),
            Op::Import(rows) => rows.iter().for_each(|r| self.add(r)),
            Op::Move { id, to } => {
                let p = self.partners.get_mut(id).expect("moved partner");
                p.sponsor.clone_from(to);
                p.events.push(MOVED);
            }
            Op::Status { id, status } if *status == TERMINATED => {
                let sponsor = self.partners[id].sponsor.clone();
                for (_, c) in self.partners.iter_mut().filter(|(_, c)| c.status != TERMINATED && c.sponsor == *id) {
                    c.sponsor.clone_from(&sponsor);
                    c.events.push(SPONSOR_TERMINATED);
                }
                let p = self.partners.get_mut(id).expect("terminated partner");
                p.status = TERMINATED;
                p.events.push(STATUS_CHANGED);
            }
            Op::Status { id, status } => {
                let p = self.partners.get_mut(id).expect("partner");
                p.status = *status;
                p.events.push(STATUS_CHANGED);
            }
        }
    }

    /// Every partner's expected view, recomputed from sponsors and statuses.
    pub fn views(&self) -> BTreeMap<String, View> {
        let mut views: BTreeMap<String, View> = BTreeMap::new();
        for (id, p) in &self.partners {
            let mut view = View {
                sponsor: p.sponsor.clone(),
                status: p.status,
                depth: 0,
                joined_on: p.joined_on.clone(),
                name: p.name.clone(),
                frontline: 0,
                downline: 0,
            };
            if p.status != TERMINATED {
                let mut s = &p.sponsor;
                while !s.is_empty() && view.depth as usize <= self.partners.len() {
                    view.depth += 1;
                    s = &self.partners[s].sponsor;
                }
            }
            views.insert(id.clone(), view);
        }
        for p in self.partners.values().filter(|p| p.status != TERMINATED) {
            if !p.sponsor.is_empty() {
                views.get_mut(&p.sponsor).expect("sponsor").frontline += 1;
            }
            let mut s = p.sponsor.clone();
            for _ in 0..=self.partners.len() {
                if s.is_empty() {
                    break;
                }
                views.get_mut(&s).expect("ancestor").downline += 1;
                s.clone_from(&self.partners[&s].sponsor);
            }
        }
        views
    }

    /// All ids this model, or it after `extra`, may hold.
    pub fn ids_with(&self, extra: Option<&Op>) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = self.partners.keys().cloned().collect();
        match extra {
            Some(Op::Create(r)) => {
                ids.insert(r.partner_id.clone());
            }
            Some(Op::Import(rows)) => ids.extend(rows.iter().map(|r| r.partner_id.clone())),
            _ => {}
        }
        ids
    }
}

/// The differences between an expected and an observed state, one line each.
pub fn diff(expected: &BTreeMap<String, View>, observed: &BTreeMap<String, View>) -> Vec<String> {
    let ids: BTreeSet<&String> = expected.keys().chain(observed.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        match (expected.get(id), observed.get(id)) {
            (Some(e), None) => out.push(format!("{id}: MISSING (expected {e:?})")),
            (None, Some(o)) => out.push(format!("{id}: exists but should not: {o:?}")),
            (Some(e), Some(o)) if e != o => out.push(format!("{id}: expected {e:?}, got {o:?}")),
            _ => {}
        }
    }
    out
}

/// A `u64` from an environment variable, if set (a malformed one panics).
pub fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(value.trim().parse().unwrap_or_else(|e| panic!("{name}={value:?}: {e}")))
}

/// A channel to `url`, retried for about a second while the server starts.
pub async fn connect_channel(url: &str, rpc_timeout: std::time::Duration) -> tonic::transport::Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("server url")
        .timeout(rpc_timeout)
        .connect_timeout(std::time::Duration::from_secs(5));
    let mut last = None;
    for _ in 0..20 {
        match endpoint.connect().await {
            Ok(channel) => return channel,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("cannot connect to {url}: {last:?}");
}

/// The rounds (`DOWNLINE_CRASH_ROUNDS`, 3 by default) and the seed
/// (`DOWNLINE_CRASH_SEED`, else the clock) of the crash test `name`,
/// printed with how to replay the workload.
pub fn rounds_and_seed(name: &str) -> (usize, u64) {
    let rounds = env_u64("DOWNLINE_CRASH_ROUNDS").unwrap_or(3) as usize;
    let seed = env_u64("DOWNLINE_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as u64
    });
    eprintln!("{name}: {rounds} rounds, seed {seed} (replay with DOWNLINE_CRASH_SEED={seed})");
    (rounds, seed)
}

/// The seed of writer `task` in `round`: distinct for every pair.
pub fn task_seed(seed: u64, round: usize, task: usize) -> u64 {
    seed ^ ((round as u64) << 32) ^ (task as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// What one kill left behind.
pub struct Killed<T> {
    /// How long the load ran before the kill, in milliseconds.
    pub delay_ms: u64,
    /// The moment of the kill: a call that failed before it is a bug.
    pub at: Instant,
    /// Each writer's run, in the order of the handles.
    pub runs: Vec<T>,
}

/// Lets the writers load the server for a random moment, SIGKILLs it,
/// collects every writer (each must end within `2 × rpc_timeout`) and
/// starts the server again on `dir`.
pub async fn kill_and_restart<T>(
    server: &mut Server,
    dir: &Path,
    rng: &mut StdRng,
    handles: Vec<JoinHandle<T>>,
    rpc_timeout: Duration,
) -> Killed<T> {
    let delay_ms = rng.gen_range(KILL_AFTER_MS);
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    let at = Instant::now();
    server.kill();
    let mut runs = Vec::new();
    for handle in handles {
        let run = tokio::time::timeout(2 * rpc_timeout, handle).await.expect("a writer is stuck");
        runs.push(run.expect("a writer panicked"));
    }
    *server = Server::start(dir);
    Killed { delay_ms, at, runs }
}
