//! The recording layer, outside the guard so its refusals count too: every
//! call is counted under its method and gRPC code, and its latency observed
//! (`metrics::rpc`). A unary answer's code is in its headers when it failed
//! (trailers-only) and OK otherwise; a streaming answer's is in its
//! trailers, so its body is wrapped and the call recorded when it ends.
//! Recording costs a map lookup, a clock read and atomic adds; only
//! streaming answers get a boxed body.

use super::access;
use crate::metrics::rpc::{code_name, code_name_of, MethodInfo, RpcMetrics};
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

/// The header (or trailer) carrying a call's gRPC code.
const GRPC_STATUS: &str = "grpc-status";

/// The figures of every method this server serves.
pub fn served_rpc_metrics() -> Result<RpcMetrics, prost::DecodeError> {
    let methods = access::methods(&access::served_descriptor_sets())?;
    let streams: std::collections::HashSet<String> =
        methods.into_iter().filter(|m| m.server_streaming).map(|m| m.path).collect();
    let infos = access::ACCESS.iter().map(|&(path, _)| MethodInfo { path, streams_answer: streams.contains(path) });
    Ok(RpcMetrics::new(infos))
}

/// The layer, added before the guard (`Server::builder().layer(..)`).
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: Arc<RpcMetrics>,
}

impl RpcMetricsLayer {
    /// A layer recording into `metrics`.
    pub fn new(metrics: Arc<RpcMetrics>) -> RpcMetricsLayer {
        RpcMetricsLayer { metrics }
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> RpcMetricsService<S> {
        RpcMetricsService { inner, metrics: Arc::clone(&self.metrics) }
    }
}

/// The recorder around the guard and the services.
#[derive(Clone)]
pub struct RpcMetricsService<S> {
    inner: S,
    metrics: Arc<RpcMetrics>,
}

impl<S> Service<http::Request<Body>> for RpcMetricsService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Unpin,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let method = self.metrics.method(request.uri().path());
        let call = Call { metrics: Arc::clone(&self.metrics), method, started: Instant::now() };
        Recorded { inner: self.inner.call(request), call: Some(call) }
    }
}

/// A call being recorded.
struct Call {
    metrics: Arc<RpcMetrics>,
    method: MethodInfo,
    started: Instant,
}

impl Call {
    fn record(self, code: &'static str) {
        self.metrics.record(self.method.path, code, self.started.elapsed());
    }
}

/// The answer's future; records the call when the answer is complete (or
/// as CANCELLED when dropped before).
pub struct Recorded<F> {
    inner: F,
    call: Option<Call>,
}

impl<F, E> Future for Recorded<F>
where
    F: Future<Output = Result<http::Response<Body>, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let answer = std::task::ready!(Pin::new(&mut this.inner).poll(cx));
        let Some(call) = this.call.take() else {
            return Poll::Ready(answer);
        };
        let response = match answer {
            Ok(response) => response,
            Err(err) => {
                // The transport failed the call: no gRPC code was sent.
                call.record("UNKNOWN");
                return Poll::Ready(Err(err));
            }
        };
        if let Some(status) = response.headers().get(GRPC_STATUS) {
            call.record(code_name(status.as_bytes()));
            return Poll::Ready(Ok(response));
        }
        if !call.method.streams_answer {
            // A unary handler that answered: tonic's trailers will say OK.
            call.record("OK");
            return Poll::Ready(Ok(response));
        }
        Poll::Ready(Ok(response.map(|body| Body::new(RecordingBody { inner: body, call: Some(call) }))))
    }
}

impl<F> Drop for Recorded<F> {
    /// A call dropped before its answer (the client cancelled it, or the
    /// connection closed) counts as CANCELLED.
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.record("CANCELLED");
        }
    }
}

/// A streaming answer that records its call at its trailers, or as
/// CANCELLED if it is dropped before them (the client went away).
struct RecordingBody {
    inner: Body,
    call: Option<Call>,
}

impl http_body::Body for RecordingBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Status>>> {
        let this = &mut *self;
        let frame = std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx));
        let code = match &frame {
            Some(Ok(f)) => f.trailers_ref().map(|t| t.get(GRPC_STATUS).map_or("UNKNOWN", |s| code_name(s.as_bytes()))),
            Some(Err(status)) => Some(code_name_of(status.code() as i32)),
            None => Some("UNKNOWN"),
        };
        if let (Some(code), Some(call)) = (code, this.call.take()) {
            call.record(code);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for RecordingBody {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.record("CANCELLED");
        }
    }
}
