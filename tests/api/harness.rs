//! The harness of the gRPC integration tests: a real server on
//! 127.0.0.1:0 over a temporary data directory, restartable on the same
//! directory, a connected generated client, and the assertion on a refused
//! call. Helpers that call one service live in its `*_support.rs`.

use downline::proto::v1 as pb;
use downline::server::{self, RunningServer, Security, ServerConfig};
use downline::service::limits::Limits;
use pb::genealogy_service_client::GenealogyServiceClient;
use std::net::SocketAddr;
use std::path::Path;
use tempfile::TempDir;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The generated client over a plain channel.
pub type Client = GenealogyServiceClient<Channel>;

/// Starts a real server over `dir` on a free port of 127.0.0.1.
pub async fn start_server(dir: &Path) -> RunningServer {
    server::start(local_config(dir)).await.expect("the server starts")
}

/// Starts a real server over `dir` in open development mode with `limits`.
pub async fn start_server_with(dir: &Path, limits: Limits) -> RunningServer {
    server::start_with(local_config(dir), Security { limits, ..Security::default() }).await.expect("the server starts")
}

/// Starts a real server over `dir` in open development mode that also
/// serves the admin page on a free port of 127.0.0.1 (`admin_addr`).
pub async fn start_server_with_admin_page(dir: &Path) -> RunningServer {
    let admin_listen = Some("127.0.0.1:0".parse().expect("address"));
    server::start(ServerConfig { admin_listen, ..local_config(dir) }).await.expect("the server starts")
}

/// Starts a real server over `dir` on a free port of 127.0.0.1, serving
/// `/metrics` on another (`RunningServer::metrics_addr`).
pub async fn start_server_with_metrics(dir: &Path) -> RunningServer {
    let config = ServerConfig { metrics_listen: Some("127.0.0.1:0".parse().expect("address")), ..local_config(dir) };
    server::start(config).await.expect("the server starts")
}

/// A server over `dir` on a free port of 127.0.0.1.
fn local_config(dir: &Path) -> ServerConfig {
    ServerConfig::new(dir.to_path_buf(), "127.0.0.1:0".parse().expect("address"))
}

/// A channel to a server.
pub async fn channel(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("the client connects")
}

/// A connected genealogy client (responses up to 64 MiB).
pub async fn connect(addr: SocketAddr) -> Client {
    GenealogyServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("the client connects")
        .max_decoding_message_size(64 << 20)
}

/// A server over its own temporary directory, with a client.
pub struct Harness {
    /// The data directory (removed when the harness is dropped).
    pub dir: TempDir,
    /// The address of the running server.
    pub addr: SocketAddr,
    /// The address of its admin page, when it serves one.
    pub admin_addr: Option<SocketAddr>,
    /// A client of the running server.
    pub client: Client,
    server: Option<RunningServer>,
}

impl Harness {
    /// A fresh server over an empty directory.
    pub async fn new() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(dir.path()).await;
        let addr = server.local_addr;
        let client = connect(addr).await;
        Harness { dir, addr, admin_addr: None, client, server: Some(server) }
    }

    /// A fresh server over an empty directory in development mode, serving
    /// the admin page too (its address: `admin_addr`).
    pub async fn with_admin_page() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server_with_admin_page(dir.path()).await;
        let (addr, admin_addr) = (server.local_addr, server.admin_addr);
        let client = connect(addr).await;
        Harness { dir, addr, admin_addr, client, server: Some(server) }
    }

    /// A fresh server over an empty directory, with `limits`.
    pub async fn with_limits(limits: Limits) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server_with(dir.path(), limits).await;
        let addr = server.local_addr;
        let client = connect(addr).await;
        Harness { dir, addr, admin_addr: None, client, server: Some(server) }
    }

    /// Shuts the server down (flush, close) and starts a new one over the
    /// same directory; returns how many partners it recovered.
    pub async fn restart(&mut self) -> usize {
        let old = self.server.take().expect("a running server");
        old.shutdown().await.expect("a clean shutdown");
        let server = start_server(self.dir.path()).await;
        self.addr = server.local_addr;
        self.admin_addr = server.admin_addr;
        self.client = connect(self.addr).await;
        let recovered = server.recovered_partners;
        self.server = Some(server);
        recovered
    }

    /// The running server's application (its registries, for tests that
    /// watch background work end).
    pub fn app(&self) -> &std::sync::Arc<downline::service::App> {
        self.server.as_ref().expect("a running server").app()
    }

    /// Makes the server's next flush fail as a full disk would.
    pub fn fail_next_flush(&self) {
        self.server.as_ref().expect("a running server").fail_next_flush();
    }

    /// Shuts the server down cleanly.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

/// A request carrying the `x-downline-actor` metadata.
pub fn as_actor<T>(message: T, actor: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-downline-actor", actor.parse().expect("ascii actor"));
    request
}

/// Asserts a call failed with `code` and a message containing every
/// needle; an INVALID_ARGUMENT also carries the BadRequest path its message
/// names (`details_support::check_bad_request`).
#[track_caller]
pub fn expect_err<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, needles: &[&str]) -> Status {
    let status = match result {
        Ok(value) => panic!("expected {code:?} {needles:?}, got Ok({value:?})"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "wrong code; message: {}", status.message());
    for needle in needles {
        assert!(status.message().contains(needle), "message {:?} does not contain {needle:?}", status.message());
    }
    crate::details_support::check_bad_request(&status);
    status
}
