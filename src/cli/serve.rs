//! `downline serve`: runs the server on embedded defaults until SIGINT or
//! SIGTERM, then shuts down gracefully (stop accepting, finish in-flight
//! calls, flush).

use crate::server::{self, ServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Flags of `downline serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The data directory (created if missing).
    #[arg(long, env = "DOWNLINE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The address to listen on.
    #[arg(long, env = "DOWNLINE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
}

/// Runs the server until a signal.
pub fn run(args: ServeArgs) -> Result<(), String> {
    super::runtime()?.block_on(async move {
        let config = ServerConfig { data_dir: args.data_dir, listen: args.listen };
        let running = server::start(config).await.map_err(|e| e.to_string())?;
        // Tests and scripts read this line to learn the port when listening on :0.
        println!("listening on {}", running.local_addr);
        wait_for_signal().await;
        running.shutdown().await.map_err(|e| e.to_string())
    })
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
