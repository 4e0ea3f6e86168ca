//! Where and how the commands log: tracing to stderr, as text for people
//! or as one JSON object a line for log collectors (`--log-format json`
//! or `DOWNLINE_LOG_FORMAT=json` on `serve`); the level comes from
//! `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `target`, `fields`
    /// (the event's, with `message`) and `span`/`spans` (the request's).
    Json,
}

/// Logs to stderr through tracing in `format`.
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second initialisation (tests calling a command twice) is no error.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}
