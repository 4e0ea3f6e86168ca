//! `serve --otlp-endpoint URL`: the tracing spans (one `rpc` span per
//! request, the job spans) exported over OTLP/gRPC with a batch span
//! processor. Built inside the serve runtime, because the tonic exporter's
//! channel spawns its connection task on the current tokio runtime; shut
//! down at server shutdown so the last batch is sent, not lost.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::Duration;

/// How long one export call may take before it is given up.
const EXPORT_TIMEOUT_MS: u64 = 5_000;

/// The longest accepted endpoint URL, in bytes.
const MAX_ENDPOINT_BYTES: usize = 2_048;

/// A running trace exporter; `shutdown` sends what is buffered.
pub struct Traces {
    provider: SdkTracerProvider,
}

/// Starts exporting spans to `endpoint` (`http://HOST:PORT` or
/// `https://…`). Must run inside a tokio runtime.
pub fn start(endpoint: &str) -> Result<Traces, String> {
    check_endpoint(endpoint)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_millis(EXPORT_TIMEOUT_MS))
        .build()
        .map_err(|e| format!("--otlp-endpoint {endpoint}: cannot build the exporter: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("downline").build())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("downline"));
    super::logs::install_trace_layer(Box::new(layer))?;
    tracing::info!(endpoint, "exporting traces over OTLP");
    Ok(Traces { provider })
}

/// Rejects what cannot be an OTLP/gRPC endpoint, naming the flag.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    if endpoint.len() > MAX_ENDPOINT_BYTES {
        return Err(format!("--otlp-endpoint: longer than {MAX_ENDPOINT_BYTES} bytes"));
    }
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|e| format!("--otlp-endpoint {endpoint}: not a URL (expected http://HOST:PORT): {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(()),
        _ => Err(format!("--otlp-endpoint {endpoint}: expected http://HOST:PORT or https://HOST:PORT")),
    }
}

impl Traces {
    /// Stops recording spans and sends the buffered ones. The flush blocks
    /// (it waits for the exporter's thread), so it runs on a blocking thread.
    pub async fn shutdown(self) {
        super::logs::remove_trace_layer();
        let provider = self.provider;
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => tracing::info!("traces flushed"),
            Ok(Err(error)) => tracing::warn!(%error, "cannot flush the traces"),
            Err(error) => tracing::warn!(%error, "the trace flush failed"),
        }
    }
}
