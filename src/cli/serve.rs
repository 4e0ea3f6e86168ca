//! `downline serve`: runs the server until SIGINT or SIGTERM, then shuts
//! down gracefully (start no new job, let running jobs finish until the job
//! grace period and cancel the rest, then stop accepting, finish in-flight
//! calls until the drain deadline, cancel the rest, flush). Every
//! setting is a flag with a `DOWNLINE_*` variable; with no credentials it
//! runs open, on a loopback address only.

use crate::auth::jwt::{JwtConfig, JwtKeySource, JwtVerifier};
use crate::auth::keys::ApiKeys;
use crate::auth::Credentials;
use crate::server::{self, Security, ServerConfig, TlsFiles};
use crate::service::limits::{self, Limits};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `downline serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The data directory (created if missing).
    #[arg(long, env = "DOWNLINE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The address to listen on, `HOST:PORT`: an IP address or a host name
    /// (the first address it resolves to). Without credentials only a
    /// loopback address is allowed (development mode).
    #[arg(long, env = "DOWNLINE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// How log lines are written to stderr: `text`, or `json` (one object a
    /// line, for log collectors).
    #[arg(long, value_enum, env = "DOWNLINE_LOG_FORMAT", default_value = "text")]
    pub log_format: super::LogFormat,
    /// Also serve the read-only admin page (HTML) on this address, e.g.
    /// 127.0.0.1:8080; off by default. It asks for an admin API key; without
    /// credentials configured only a loopback address is allowed.
    #[arg(long, env = "DOWNLINE_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Serve Prometheus metrics over HTTP at `http://ADDR/metrics` (off by
    /// default; e.g. 127.0.0.1:9464). Like --listen, only a loopback
    /// address without credentials.
    #[arg(long, env = "DOWNLINE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Export the tracing spans (one `rpc` span per request, the job spans)
    /// over OTLP/gRPC to this collector, e.g. http://127.0.0.1:4317; off
    /// by default.
    #[arg(long, env = "DOWNLINE_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Keep the memory the server frees mapped for the next background job
    /// (glibc on Linux: `serve` starts itself again with `GLIBC_TUNABLES`
    /// set, unless that is set already). See `cli/freed_memory.rs`.
    #[arg(long, env = "DOWNLINE_KEEP_FREED_MEMORY", default_value_t = true, action = clap::ArgAction::Set)]
    pub keep_freed_memory: bool,
    /// Credentials and TLS.
    #[command(flatten)]
    pub access: AccessArgs,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Credentials and TLS.
#[derive(clap::Args, Debug)]
pub struct AccessArgs {
    /// The API keys of the backends: lines `<sha256-hex> <admin|backend> <name>`
    /// (see `downline keys new`).
    #[arg(long, env = "DOWNLINE_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    /// A file holding the HS256 secret of partner JWTs (at least 32 bytes).
    #[arg(long, env = "DOWNLINE_JWT_HS256_SECRET_FILE", conflicts_with = "jwt_rs256_public_key")]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// A PEM file with the RS256 public key of partner JWTs.
    #[arg(long, env = "DOWNLINE_JWT_RS256_PUBLIC_KEY")]
    pub jwt_rs256_public_key: Option<PathBuf>,
    /// The `aud` partner JWTs must carry (required with a JWT key).
    #[arg(long, env = "DOWNLINE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The `iss` partner JWTs must carry, if any.
    #[arg(long, env = "DOWNLINE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Clock leeway for JWT `exp` and `nbf`, in seconds.
    #[arg(long, env = "DOWNLINE_JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,
    /// The server's TLS certificate chain (PEM); with --tls-key, serves TLS.
    #[arg(long, env = "DOWNLINE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The server's TLS private key (PEM).
    #[arg(long, env = "DOWNLINE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A CA (PEM) whose client certificates are required: mutual TLS.
    #[arg(long, env = "DOWNLINE_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

/// The limits (defaults in `service::limits`).
#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// The largest request message, in bytes.
    #[arg(long, env = "DOWNLINE_MAX_MESSAGE_BYTES", default_value_t = limits::DEFAULT_MAX_MESSAGE_BYTES,
          value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    pub max_message_bytes: u64,
    /// The largest page of any list; bigger page sizes are coerced to it.
    #[arg(long, env = "DOWNLINE_MAX_PAGE_SIZE", default_value_t = limits::DEFAULT_MAX_PAGE_SIZE,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_page_size: u64,
    /// The deepest level ListDownline lists.
    #[arg(long, env = "DOWNLINE_MAX_DOWNLINE_DEPTH", default_value_t = limits::DEFAULT_MAX_DOWNLINE_DEPTH,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_downline_depth: u32,
    /// Unary requests in progress at once; more are shed with RESOURCE_EXHAUSTED.
    #[arg(long, env = "DOWNLINE_MAX_CONCURRENT_REQUESTS", default_value_t = limits::DEFAULT_MAX_CONCURRENT_REQUESTS,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_concurrent_requests: u64,
    /// Client streams (ImportPartners, RecordOrders) open at once, apart
    /// from unary requests; more are refused with RESOURCE_EXHAUSTED.
    #[arg(long, env = "DOWNLINE_MAX_CONCURRENT_STREAMS", default_value_t = limits::DEFAULT_MAX_CONCURRENT_STREAMS,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_concurrent_streams: u64,
    /// The longest a unary request may take, in milliseconds.
    #[arg(long, env = "DOWNLINE_REQUEST_TIMEOUT_MS", default_value_t = limits::DEFAULT_REQUEST_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,
    /// The longest a streaming import (ImportPartners, RecordOrders) may
    /// take, in milliseconds.
    #[arg(long, env = "DOWNLINE_STREAM_TIMEOUT_MS", default_value_t = limits::DEFAULT_STREAM_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub stream_timeout_ms: u64,
    /// The longest a client stream may send nothing while the server waits
    /// for it, in milliseconds; then DEADLINE_EXCEEDED.
    #[arg(long, env = "DOWNLINE_STREAM_IDLE_TIMEOUT_MS", default_value_t = limits::DEFAULT_STREAM_IDLE_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub stream_idle_timeout_ms: u64,
    /// At SIGINT/SIGTERM, how long calls in progress may finish before they
    /// are cancelled, in milliseconds; then the store is flushed and the
    /// process exits.
    #[arg(long, env = "DOWNLINE_SHUTDOWN_GRACE_MS", default_value_t = limits::DEFAULT_SHUTDOWN_GRACE_MS)]
    pub shutdown_grace_ms: u64,
    /// The memory all background jobs (recalculations, commission runs and
    /// the finished runs kept for their statements) may reserve together,
    /// in MiB; a job whose estimate does not fit is refused with
    /// RESOURCE_EXHAUSTED. Default: half the machine's memory.
    #[arg(long, env = "DOWNLINE_JOB_MEMORY_MB", default_value_t = limits::default_job_memory_mb(),
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub job_memory_mb: u64,
    /// At SIGINT/SIGTERM, how long running jobs may finish (the server
    /// still serves meanwhile, but starts no new job) before they are
    /// cancelled, in seconds; then the calls drain (--shutdown-grace-ms).
    #[arg(long, env = "DOWNLINE_JOB_GRACE_SECS", default_value_t = limits::DEFAULT_JOB_GRACE_SECS,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub job_grace_secs: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_message_bytes: self.max_message_bytes as usize,
            max_page_size: self.max_page_size as usize,
            max_downline_depth: self.max_downline_depth,
            max_concurrent_requests: self.max_concurrent_requests as usize,
            max_concurrent_streams: self.max_concurrent_streams as usize,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            stream_timeout: Duration::from_millis(self.stream_timeout_ms),
            stream_idle_timeout: Duration::from_millis(self.stream_idle_timeout_ms),
            shutdown_grace: Duration::from_millis(self.shutdown_grace_ms),
            job_memory_bytes: self.job_memory_mb.saturating_mul(1 << 20),
            job_grace: Duration::from_secs(self.job_grace_secs),
            backup_piece_bytes: limits::DEFAULT_BACKUP_PIECE_BYTES,
        }
    }
}

impl AccessArgs {
    /// The credentials, or `None` for open development mode.
    fn credentials(&self) -> Result<Option<Credentials>, String> {
        let key = match (&self.jwt_hs256_secret_file, &self.jwt_rs256_public_key) {
            (Some(path), _) => Some(JwtKeySource::Hs256SecretFile(path.clone())),
            (None, Some(path)) => Some(JwtKeySource::Rs256PublicKeyFile(path.clone())),
            (None, None) => None,
        };
        let jwt = match key {
            Some(key) => {
                let config = JwtConfig {
                    key,
                    audience: self.jwt_audience.clone().unwrap_or_default(),
                    issuer: self.jwt_issuer.clone(),
                    leeway_secs: self.jwt_leeway_secs,
                };
                Some(JwtVerifier::new(&config).map_err(|e| e.to_string())?)
            }
            None if self.jwt_audience.is_some() || self.jwt_issuer.is_some() => return Err(
                "--jwt-audience and --jwt-issuer need a JWT key (--jwt-hs256-secret-file or --jwt-rs256-public-key)"
                    .into(),
            ),
            None => None,
        };
        let keys = match &self.keys_file {
            Some(path) => Some(ApiKeys::load(path).map_err(|e| e.to_string())?),
            None => None,
        };
        if keys.is_none() && jwt.is_none() {
            return Ok(None);
        }
        Ok(Some(Credentials::new(keys.unwrap_or_default(), jwt)))
    }

    fn tls(&self) -> Option<TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                Some(TlsFiles { cert: cert.clone(), key: key.clone(), client_ca: self.tls_client_ca.clone() })
            }
            _ => None,
        }
    }
}

/// Runs the server until a signal.
pub fn run(args: ServeArgs) -> Result<(), String> {
    if args.keep_freed_memory {
        // Before any thread starts: it may replace this process.
        super::freed_memory::keep_freed_memory();
    }
    let security =
        Security { credentials: args.access.credentials()?, tls: args.access.tls(), limits: args.limits.limits() };
    super::runtime()?.block_on(async move {
        // The handlers are installed before the server starts: a signal that
        // comes right after the "listening" line (a loaded machine may not
        // run this task for a while) must stop the server cleanly, not kill it.
        let signals = Signals::listen();
        let traces = args.otlp_endpoint.as_deref().map(super::traces::start).transpose()?;
        let served = serve(args, security, signals).await;
        // After the server, on success or failure: the spans of the drained
        // calls are sent too, and the flush never blocks a runtime thread.
        if let Some(traces) = traces {
            traces.shutdown().await;
        }
        served
    })
}

/// Starts the server, prints its addresses and serves until `signals`.
async fn serve(args: ServeArgs, security: Security, signals: Signals) -> Result<(), String> {
    let listen = resolve(&args.listen).await?;
    let config = ServerConfig {
        data_dir: args.data_dir,
        listen,
        admin_listen: args.admin_listen,
        metrics_listen: args.metrics_listen,
    };
    let running = server::start_with(config, security).await.map_err(|e| e.to_string())?;
    // Tests and scripts read this line to learn the port when listening on :0.
    // Without a reader the server still serves (a closed pipe is no error).
    if let Err(message) = super::stdout::line(format_args!("listening on {}", running.local_addr)) {
        tracing::warn!(error = %message, "cannot print the listening address; serving anyway");
    }
    if let Some(admin) = running.admin_addr {
        if let Err(message) = super::stdout::line(format_args!("admin page on http://{admin}/")) {
            tracing::warn!(error = %message, "cannot print the admin page's address; serving anyway");
        }
    }
    if let Some(addr) = running.metrics_addr {
        if let Err(message) = super::stdout::line(format_args!("metrics on http://{addr}/metrics")) {
            tracing::warn!(error = %message, "cannot print the metrics address; serving anyway");
        }
    }
    signals.wait().await;
    running.shutdown().await.map_err(|e| e.to_string())
}

/// The first address `listen` (`HOST:PORT`) resolves to.
async fn resolve(listen: &str) -> Result<SocketAddr, String> {
    let mut addresses = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| format!("--listen {listen}: cannot resolve it (expected HOST:PORT): {e}"))?;
    addresses.next().ok_or_else(|| format!("--listen {listen}: the name resolves to no address"))
}

/// The stop signals (SIGINT, and SIGTERM on Unix), listened for from the
/// moment this is built.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers now. A handler that cannot be installed is
    /// logged; the other still stops the server (and with neither, only a
    /// kill does).
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let install = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|error| tracing::warn!(%error, "cannot listen for {name}")).ok()
            };
            Signals {
                interrupt: install(SignalKind::interrupt(), "SIGINT"),
                terminate: install(SignalKind::terminate(), "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Waits for the first stop signal.
    async fn wait(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = next(self.interrupt) => tracing::info!("SIGINT received"),
                () = next(self.terminate) => tracing::info!("SIGTERM received"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
