//! The command-line front ends of the binary. Each subcommand parses its
//! arguments (flags, with a `DOWNLINE_*` environment variable for each) and
//! returns a message on failure.

pub mod backup;
pub mod csv_rows;
pub mod export;
pub mod freed_memory;
pub mod import;
pub mod import_cleanup;
pub mod import_orders;
pub mod interrupt;
pub mod keys;
pub mod logs;
pub mod progress;
pub mod serve;
pub mod stdout;
pub mod synth;
pub mod traces;
pub mod verify;

pub use logs::{init_tracing, LogFormat};

/// A multi-threaded tokio runtime for a subcommand.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start tokio: {e}"))
}
