//! The command-line front ends of the binary. Each subcommand parses its
//! arguments (flags, with a `DOWNLINE_*` environment variable for each) and
//! returns a message on failure.

pub mod backup;
pub mod csv_rows;
pub mod export;
pub mod import;
pub mod import_cleanup;
pub mod import_orders;
pub mod interrupt;
pub mod keys;
pub mod progress;
pub mod serve;
pub mod stdout;
pub mod verify;

/// Logs to stderr through tracing; the level comes from `RUST_LOG`
/// (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// A multi-threaded tokio runtime for a subcommand.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start tokio: {e}"))
}
