//! The command-line front ends of the binary. Each subcommand parses its
//! arguments (flags, with a `DOWNLINE_*` environment variable for each) and
//! returns a message on failure.

pub mod csv_rows;
pub mod hiccups;
pub mod import;
pub mod import_orders;
pub mod interrupt;
pub mod keys;
pub mod loadtest;
pub mod loadtest_calls;
pub mod loadtest_clock;
pub mod loadtest_h2;
pub mod loadtest_stats;
pub mod loadtest_team;
pub mod serve;
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

/// A client interceptor that sends `authorization: Bearer <token>` (an API
/// key or a JWT) with every request, or nothing without a token.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::AsciiMetadataValue>);

impl Bearer {
    /// The interceptor of an optional token; refuses a token that is not
    /// printable ASCII.
    pub fn new(token: Option<&str>) -> Result<Bearer, String> {
        let value = token
            .map(|t| format!("Bearer {t}").parse().map_err(|_| "--token must be printable ASCII".to_owned()))
            .transpose()?;
        Ok(Bearer(value))
    }

    /// The `authorization` header's value, for clients that write HTTP/2
    /// headers themselves.
    pub fn header_value(&self) -> Option<http::HeaderValue> {
        let value = self.0.as_ref()?;
        Some(http::HeaderValue::from_bytes(value.as_bytes()).expect("an ASCII metadata value is a valid header value"))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert(crate::auth::AUTHORIZATION_HEADER, value.clone());
        }
        Ok(request)
    }
}
