//! Random and hostile messages to every method of every served service,
//! through `downline serve` as a process with API keys and partner JWTs
//! (the flags of a real deployment), from several concurrent callers with
//! random credentials. No answer may be UNKNOWN, UNAVAILABLE, DATA_LOSS or
//! an INTERNAL other than tonic's "cannot decode the request"; the process
//! must never panic (its stderr is searched) and must answer health and
//! real reads afterwards.
//!
//! It runs for `DOWNLINE_FUZZ_SECS` seconds (default 4; CI keeps the
//! default); `DOWNLINE_FUZZ_SEED` replays a run (the seed is printed).

use crate::auth_fuzz_gen::Gen;
use crate::auth_support::*;
use downline::auth::keys::{line, new_key};
use downline::auth::Role;
use downline::proto::v1 as pb;
use downline::service::access::{self, Method};
use prost::Message as _;
use rand::Rng as _;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use tonic::Code;

const MAX_MESSAGE_BYTES: usize = 256 << 10;
const CALLERS: usize = 6;

/// The server process; killed when the test ends either way.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Whether an answer is one a correct server may give to garbage.
fn acceptable(method: &Method, answer: &Result<Vec<u8>, tonic::Status>) -> bool {
    let Err(status) = answer else { return true };
    match status.code() {
        Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::FailedPrecondition
        | Code::ResourceExhausted
        | Code::OutOfRange
        | Code::Unauthenticated
        | Code::PermissionDenied => true,
        // tonic's answer to bytes that are no protobuf of the request type.
        Code::Internal if status.message().starts_with("failed to decode Protobuf message") => true,
        Code::Internal if status.message().contains("Missing request message") => true,
        // Reflection answers a stream; this client expects one message.
        Code::Internal | Code::Unimplemented if method.path.contains("Reflection") => true,
        _ => false,
    }
}

fn start(dir: &std::path::Path, admin: &str, backend: &str) -> (Serve, std::net::SocketAddr) {
    let keys = dir.join("keys.txt");
    let text =
        format!("{}\n{}\n", line(admin, Role::Admin, "fuzz-admin"), line(backend, Role::Backend, "fuzz-backend"));
    std::fs::write(&keys, text).expect("a keys file");
    let secret = dir.join("jwt.secret");
    std::fs::write(&secret, SECRET).expect("a secret file");
    let stderr = std::fs::File::create(dir.join("stderr.log")).expect("a log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--jwt-audience", AUDIENCE, "--jwt-issuer", ISSUER])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--keys-file")
        .arg(&keys)
        .arg("--jwt-hs256-secret-file")
        .arg(&secret)
        .args(["--max-message-bytes", &MAX_MESSAGE_BYTES.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("a line on stdout");
    let addr = first.trim().strip_prefix("listening on ").expect("the listening line").parse().expect("an address");
    (Serve(child), addr)
}

async fn seed_network(channel: &Channel, admin: &str) {
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    let mut v = pb::volume_service_client::VolumeServiceClient::new(channel.clone());
    for (id, sponsor) in [("root", ""), ("me", "root"), ("kid", "me"), ("other", "")] {
        let create = pb::CreatePartnerRequest {
            partner_id: id.into(),
            sponsor_id: sponsor.into(),
            joined_on: "2026-01-15".into(),
            display_name: String::new(),
        };
        g.create_partner(authed(create, admin)).await.expect("a seed partner");
        let order = pb::Order {
            order_id: format!("seed-{id}"),
            partner_id: id.into(),
            period: "2026-11".into(),
            volume: "75".into(),
            kind: pb::OrderKind::Retail as i32,
            ..pb::Order::default()
        };
        v.record_order(authed(pb::RecordOrderRequest { order: Some(order) }, admin)).await.expect("a seed order");
    }
}

/// One caller: random methods, payloads and credentials until `end`.
/// What one caller saw: answers by code, and the unacceptable ones.
type Tally = (BTreeMap<String, u64>, Vec<String>);

async fn caller(
    channel: Channel,
    methods: Arc<Vec<Method>>,
    tokens: Arc<Vec<Option<String>>>,
    seed: u64,
    end: Instant,
) -> Tally {
    let sets =
        access::served_descriptor_sets().map(|b| prost_types::FileDescriptorSet::decode(b).expect("descriptors"));
    let mut gen = Gen::new(&sets, seed);
    let (mut codes, mut failures) = (BTreeMap::new(), Vec::new());
    while Instant::now() < end {
        let method = &methods[gen.rng().gen_range(0..methods.len())];
        // Mostly an admin key, to reach the handlers behind the guard.
        let token = match gen.rng().gen_range(0..10) {
            0..=4 => tokens[0].as_deref(),
            k => tokens[k - 4].as_deref(),
        };
        let count = if method.client_streaming { gen.rng().gen_range(0..4) } else { 1 };
        let count = if method.path.contains("Reflection") { count.min(1) } else { count };
        let payloads = (0..count).map(|_| gen.payload(&method.input_type, MAX_MESSAGE_BYTES)).collect();
        let call = raw_call(&channel, &method.path, payloads, method.client_streaming, token);
        let answer = match tokio::time::timeout(Duration::from_secs(20), call).await {
            Ok(answer) => answer,
            Err(_) => Err(tonic::Status::unknown("no answer within 20 s")),
        };
        let code = answer.as_ref().map_or_else(|e| e.code(), |_| Code::Ok);
        *codes.entry(format!("{code:?}")).or_insert(0) += 1;
        if !acceptable(method, &answer) {
            failures.push(format!("{} ({:?}): {:?}", method.path, token.map(|t| &t[..t.len().min(12)]), answer.err()));
        }
    }
    (codes, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_to_every_method_neither_panic_nor_stop_the_server() {
    let secs = env_u64("DOWNLINE_FUZZ_SECS").unwrap_or(4);
    let seed = env_u64("DOWNLINE_FUZZ_SEED").unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("fuzzing for {secs} s with DOWNLINE_FUZZ_SEED={seed}");
    let dir = tempfile::tempdir().expect("a temp dir");
    let (admin, backend) = (new_key(), new_key());
    let (mut server, addr) = start(dir.path(), &admin, &backend);
    let channel = crate::harness::channel(addr).await;
    seed_network(&channel, &admin).await;
    let methods: Vec<Method> = access::methods(&access::served_descriptor_sets())
        .expect("descriptors")
        .into_iter()
        .filter(|m| !m.path.ends_with("/Watch")) // a server stream that never ends
        .collect();
    let tokens = vec![
        Some(admin.clone()),
        Some(backend.clone()),
        Some(partner_token("me")),
        Some(partner_token("nobody")),
        None,
        Some("not-a-key".to_owned()),
    ];
    let (methods, tokens) = (Arc::new(methods), Arc::new(tokens));
    let end = Instant::now() + Duration::from_secs(secs);
    let callers: Vec<_> = (0..CALLERS as u64)
        .map(|k| tokio::spawn(caller(channel.clone(), Arc::clone(&methods), Arc::clone(&tokens), seed ^ k, end)))
        .collect();
    let (mut codes, mut failures) = (BTreeMap::<String, u64>::new(), Vec::new());
    for task in callers {
        let (c, f) = task.await.expect("a caller");
        c.into_iter().for_each(|(code, n)| *codes.entry(code).or_insert(0) += n);
        failures.extend(f);
    }
    let calls: u64 = codes.values().sum();
    eprintln!("{calls} hostile calls, answers by code: {codes:?}");
    assert!(server.0.try_wait().expect("wait works").is_none(), "the server process died");
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "the server panicked (seed {seed}):\n{log}");
    assert!(
        failures.is_empty(),
        "seed {seed}: {} bad answers, first ones: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    // Still serving: health and a real read.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health.check(tonic_health::pb::HealthCheckRequest::default()).await.expect("health answers");
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    g.get_partner(authed(pb::GetPartnerRequest { partner_id: "root".into() }, &admin)).await.expect("a real read");
    assert!(calls > 50, "only {calls} calls in {secs} s");
    let _ = server.0.kill();
}
