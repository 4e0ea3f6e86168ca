//! Starting and stopping the gRPC server: the services, health,
//! reflection (v1 and v1alpha, for grpcurl and buf curl), the access guard
//! (credentials, access table, limits), TLS, one tracing span per request,
//! health that follows the store (NOT_SERVING once a flush failed), and a
//! graceful shutdown: the background jobs first (no new one, a grace
//! period for the running ones, then cancelled), then the calls, with a
//! drain deadline, and a flush.

mod drain;
pub mod listener_guard;
mod security;

pub use security::{Security, TlsFiles};

use crate::app::{recovery, App, AppError};
use crate::metrics::{exposition, listener::MetricsListener, rpc::RpcMetrics};
use crate::proto::v1::simulation_service_server::SimulationServiceServer;
use crate::proto::v1::{
    compensation_service_server::CompensationServiceServer, genealogy_service_server::GenealogyServiceServer,
    operations_service_server::OperationsServiceServer, team_service_server::TeamServiceServer,
    volume_service_server::VolumeServiceServer,
};
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::service::guard::GuardLayer;
use crate::service::rpc_metrics::{served_rpc_metrics, RpcMetricsLayer};
use crate::service::simulation::SimulationApi;
use crate::service::{
    compensation::CompensationApi, genealogy::GenealogyApi, operations::OperationsApi, team::TeamApi, volume::VolumeApi,
};
use crate::store::StoreError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

/// What a server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The sled data directory.
    pub data_dir: PathBuf,
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The admin page's address (`--admin-listen`); `None` serves none.
    pub admin_listen: Option<SocketAddr>,
    /// Where to serve `/metrics` over HTTP (`--metrics-listen`), if at all;
    /// beyond loopback only with credentials.
    pub metrics_listen: Option<SocketAddr>,
}

impl ServerConfig {
    /// A server over `data_dir` on `listen`, without side listeners.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> ServerConfig {
        ServerConfig { data_dir, listen, admin_listen: None, metrics_listen: None }
    }
}

/// Why a server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Opening or flushing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Opening the data directory into the application failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not be built from the descriptor set.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// A start-up or shutdown task died.
    #[error("task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// No credentials are configured and the address is not loopback.
    #[error(
        "no API keys or JWT key are configured: refusing to serve {0} open to the network; \
         configure --keys-file (or a JWT key), or listen on a loopback address for development"
    )]
    OpenNotLoopback(SocketAddr),
    /// A side listener (metrics, admin page) beyond loopback without
    /// credentials.
    #[error(transparent)]
    OpenSideListener(#[from] listener_guard::OpenSideListener),
    /// A TLS file cannot be read.
    #[error("cannot read the TLS file {path}: {source}")]
    TlsFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The served descriptors cannot be decoded (a build problem).
    #[error("the service descriptors: {0}")]
    Descriptors(#[from] prost::DecodeError),
}

/// A server that runs until [`RunningServer::shutdown`].
pub struct RunningServer {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    /// The admin page's address, when it serves one.
    pub admin_addr: Option<SocketAddr>,
    /// The address `/metrics` is served on, when `metrics_listen` was set.
    pub metrics_addr: Option<SocketAddr>,
    /// The number of partners recovered at start-up.
    pub recovered_partners: usize,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServeError>>,
    app: Arc<App>,
}

impl RunningServer {
    /// Starts no new job and lets the running ones finish until
    /// `Limits::job_grace` (cancelling the rest), then stops accepting,
    /// lets in-flight calls finish until the drain deadline
    /// (`Limits::shutdown_grace`) and cancels the rest, flushes, and
    /// returns once the store is closed (the data directory can be opened
    /// again).
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let _ = self.shutdown.send(());
        drop(self.app);
        self.task.await?
    }

    /// The application, for tests that drive its hooks
    /// (`App::job_hooks`) or read its registry.
    #[doc(hidden)]
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// The failure-injection seam of the fail-stop tests: the next flush
    /// fails as a full disk would (see `GroupCommit::fail_next_flush`).
    #[doc(hidden)]
    pub fn fail_next_flush(&self) {
        self.app.store.fail_next_flush();
    }
}

/// Opens the store, recovers the genealogy and starts serving in open
/// development mode with the default limits (loopback only).
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServeError> {
    start_with(config, Security::default()).await
}

/// Opens the store, recovers the genealogy and starts serving with the
/// given credentials, TLS and limits.
pub async fn start_with(config: ServerConfig, security: Security) -> Result<RunningServer, ServeError> {
    check_listeners(&config, &security)?;
    let tls = security.tls.as_ref().map(TlsFiles::server_config).transpose()?;
    let limits = security.limits.clone();
    // The listeners first: a taken port fails fast and touches no data.
    let listener = bind(config.listen).await?;
    let local_addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: config.listen, source })?;
    let admin_listener = bind_side(config.admin_listen).await?;
    let metrics_listener = bind_side(config.metrics_listen).await?;
    let app = recovery::open(&config.data_dir, limits.clone()).await?;
    let recovered_partners = app.network.read().genealogy.len();
    let admin_credentials = security.credentials.clone();
    let guard = GuardLayer::new(Arc::clone(&app), security.credentials, limits.clone())?;
    let drain_guard = guard.clone();
    let grace = limits.shutdown_grace;
    let job_grace = limits.job_grace;
    let max_bytes = limits.max_message_bytes;
    let rpc_metrics = Arc::new(served_rpc_metrics()?);
    let metrics = start_metrics(metrics_listener, &app, &rpc_metrics)?;
    let metrics_addr = metrics.as_ref().map(|m| m.local_addr);
    let flusher = app.store.spawn_flusher();

    let (health_reporter, health) = tonic_health::server::health_reporter();
    set_health(&health_reporter, ServingStatus::Serving).await;
    let store_watch = tokio::spawn(not_serving_on_store_failure(Arc::clone(&app), health_reporter.clone()));
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?
        .max_decoding_message_size(max_bytes);
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?
        .max_decoding_message_size(max_bytes);

    let admin = admin_listener
        .map(|(addr, bound)| {
            let bind_err = |source| ServeError::Bind { addr, source };
            crate::admin::start(bound, Arc::clone(&app), admin_credentials).map_err(bind_err)
        })
        .transpose()?;
    let admin_addr = admin.as_ref().map(|a| a.local_addr);
    let (shutdown, stop) = oneshot::channel::<()>();
    // TCP_NODELAY by hand: tonic's own setting does not apply to a supplied
    // listener, and without it small answers wait ~40 ms for delayed ACKs.
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    // The guard fills in role and caller once it has authenticated; the
    // metrics layer is outside it, so its refusals are counted too.
    let router = builder
        .trace_fn(|request| {
            let (role, caller) = (tracing::field::Empty, tracing::field::Empty);
            tracing::info_span!("rpc", method = %request.uri().path(), role, caller)
        })
        .layer(RpcMetricsLayer::new(rpc_metrics))
        .layer(guard)
        .add_service(health.max_decoding_message_size(max_bytes))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            GenealogyServiceServer::new(GenealogyApi::new(Arc::clone(&app))).max_decoding_message_size(max_bytes),
        )
        .add_service(VolumeServiceServer::new(VolumeApi::new(Arc::clone(&app))).max_decoding_message_size(max_bytes))
        .add_service(
            CompensationServiceServer::new(CompensationApi::new(Arc::clone(&app))).max_decoding_message_size(max_bytes),
        )
        .add_service(
            OperationsServiceServer::new(OperationsApi::new(Arc::clone(&app))).max_decoding_message_size(max_bytes),
        )
        .add_service(TeamServiceServer::new(TeamApi::new(Arc::clone(&app))).max_decoding_message_size(max_bytes))
        .add_service(
            SimulationServiceServer::new(SimulationApi::new(Arc::clone(&app))).max_decoding_message_size(max_bytes),
        );
    tracing::info!(%local_addr, "serving");
    let handle = Arc::clone(&app);
    let task = tokio::spawn(async move {
        let (begin, begun) = oneshot::channel::<()>();
        let serve = router.serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), async {
            let _ = begun.await;
        });
        tokio::pin!(serve);
        let served = tokio::select! {
            served = &mut serve => served,
            // A dropped RunningServer stops the server too.
            _ = stop => {
                // Before health changes: whoever sees NOT_SERVING can no
                // longer start a job.
                app.jobs.stop_admitting();
                set_health(&health_reporter, ServingStatus::NotServing).await;
                // Jobs first, while the server still serves: their callers
                // can still see them end (or CANCELLED), and new ones are
                // refused with UNAVAILABLE rather than a closed connection.
                app.shut_down_jobs(job_grace).await;
                tracing::info!(grace_ms = grace.as_millis() as u64, "shutting down: finishing in-flight calls");
                let _ = begin.send(());
                drain::drain(serve.as_mut(), grace, &drain_guard).await
            }
        };
        drop(drain_guard);
        stop_side_listeners(metrics, admin, grace).await;
        set_health(&health_reporter, ServingStatus::NotServing).await;
        store_watch.abort();
        let _ = store_watch.await;
        let flushed = {
            let app = Arc::clone(&app);
            tokio::task::spawn_blocking(move || app.store.flush()).await
        };
        flusher.abort();
        let _ = flusher.await;
        drop(app);
        served?;
        flushed??;
        tracing::info!("stopped; everything is flushed");
        Ok(())
    });
    Ok(RunningServer { local_addr, admin_addr, metrics_addr, recovered_partners, shutdown, task, app: handle })
}

/// Refuses side listeners beyond loopback without credentials (before the
/// gRPC listener's own check: a refused start logs no development-mode
/// warning), then the gRPC listener as `Security::check` does.
fn check_listeners(config: &ServerConfig, security: &Security) -> Result<(), ServeError> {
    let configured = security.credentials.is_some();
    if let Some(addr) = config.metrics_listen {
        listener_guard::check_side_listener("--metrics-listen", addr, configured)?;
    }
    if let Some(addr) = config.admin_listen {
        listener_guard::check_side_listener("--admin-listen", addr, configured)?;
    }
    security.check(config.listen)
}

/// Stops the metrics listener and the admin page (each its own drain).
async fn stop_side_listeners(
    metrics: Option<MetricsListener>,
    admin: Option<crate::admin::RunningAdmin>,
    grace: std::time::Duration,
) {
    if let Some(metrics) = metrics {
        metrics.stop().await;
    }
    if let Some(admin) = admin {
        admin.shutdown(grace).await;
    }
}

/// Binds a side listener's address, if one is given.
async fn bind_side(addr: Option<SocketAddr>) -> Result<Option<(SocketAddr, TcpListener)>, ServeError> {
    match addr {
        Some(addr) => Ok(Some((addr, bind(addr).await?))),
        None => Ok(None),
    }
}

/// Binds `addr`, naming it in the error.
async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })
}

/// Starts the `/metrics` listener on its bound socket, if any.
fn start_metrics(
    bound: Option<(SocketAddr, TcpListener)>,
    app: &Arc<App>,
    rpc_metrics: &Arc<RpcMetrics>,
) -> Result<Option<MetricsListener>, ServeError> {
    let Some((addr, listener)) = bound else { return Ok(None) };
    let started = MetricsListener::start(listener, exposition::registry(app, rpc_metrics));
    Ok(Some(started.map_err(|source| ServeError::Bind { addr, source })?))
}

/// Every service's health, then the server's as a whole (the "" service):
/// whoever watches "" sees the change once every service has it.
async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    for service in SERVICES {
        reporter.set_service_status(service, status).await;
    }
    reporter.set_service_status("", status).await;
}

/// The served services, as health names them.
const SERVICES: [&str; 6] = [
    <GenealogyServiceServer<GenealogyApi> as NamedService>::NAME,
    <VolumeServiceServer<VolumeApi> as NamedService>::NAME,
    <OperationsServiceServer<OperationsApi> as NamedService>::NAME,
    <CompensationServiceServer<CompensationApi> as NamedService>::NAME,
    <TeamServiceServer<TeamApi> as NamedService>::NAME,
    <SimulationServiceServer<SimulationApi> as NamedService>::NAME,
];

/// Turns every service NOT_SERVING the moment the store fails (fail-stop),
/// so load balancers stop routing here before the next request finds out.
async fn not_serving_on_store_failure(app: Arc<App>, reporter: HealthReporter) {
    app.store.wait_failed().await;
    tracing::error!("the store failed: every service is NOT_SERVING and every call answers UNAVAILABLE");
    set_health(&reporter, ServingStatus::NotServing).await;
}
