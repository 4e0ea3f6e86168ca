//! The access log: one line per RPC, written when its status is known
//! (at once for an answer whose status is in its headers, else when the
//! body's trailers pass by, or when the body is dropped unfinished: the
//! client went away, CANCELLED), with `method`, `code`, `latency_ms`,
//! `role` and `caller`. Served methods log at info; the public one
//! (health) at debug, so load balancers' probes do not flood
//! the log. Failed authentications also log a warning, at most one per
//! [`AUTH_WARN_EVERY`], which counts the ones it held back.

use crate::auth::AuthError;
use http_body::{Frame, SizeHint};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::body::Body;
use tonic::codegen::http::{self, HeaderMap};
use tonic::{Code, Status};

/// At most one failed-authentication warning per this long.
pub const AUTH_WARN_EVERY: Duration = Duration::from_secs(10);

/// What the log line of one call says, gathered while it is served.
pub struct RpcRecord {
    started: Instant,
    method: Cow<'static, str>,
    public: bool,
    role: &'static str,
    caller: String,
}

impl RpcRecord {
    /// A call that started now, of a method not yet known.
    pub fn start() -> RpcRecord {
        RpcRecord { started: Instant::now(), method: Cow::Borrowed(""), public: false, role: "", caller: String::new() }
    }

    /// A path that names no served method (logged cut to 256 characters).
    pub fn unknown_method(&mut self, path: &str) {
        self.method = Cow::Owned(path.chars().take(256).collect());
    }

    /// The method, once found in the access table (`public`: health,
    /// logged at debug).
    pub fn method(&mut self, method: &'static str, public: bool) {
        (self.method, self.public) = (Cow::Borrowed(method), public);
    }

    /// The caller, once authenticated.
    pub fn caller(&mut self, role: &'static str, name: &str) {
        self.role = role;
        self.caller = name.chars().take(128).collect();
    }

    fn log(&self, code: Code) {
        let latency_ms = (self.started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        let (method, role, caller, code) = (&*self.method, self.role, self.caller.as_str(), code_name(code));
        if self.public {
            tracing::debug!(method, code, latency_ms, role, caller, "rpc");
        } else {
            tracing::info!(method, code, latency_ms, role, caller, "rpc");
        }
    }
}

/// Logs `response`'s call now if its status is in its headers, or wraps
/// its body to log when the status passes by.
pub fn observe(response: http::Response<Body>, record: RpcRecord) -> http::Response<Body> {
    if let Some(code) = status_code(response.headers()) {
        record.log(code);
        return response;
    }
    response.map(|body| Body::new(LoggedBody { inner: body, record: Some(record) }))
}

/// Logs a call the inner service failed without an answer.
pub fn failed(record: RpcRecord) {
    record.log(Code::Unknown);
}

/// The `grpc-status` of a header map, if any.
fn status_code(headers: &HeaderMap) -> Option<Code> {
    headers.get("grpc-status").map(|value| Code::from_bytes(value.as_bytes()))
}

/// An answer's body that logs its call once the status is known.
struct LoggedBody {
    inner: Body,
    /// `None` once logged.
    record: Option<RpcRecord>,
}

impl LoggedBody {
    fn log(&mut self, code: Code) {
        if let Some(record) = self.record.take() {
            record.log(code);
        }
    }
}

impl http_body::Body for LoggedBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Status>>> {
        let this = &mut *self;
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        match &frame {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.log(status_code(trailers).unwrap_or(Code::Unknown));
                }
            }
            Poll::Ready(Some(Err(status))) => this.log(status.code()),
            // An answer that ends without a status: gRPC reads it as UNKNOWN.
            Poll::Ready(None) => this.log(Code::Unknown),
            Poll::Pending => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    /// Dropped before its status: the client went away.
    fn drop(&mut self) {
        self.log(Code::Cancelled);
    }
}

/// The failed authentications, warned about at most once per
/// [`AUTH_WARN_EVERY`]: a flood of bad tokens costs one line per 10 s.
#[derive(Default)]
pub struct AuthWarnings {
    /// When the last warning was written, and how many failures were held
    /// back since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl AuthWarnings {
    /// Notes a failed authentication of `record`'s call; warns unless one
    /// warning was written less than [`AUTH_WARN_EVERY`] ago.
    pub fn failed(&self, record: &RpcRecord, error: &AuthError) {
        let suppressed = {
            let mut state = self.state.lock();
            let now = Instant::now();
            if state.0.is_some_and(|last| now.duration_since(last) < AUTH_WARN_EVERY) {
                state.1 += 1;
                return;
            }
            let suppressed = state.1;
            *state = (Some(now), 0);
            suppressed
        };
        let method = &*record.method;
        tracing::warn!(method, %error, suppressed, "authentication failed ({suppressed} more not logged in the last 10 s)");
    }
}

/// The canonical name of a status code, as gRPC's documents spell it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_held_back_within_the_window_and_counted() {
        let warnings = AuthWarnings::default();
        let record = RpcRecord::start();
        for _ in 0..5 {
            warnings.failed(&record, &AuthError::Missing);
        }
        let (last, suppressed) = *warnings.state.lock();
        assert!(last.is_some());
        assert_eq!(suppressed, 4, "the first is written, the next four held back");
        // The window passed: the next failure writes and resets the count.
        warnings.state.lock().0 = Instant::now().checked_sub(AUTH_WARN_EVERY);
        warnings.failed(&record, &AuthError::Missing);
        assert_eq!(warnings.state.lock().1, 0);
    }

    #[test]
    fn codes_have_their_canonical_names() {
        assert_eq!(code_name(Code::from_bytes(b"16")), "UNAUTHENTICATED");
        assert_eq!(code_name(Code::Ok), "OK");
    }
}
