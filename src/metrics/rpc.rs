//! The per-method gRPC figures: `downline_rpc_requests_total{method,code}`
//! and `downline_rpc_duration_seconds{method}`. Labels are `&'static str`
//! from a fixed table (the served methods, the 17 gRPC codes), so the label
//! sets are bounded and recording allocates nothing once a series exists:
//! a read lock on the family's map and atomic adds.

use super::histogram::AtomicHistogram;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::collections::HashMap;
use std::time::Duration;

/// The method label of a path this server does not serve: unknown paths
/// share one series, so a scanner cannot grow the label set.
pub const UNKNOWN_METHOD: &str = "unknown";

/// The gRPC status codes by number, as the gRPC spec names them.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The name of a `grpc-status` value; anything outside the spec is UNKNOWN.
pub fn code_name(grpc_status: &[u8]) -> &'static str {
    let number = std::str::from_utf8(grpc_status).ok().and_then(|text| text.parse::<i32>().ok());
    number.map_or("UNKNOWN", code_name_of)
}

/// The name of a gRPC code's number; anything outside the spec is UNKNOWN.
pub fn code_name_of(number: i32) -> &'static str {
    usize::try_from(number).ok().and_then(|n| CODE_NAMES.get(n)).copied().unwrap_or("UNKNOWN")
}

/// The labels of a request count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `/package.Service/Method`, or [`UNKNOWN_METHOD`].
    pub method: &'static str,
    /// The gRPC status code's name.
    pub code: &'static str,
}

/// The label of a latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    /// `/package.Service/Method`, or [`UNKNOWN_METHOD`].
    pub method: &'static str,
}

/// A served method as the recorder sees it.
#[derive(Clone, Copy, Debug)]
pub struct MethodInfo {
    /// Its path, the label value.
    pub path: &'static str,
    /// Whether its answer streams (then the code is in the trailers).
    pub streams_answer: bool,
}

/// Request counts by code and latencies, per method.
#[derive(Debug)]
pub struct RpcMetrics {
    methods: HashMap<&'static str, MethodInfo>,
    /// `downline_rpc_requests_total`.
    pub requests: Family<CallLabels, Counter>,
    /// `downline_rpc_duration_seconds`.
    pub durations: Family<MethodLabel, AtomicHistogram, fn() -> AtomicHistogram>,
}

impl RpcMetrics {
    /// The figures of a server serving `methods`.
    pub fn new(methods: impl IntoIterator<Item = MethodInfo>) -> RpcMetrics {
        RpcMetrics {
            methods: methods.into_iter().map(|m| (m.path, m)).collect(),
            requests: Family::default(),
            durations: Family::new_with_constructor(AtomicHistogram::latency),
        }
    }

    /// The method a request path names (its label is static), or the
    /// shared unknown one.
    pub fn method(&self, path: &str) -> MethodInfo {
        self.methods.get(path).copied().unwrap_or(MethodInfo { path: UNKNOWN_METHOD, streams_answer: false })
    }

    /// Counts one finished call and its latency.
    pub fn record(&self, method: &'static str, code: &'static str, elapsed: Duration) {
        self.requests.get_or_create(&CallLabels { method, code }).inc();
        self.durations.get_or_create(&MethodLabel { method }).observe_duration(elapsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_by_the_spec_and_anything_else_is_unknown() {
        assert_eq!(code_name(b"0"), "OK");
        assert_eq!(code_name(b"3"), "INVALID_ARGUMENT");
        assert_eq!(code_name(b"16"), "UNAUTHENTICATED");
        assert_eq!(code_name(b"17"), "UNKNOWN");
        assert_eq!(code_name(b"x"), "UNKNOWN");
    }

    #[test]
    fn unknown_paths_share_one_label() {
        let metrics = RpcMetrics::new([MethodInfo { path: "/a.S/M", streams_answer: true }]);
        assert!(metrics.method("/a.S/M").streams_answer);
        assert_eq!(metrics.method("/a.S/Other").path, UNKNOWN_METHOD);
    }
}
