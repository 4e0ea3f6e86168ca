//! The metrics listener (`serve --metrics-listen`): plain HTTP/1.1 on its
//! own address, `GET /metrics` only, served with hyper (already under
//! tonic). The registry is encoded on a blocking thread: the gauges take
//! the network's read lock, which a long write may hold. Connections are
//! bounded, and each must send its request headers within a timeout.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

/// Scrapers connected at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 16;
/// How long a connection may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The OpenMetrics text format prometheus-client writes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A running metrics listener; stopped by [`MetricsListener::stop`] or
/// when dropped.
pub struct MetricsListener {
    /// The address it listens on (port 0 picks a free one).
    pub local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsListener {
    /// Serves `registry` on `listener`, bound by the caller (before the
    /// data directory is opened: a taken port touches no data).
    pub fn start(listener: TcpListener, registry: Registry) -> std::io::Result<MetricsListener> {
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept(listener, Arc::new(registry), stopped));
        tracing::info!(%local_addr, "serving metrics");
        Ok(MetricsListener { local_addr, stop, task })
    }

    /// Stops accepting and ends the open connections.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Accepts connections until stopped; each is served on its own task.
async fn accept(listener: TcpListener, registry: Arc<Registry>, mut stopped: oneshot::Receiver<()>) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            _ = &mut stopped => break,
            permit = Arc::clone(&permits).acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "metrics listener: accept failed");
                    continue;
                }
            },
        };
        let registry = Arc::clone(&registry);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| respond(request, Arc::clone(&registry)));
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                tracing::debug!(%error, %peer, "metrics connection ended");
            }
            drop(permit);
        });
        // Reap finished connections so the set stays at most MAX_CONNECTIONS.
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}

/// Answers one request: the registry at `GET /metrics`, 404 or 405 elsewhere.
async fn respond(
    request: Request<Incoming>,
    registry: Arc<Registry>,
) -> Result<Response<Full<Bytes>>, hyper::http::Error> {
    if request.uri().path() != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "not found: the metrics are at /metrics\n");
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "only GET /metrics\n");
    }
    let encoded = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).map(|()| text)
    })
    .await;
    match encoded {
        Ok(Ok(text)) => Response::builder()
            .status(StatusCode::OK)
            .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Full::new(Bytes::from(text))),
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot encode the metrics");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics\n")
        }
        Err(error) => {
            tracing::error!(%error, "the metrics encoder died");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics\n")
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Result<Response<Full<Bytes>>, hyper::http::Error> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
}
