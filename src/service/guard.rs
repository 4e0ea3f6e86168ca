//! The guard: one tower layer in front of every service. For each request
//! it
//! 1. finds the method in the access table (`service::access`); a public
//!    method (health) passes as it is;
//! 2. sheds it with RESOURCE_EXHAUSTED when the concurrency limit is
//!    reached (before any work: under overload even a JWT check is spared);
//! 3. authenticates it (UNAUTHENTICATED without a valid credential; in open
//!    development mode every caller is an admin);
//! 4. authorizes the role (PERMISSION_DENIED, and for every caller when the
//!    method is not in the table: deny by default);
//! 5. resolves a partner token's subject to a live partner
//!    (PERMISSION_DENIED otherwise);
//! 6. records the caller in the request's span, puts the [`Caller`] into
//!    the request's extensions for the handlers' object-level checks, and
//!    runs the request under its timeout (DEADLINE_EXCEEDED).
//!
//! Its cost is a map lookup, a semaphore permit, a boxed future, a timer
//! and the credential check: 1 to 3.5 µs per request (BENCHMARKS.md).

use super::access::{self, Allow};
use super::caller::Caller;
use super::limits::Limits;
use super::status::{from_guard, oversize_as_exhausted};
use super::App;
use crate::auth::{AuthError, Credentials, Principal, AUTHORIZATION_HEADER};
use crate::engine::PartnerStatus;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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
    /// The method is not in the access table (PERMISSION_DENIED).
    #[error("{0} is not in the access table: nobody may call it")]
    NotInTable(String),
    /// A valid token names no live partner (PERMISSION_DENIED).
    #[error("the token's subject '{0}' is not an enrolled or suspended partner of this network")]
    UnknownSubject(String),
    /// The concurrency limit is reached (RESOURCE_EXHAUSTED).
    #[error("{0} requests are in progress, the server's limit: retry with backoff")]
    Overloaded(usize),
    /// The request outlived its timeout (DEADLINE_EXCEEDED).
    #[error("the request took longer than the server's limit of {0:?}")]
    TimedOut(Duration),
}

/// What the guard knows, shared by every connection.
struct GuardState {
    rules: HashMap<&'static str, Allow>,
    client_streaming: HashSet<String>,
    /// `None`: open development mode.
    credentials: Option<Credentials>,
    app: Arc<App>,
    permits: Arc<Semaphore>,
    limits: Limits,
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
        let client_streaming = access::methods(&access::served_descriptor_sets())?
            .into_iter()
            .filter(|m| m.client_streaming)
            .map(|m| m.path)
            .collect();
        let state = GuardState {
            rules: access::ACCESS.iter().copied().collect(),
            client_streaming,
            credentials,
            app,
            permits: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            limits,
        };
        Ok(GuardLayer { state: Arc::new(state) })
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
}

impl GuardState {
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<Admitted, GuardError> {
        let path = request.uri().path();
        let rule = self.rules.get(path).copied();
        let timeout =
            if self.client_streaming.contains(path) { self.limits.stream_timeout } else { self.limits.request_timeout };
        if rule == Some(Allow::Public) {
            return Ok(Admitted { _permit: None, timeout });
        }
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| GuardError::Overloaded(self.limits.max_concurrent_requests))?;
        let caller = self.authenticate(request.headers())?;
        let span = tracing::Span::current();
        span.record("role", caller.role().as_str());
        span.record("caller", caller.name());
        match rule {
            None => return Err(GuardError::NotInTable(path.to_owned())),
            Some(allow) if !allow.admits(caller.role()) => {
                return Err(GuardError::Forbidden { role: caller.role().as_str(), method: path.to_owned() })
            }
            Some(_) => {}
        }
        request.extensions_mut().insert(caller);
        Ok(Admitted { _permit: Some(permit), timeout })
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
                    Some(index) if g.status_of(index) != PartnerStatus::Terminated => Ok(Caller::Partner { index, id }),
                    _ => Err(GuardError::UnknownSubject(id.chars().take(64).collect())),
                }
            }
        }
    }
}

impl<S, B> Service<http::Request<B>> for Guard<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was made ready serves this request (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = Arc::clone(&self.state);
        // Everything happens in the future: tonic enters the request's span
        // only when polling it.
        Box::pin(async move {
            let admitted = match state.admit(&mut request) {
                Ok(admitted) => admitted,
                Err(err) => return Ok(refuse(err)),
            };
            match tokio::time::timeout(admitted.timeout, inner.call(request)).await {
                Ok(Ok(mut response)) => {
                    oversize_as_exhausted(response.headers_mut());
                    Ok(response)
                }
                Ok(Err(err)) => Err(err),
                Err(_) => Ok(refuse(GuardError::TimedOut(admitted.timeout))),
            }
        })
    }
}

fn refuse(err: GuardError) -> http::Response<Body> {
    match &err {
        GuardError::Unauthenticated(_) | GuardError::Overloaded(_) => tracing::debug!(%err, "refused"),
        _ => tracing::info!(%err, "refused"),
    }
    from_guard(err).into_http()
}
