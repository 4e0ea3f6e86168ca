//! Where and how the commands log: tracing to stderr, as text for people
//! or as one JSON object a line for log collectors (`--log-format json`
//! or `DOWNLINE_LOG_FORMAT=json` on `serve`); the level comes from
//! `RUST_LOG` (default `info`). A reloadable slot, empty by default,
//! takes the OTLP trace layer once `serve --otlp-endpoint` has built it
//! inside its runtime (see `cli::traces`).

use std::io::IsTerminal as _;
use std::sync::OnceLock;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{reload, Layer, Registry};

/// A layer that can be put into the trace slot.
pub type TraceLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The handle of the slot, set by the first `init_tracing`.
static TRACE_SLOT: OnceLock<reload::Handle<Option<TraceLayer>, Registry>> = OnceLock::new();

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

/// Logs to stderr through tracing in `format`, with an empty trace slot.
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (slot, handle) = reload::Layer::new(None::<TraceLayer>);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let text = (format == LogFormat::Text).then(|| fmt.with_ansi(std::io::stderr().is_terminal()));
    let json = (format == LogFormat::Json)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr).json().with_ansi(false));
    // The filter is a global one: spans it turns off reach no layer, the
    // trace slot included. A second initialisation (tests calling a
    // command twice) is no error, and keeps the first slot.
    if tracing_subscriber::registry().with(slot).with(filter).with(text).with(json).try_init().is_ok() {
        let _ = TRACE_SLOT.set(handle);
    }
}

/// Puts `layer` into the trace slot; an error if tracing was not
/// initialised by `init_tracing` in this process.
pub fn install_trace_layer(layer: TraceLayer) -> Result<(), String> {
    let handle = TRACE_SLOT.get().ok_or("tracing is not initialised; cannot export traces")?;
    handle.reload(Some(layer)).map_err(|e| format!("cannot install the trace exporter: {e}"))
}

/// Empties the trace slot (at shutdown, before the exporter is flushed).
pub fn remove_trace_layer() {
    if let Some(handle) = TRACE_SLOT.get() {
        let _ = handle.reload(None);
    }
}
