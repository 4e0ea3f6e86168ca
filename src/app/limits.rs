//! The server's limits, with their defaults. `downline serve` sets each
//! from a flag or a `DOWNLINE_*` variable (see README.md).

use super::{invalid, AppResult};
use std::time::Duration;

/// Request size, page size, listing depth, concurrency and time limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest request message, in bytes, after decompression (each
    /// message of a stream counts alone). Larger ones are RESOURCE_EXHAUSTED.
    pub max_message_bytes: usize,
    /// The largest page of a list; bigger `page_size`s are coerced to it
    /// (AIP-158).
    pub max_page_size: usize,
    /// The deepest level ListDownline lists. `max_depth` 0 ("every level")
    /// lists down to it; a larger `max_depth` is INVALID_ARGUMENT. Bounds
    /// the climb each listed partner may cost (see ARCHITECTURE.md).
    pub max_downline_depth: u32,
    /// Requests in progress at once, all connections together; beyond it
    /// a request is shed at once with RESOURCE_EXHAUSTED. Health checks
    /// are not counted.
    pub max_concurrent_requests: usize,
    /// The longest a unary request may take before DEADLINE_EXCEEDED.
    pub request_timeout: Duration,
    /// The longest a client-streaming request (ImportPartners,
    /// RecordOrders) may take, from its first byte to its answer.
    pub stream_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_bytes: 4 << 20,
            max_page_size: 1000,
            max_downline_depth: 10_000,
            max_concurrent_requests: 256,
            request_timeout: Duration::from_secs(30),
            stream_timeout: Duration::from_secs(600),
        }
    }
}

impl Limits {
    /// The depth a ListDownline lists for its `max_depth` field.
    pub fn downline_depth(&self, max_depth: u32) -> AppResult<u32> {
        match max_depth {
            0 => Ok(self.max_downline_depth),
            d if d > self.max_downline_depth => Err(invalid(
                "max_depth",
                format!(
                    "{d} is deeper than this server lists ({} levels); use 0 for every level up to it",
                    self.max_downline_depth
                ),
            )),
            d => Ok(d),
        }
    }
}

/// The page size of a list request (AIP-158): negative is INVALID_ARGUMENT,
/// 0 is the default, and anything above the maximum is coerced to it.
pub fn page_size(field_value: i32, default: usize, max: usize) -> AppResult<usize> {
    match field_value {
        v if v < 0 => Err(invalid("page_size", format!("{v} is negative"))),
        0 => Ok(default),
        v => Ok((v as usize).min(max)),
    }
}
