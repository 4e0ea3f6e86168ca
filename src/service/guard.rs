//! The guard: one tower layer in front of every service. For each request
//! it
//! 1. finds the method in the access table (`service::access`); a public
//!    method (health) passes as it is;
//! 2. refuses it with UNAVAILABLE once the store failed (fail-stop: the
//!    one place that checks it; health reports NOT_SERVING meanwhile);
//! 3. sheds it with RESOURCE_EXHAUSTED when its budget is spent: unary
//!    calls and client streams have one each, so idle streams never lock
//!    unary calls out (before any work: under overload even a JWT check is
//!    spared);
//! 4. authenticates it (UNAUTHENTICATED without a valid credential; in open
//!    development mode every caller is an admin);
//! 5. authorizes the role (PERMISSION_DENIED, and for every caller when the
//!    method is not in the table: deny by default);
//! 6. resolves a partner token's subject to a live partner
//!    (PERMISSION_DENIED otherwise);
//! 7. records the caller in the request's span, puts the [`Caller`] into
//!    the request's extensions for the handlers' object-level checks, and
//!    runs the request under its timeout (DEADLINE_EXCEEDED), a client
//!    stream also under its idle timeout (`stream_bodies::IdleBody`);
//! 8. logs the call's `rpc` line once its status is known
//!    (`service::rpc_log`), and failed authentications at warn, rate-limited;
//! 9. at shutdown, once the drain deadline passed, answers every call still
//!    open with UNAVAILABLE ([`GuardLayer::cancel_open_calls`]) and ends
//!    the answers that stream (health Watch, reflection).
//!
//! Its cost is a map lookup, a semaphore permit, a boxed future, a timer
//! and the credential check: 0.6 to 1.1 µs per request on a quiet machine
//! (BENCHMARKS.md, `cargo bench --bench auth -- guard/`).

use super::access::{self, Allow};
use super::caller::Caller;
use super::limits::Limits;
use super::rpc_log::{self, AuthWarnings, RpcRecord};
use super::status::{from_guard, oversize_as_exhausted};
use super::stream_bodies::{cancelled, DrainBody, IdleBody};
use super::App;
use crate::auth::{AuthError, Credentials, Principal, AUTHORIZATION_HEADER};
use crate::engine::PartnerStatus;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;
use tonic::codegen::http;
use tower_layer::Layer;
use tower_service::Service;

/// Why the guard refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// No valid credential (UNAUTHENTICATED).
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// The role may not call the method (PERMISSION_DENIED).
    #[error("{role} callers may not call {method}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// The method's path.
        method: String,
    },
    /// No such method: the path names no method this server serves
    /// (UNIMPLEMENTED, decided before authentication; every served method
    /// is in the access table, `tests/api/auth_table.rs`).
    #[error("{0} is not a method of this server")]
    UnknownMethod(String),
    /// A valid token names no live partner (PERMISSION_DENIED).
    #[error("the token's subject '{0}' is not an enrolled or suspended partner of this network")]
    UnknownSubject(String),
    /// The concurrency limit is reached (RESOURCE_EXHAUSTED).
    #[error("{0} requests are in progress, the server's limit: retry with backoff")]
    Overloaded(usize),
    /// The client streams' budget is spent (RESOURCE_EXHAUSTED).
    #[error("{0} client streams are open, the server's limit (--max-concurrent-streams): retry with backoff")]
    StreamsOverloaded(usize),
    /// A client stream sent nothing for too long (DEADLINE_EXCEEDED).
    #[error("the client stream sent nothing for {0:?}, the server's idle limit (--stream-idle-timeout-ms)")]
    StreamIdle(Duration),
    /// The server shuts down and the drain deadline passed (UNAVAILABLE).
    #[error(
        "the server is shutting down and its drain deadline of {0:?} (--shutdown-grace-ms) passed: retry elsewhere"
    )]
    ShuttingDown(Duration),
    /// The request outlived its timeout (DEADLINE_EXCEEDED).
    #[error("the request took longer than the server's limit of {0:?}")]
    TimedOut(Duration),
    /// A flush failed: the server serves nothing more (UNAVAILABLE).
    #[error("the store failed to write to disk; this server serves nothing more until it is restarted")]
    StoreFailed,
}

/// What the guard knows, shared by every connection.
struct GuardState {
    rules: HashMap<&'static str, Allow>,
    client_streaming: HashSet<String>,
    /// Methods whose answer streams: their bodies end at the drain deadline.
    server_streaming: HashSet<String>,
    /// `None`: open development mode.
    credentials: Option<Credentials>,
    app: Arc<App>,
    permits: Arc<Semaphore>,
    stream_permits: Arc<Semaphore>,
    /// Turns true when the drain deadline passed: open calls end.
    drain: watch::Sender<bool>,
    /// Calls answered UNAVAILABLE by the drain deadline.
    cancelled: AtomicU64,
    limits: Limits,
    /// Failed authentications, warned about at a bounded rate.
    auth_warnings: AuthWarnings,
}

/// The layer, added to the server with `Server::builder().layer(..)`.
#[derive(Clone)]
pub struct GuardLayer {
    state: Arc<GuardState>,
}

impl GuardLayer {
    /// A guard over the access table and the served descriptors (which say
    /// which methods stream their requests, for the stream timeout).
    /// `credentials` `None` is open development mode.
    pub fn new(
        app: Arc<App>,
        credentials: Option<Credentials>,
        limits: Limits,
    ) -> Result<GuardLayer, prost::DecodeError> {
        let methods = access::methods(&access::served_descriptor_sets())?;
        let paths = |streams: fn(&access::Method) -> bool| {
            methods.iter().filter(|m| streams(m)).map(|m| m.path.clone()).collect::<HashSet<String>>()
        };
        let state = GuardState {
            rules: access::ACCESS.iter().copied().collect(),
            client_streaming: paths(|m| m.client_streaming),
            server_streaming: paths(|m| m.server_streaming),
            credentials,
            app,
            permits: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            stream_permits: Arc::new(Semaphore::new(limits.max_concurrent_streams)),
            drain: watch::channel(false).0,
            cancelled: AtomicU64::new(0),
            limits,
            auth_warnings: AuthWarnings::default(),
        };
        Ok(GuardLayer { state: Arc::new(state) })
    }

    /// The drain deadline passed: every call still open answers
    /// UNAVAILABLE at once (its handler is dropped), and every streaming
    /// answer ends, so the connections can close.
    pub fn cancel_open_calls(&self) {
        self.state.drain.send_replace(true);
    }

    /// How many calls [`GuardLayer::cancel_open_calls`] ended.
    pub fn cancelled_calls(&self) -> u64 {
        self.state.cancelled.load(Ordering::Relaxed)
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard { inner, state: Arc::clone(&self.state) }
    }
}

/// The guard around the services.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    state: Arc<GuardState>,
}

/// What an admitted request holds until it is answered.
struct Admitted {
    _permit: Option<OwnedSemaphorePermit>,
    timeout: Duration,
    /// The idle timeout of a client stream.
    idle: Option<Duration>,
    /// Whether the answer streams.
    streams_answer: bool,
}

impl GuardState {
    fn admit<B>(&self, request: &mut http::Request<B>, record: &mut RpcRecord) -> Result<Admitted, GuardError> {
        let path = request.uri().path();
        let Some((&method, &rule)) = self.rules.get_key_value(path) else {
            record.unknown_method(path);
            return Err(GuardError::UnknownMethod(path.chars().take(256).collect()));
        };
        record.method(method, rule == Allow::Public);
        let limits = &self.limits;
        let streaming = self.client_streaming.contains(path);
        let (timeout, idle) = if streaming {
            (limits.stream_timeout, Some(limits.stream_idle_timeout))
        } else {
            (limits.request_timeout, None)
        };
        let streams_answer = self.server_streaming.contains(path);
        if rule == Allow::Public {
            return Ok(Admitted { _permit: None, timeout, idle, streams_answer });
        }
        if self.app.store.has_failed() {
            return Err(GuardError::StoreFailed);
        }
        let permit = if streaming {
            Arc::clone(&self.stream_permits)
                .try_acquire_owned()
                .map_err(|_| GuardError::StreamsOverloaded(limits.max_concurrent_streams))?
        } else {
            Arc::clone(&self.permits)
                .try_acquire_owned()
                .map_err(|_| GuardError::Overloaded(limits.max_concurrent_requests))?
        };
        let caller = self.authenticate(request.headers()).inspect_err(|err| {
            if let GuardError::Unauthenticated(auth) = err {
                self.auth_warnings.failed(record, auth);
            }
        })?;
        record.caller(caller.role().as_str(), caller.name());
        let span = tracing::Span::current();
        span.record("role", caller.role().as_str());
        span.record("caller", caller.name());
        if !rule.admits(caller.role()) {
            return Err(GuardError::Forbidden { role: caller.role().as_str(), method: path.to_owned() });
        }
        request.extensions_mut().insert(caller);
        Ok(Admitted { _permit: Some(permit), timeout, idle, streams_answer })
    }

    fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, GuardError> {
        let Some(credentials) = &self.credentials else {
            return Ok(Caller::Open);
        };
        let value = headers.get(AUTHORIZATION_HEADER).map(http::HeaderValue::as_bytes);
        match credentials.authenticate(value)? {
            Principal::Key { role, name } => Ok(Caller::Key { role, name }),
            Principal::Partner { id } => {
                let g = &self.app.network.read().genealogy;
                match g.find(&id) {
                    Some(ix) if g.status_of(ix) != PartnerStatus::Terminated => Ok(Caller::Partner { ix, id }),
                    _ => Err(GuardError::UnknownSubject(id.chars().take(64).collect())),
                }
            }
        }
    }
}

impl<S> Service<http::Request<Body>> for Guard<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The clone that was made ready serves this request (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = Arc::clone(&self.state);
        // Everything happens in the future: tonic enters the request's span
        // only when polling it.
        Box::pin(async move {
            let mut record = RpcRecord::start();
            let admitted = match state.admit(&mut request, &mut record) {
                Ok(admitted) => admitted,
                Err(err) => return Ok(rpc_log::observe(refuse(err), record)),
            };
            if let Some(idle) = admitted.idle {
                request = request.map(|body| Body::new(IdleBody::new(body, idle)));
            }
            let mut drain = state.drain.subscribe();
            let answer = tokio::select! {
                answer = tokio::time::timeout(admitted.timeout, inner.call(request)) => answer,
                () = cancelled(&mut drain) => {
                    state.cancelled.fetch_add(1, Ordering::Relaxed);
                    let refused = refuse(GuardError::ShuttingDown(state.limits.shutdown_grace));
                    return Ok(rpc_log::observe(refused, record));
                }
            };
            match answer {
                Ok(Ok(mut response)) => {
                    oversize_as_exhausted(response.headers_mut());
                    if admitted.streams_answer {
                        let ended = from_guard(GuardError::ShuttingDown(state.limits.shutdown_grace));
                        response = response.map(|body| Body::new(DrainBody::new(body, drain, ended)));
                    }
                    Ok(rpc_log::observe(response, record))
                }
                Ok(Err(err)) => {
                    rpc_log::failed(record);
                    Err(err)
                }
                Err(_) => Ok(rpc_log::observe(refuse(GuardError::TimedOut(admitted.timeout)), record)),
            }
        })
    }
}

/// The refusal's answer; its reason at debug (the call's `rpc` line at
/// info has its code).
fn refuse(err: GuardError) -> http::Response<Body> {
    tracing::debug!(%err, "refused");
    from_guard(err).into_http()
}
