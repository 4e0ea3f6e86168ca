//! The cost of access control per request: authenticating an API key or a
//! JWT (HS256 and RS256, first use and cached), and the object-level check
//! of a partner token (is the target in the caller's downline?) on a
//! realistic million-partner network and on a million-deep chain, against
//! the naive walk up the sponsors.
//!
//! The `guard/*` benches run the whole access guard (table, semaphore,
//! credential, role, subject resolution, timeout) around a service that
//! answers at once, against `guard/none`, the same call without it.
//!
//! `cargo bench --bench auth` takes about a minute; `-- visibility` runs
//! only the checks.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use downline::auth::jwt::{JwtConfig, JwtKeySource, JwtVerifier};
use downline::auth::keys::{line, new_key, ApiKeys};
use downline::auth::{Credentials, Role};
use downline::engine::{Date, Genealogy, NewPartner, PartnerIx};
use downline::service::guard::GuardLayer;
use downline::service::limits::Limits;
use downline::service::App;
use downline::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Duration;
use tonic::body::Body;
use tonic::codegen::http;

const SEED: u64 = 7;
const PAIRS: usize = 4096;
const AUDIENCE: &str = "downline-app";

fn verifier(key: JwtKeySource) -> JwtVerifier {
    JwtVerifier::new(&JwtConfig { key, audience: AUDIENCE.into(), issuer: None, leeway_secs: 30 }).expect("a verifier")
}

fn claims() -> serde_json::Value {
    let exp = jsonwebtoken::get_current_timestamp() + 3600;
    serde_json::json!({ "sub": "12345", "aud": AUDIENCE, "exp": exp })
}

fn credentials(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let keys: Vec<String> = (0..100).map(|_| new_key()).collect();
    let text: String = keys.iter().enumerate().map(|(i, k)| line(k, Role::Backend, &format!("k{i}")) + "\n").collect();
    let creds = Credentials::new(ApiKeys::parse(&text).expect("keys"), None);
    let header = format!("Bearer {}", keys[42]);
    c.bench_function("auth/api_key", |b| b.iter(|| creds.authenticate(Some(black_box(header.as_bytes())))));
    let wrong = format!("Bearer {}", new_key());
    c.bench_function("auth/api_key_unknown", |b| b.iter(|| creds.authenticate(Some(black_box(wrong.as_bytes())))));

    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"a-secret-of-the-identity-service-0123456789").expect("a secret");
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"a-secret-of-the-identity-service-0123456789"),
    )
    .expect("a token");
    let hs_key = || JwtKeySource::Hs256SecretFile(secret.clone());
    let cached = verifier(hs_key());
    c.bench_function("auth/jwt_hs256_cached", |b| b.iter(|| cached.verify(black_box(&hs)).expect("valid")));
    c.bench_function("auth/jwt_hs256_first_use", |b| {
        b.iter_batched(|| verifier(hs_key()), |v| v.verify(&hs).expect("valid"), BatchSize::SmallInput)
    });

    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
    let private = rsa::RsaPrivateKey::new(&mut StdRng::seed_from_u64(SEED), 2048).expect("an RSA key");
    let public = dir.path().join("public.pem");
    let pem = private.to_public_key().to_public_key_pem(LineEnding::LF).expect("a PEM");
    std::fs::write(&public, pem).expect("a public key");
    let private_pem = private.to_pkcs8_pem(LineEnding::LF).expect("a PEM");
    let rs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims(),
        &jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("a key"),
    )
    .expect("a token");
    let rs_key = || JwtKeySource::Rs256PublicKeyFile(public.clone());
    let cached = verifier(rs_key());
    c.bench_function("auth/jwt_rs256_cached", |b| b.iter(|| cached.verify(black_box(&rs)).expect("valid")));
    c.bench_function("auth/jwt_rs256_first_use", |b| {
        b.iter_batched(|| verifier(rs_key()), |v| v.verify(&rs).expect("valid"), BatchSize::SmallInput)
    });
}

/// (caller, target) pairs: targets at random, callers a random ancestor of
/// each (the answer is yes), then as many unrelated callers (mostly no).
/// (caller, target) pairs of partner indices.
type Pairs = Vec<(PartnerIx, PartnerIx)>;

fn pairs(g: &Genealogy) -> (Pairs, Pairs) {
    let mut rng = StdRng::seed_from_u64(SEED);
    let n = g.len() as u32;
    let below = (0..PAIRS)
        .map(|_| {
            let target = PartnerIx::new(rng.gen_range(0..n));
            let caller = g.ancestor_at_depth(target, rng.gen_range(0..=g.depth_of(target)));
            (caller, target)
        })
        .collect();
    let random =
        (0..PAIRS).map(|_| (PartnerIx::new(rng.gen_range(0..n)), PartnerIx::new(rng.gen_range(0..n)))).collect();
    (below, random)
}

fn naive(g: &Genealogy, ancestor: PartnerIx, ix: PartnerIx) -> bool {
    ancestor != ix && g.is_self_or_ancestor(ancestor, ix)
}

fn visibility(c: &mut Criterion) {
    let mut g = Genealogy::new();
    g.import(&downline::synth::partners(1_000_000, SEED)).expect("a network");
    let (below, random) = pairs(&g);
    let max_depth = (0..g.len() as u32).map(|x| g.depth_of(PartnerIx::new(x))).max().unwrap_or(0);
    eprintln!("realistic network: 1,000,000 partners, max depth {max_depth}");
    let mut k = 0;
    c.bench_function("visibility/realistic_1m_in_downline", |b| {
        b.iter(|| {
            k = (k + 1) % PAIRS;
            let (a, x) = below[k];
            g.is_in_downline_of(black_box(a), black_box(x))
        })
    });
    c.bench_function("visibility/realistic_1m_random_pair", |b| {
        b.iter(|| {
            k = (k + 1) % PAIRS;
            let (a, x) = random[k];
            g.is_in_downline_of(black_box(a), black_box(x))
        })
    });
    c.bench_function("visibility/realistic_1m_naive_walk", |b| {
        b.iter(|| {
            k = (k + 1) % PAIRS;
            let (a, x) = below[k];
            naive(&g, black_box(a), black_box(x))
        })
    });
    drop(g);

    let joined = Date::parse("2026-01-15").expect("a date");
    let rows: Vec<NewPartner> = (0..1_000_000)
        .map(|i: u32| NewPartner {
            partner_id: format!("d{i}"),
            sponsor_id: if i == 0 { String::new() } else { format!("d{}", i - 1) },
            joined_on: joined,
            display_name: String::new(),
        })
        .collect();
    let mut chain = Genealogy::new();
    chain.import(&rows).expect("a chain");
    let (top, bottom) = (PartnerIx::new(1), PartnerIx::new(999_999));
    c.bench_function("visibility/chain_1m_deepest_below_top", |b| {
        b.iter(|| chain.is_in_downline_of(black_box(top), black_box(bottom)))
    });
    c.bench_function("visibility/chain_1m_naive_walk", |b| b.iter(|| naive(&chain, black_box(top), black_box(bottom))));
}

/// A service that answers at once: what the guard wraps in the benches.
#[derive(Clone)]
struct Answer;

impl tower_service::Service<http::Request<Body>> for Answer {
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<http::Response<Body>, std::convert::Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> Self::Future {
        std::future::ready(Ok(http::Response::new(Body::default())))
    }
}

fn guard(c: &mut Criterion) {
    use tower_layer::Layer as _;
    use tower_service::Service as _;
    let dir = tempfile::tempdir().expect("a temp dir");
    let (store, mut network) = Store::open(&dir.path().join("data")).expect("a store");
    network.import(&downline::synth::partners(1000, SEED)).expect("partners");
    let app = App::new(store, network, Limits::default());
    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"a-secret-of-the-identity-service-0123456789").expect("a secret");
    let key = new_key();
    let keys = ApiKeys::parse(&line(&key, Role::Backend, "bench")).expect("keys");
    let jwt = verifier(JwtKeySource::Hs256SecretFile(secret));
    let credentials = Credentials::new(keys, Some(jwt));
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({ "sub": "1", "aud": AUDIENCE, "exp": jsonwebtoken::get_current_timestamp() + 3600 }),
        &jsonwebtoken::EncodingKey::from_secret(b"a-secret-of-the-identity-service-0123456789"),
    )
    .expect("a token");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let request = |token: Option<&str>| {
        let mut r = http::Request::builder().uri("/downline.v1.GenealogyService/GetPartner");
        if let Some(token) = token {
            r = r.header("authorization", format!("Bearer {token}"));
        }
        r.body(Body::default()).expect("a request")
    };
    let mut none = Answer;
    c.bench_function("guard/none", |b| b.iter(|| rt.block_on(none.call(request(None)))));
    let open = GuardLayer::new(Arc::clone(&app), None, Limits::default()).expect("a guard");
    let mut open = open.layer(Answer);
    c.bench_function("guard/open_mode", |b| b.iter(|| rt.block_on(open.call(request(None)))));
    let secured = GuardLayer::new(Arc::clone(&app), Some(credentials), Limits::default()).expect("a guard");
    let mut secured = secured.layer(Answer);
    c.bench_function("guard/api_key", |b| b.iter(|| rt.block_on(secured.call(request(Some(&key))))));
    c.bench_function("guard/partner_jwt_cached", |b| b.iter(|| rt.block_on(secured.call(request(Some(&token))))));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = guard, credentials, visibility
}
criterion_main!(benches);
