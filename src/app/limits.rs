//! The server's limits, with their defaults. `downline serve` sets each
//! from a flag or a `DOWNLINE_*` variable (see README.md).

use super::{invalid, AppResult};
use std::time::Duration;

/// The default largest request message, in bytes (4 MiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 4 << 20;
/// The default largest page of a list.
pub const DEFAULT_MAX_PAGE_SIZE: u64 = 1000;
/// The default deepest level ListDownline lists.
pub const DEFAULT_MAX_DOWNLINE_DEPTH: u32 = 10_000;
/// The default number of unary requests in progress at once.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u64 = 256;
/// The default longest unary request, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;
/// The default longest client-streaming request, in milliseconds.
pub const DEFAULT_STREAM_TIMEOUT_MS: u64 = 600_000;
/// The default number of client streams open at once.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u64 = 64;
/// The default longest silence of a client stream, in milliseconds.
pub const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 30_000;
/// The default drain deadline at shutdown, in milliseconds.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 10_000;
/// The default time running jobs get to finish at shutdown, in seconds:
/// with the drain's 10 s it stays within a 30 s termination grace
/// (Kubernetes' default).
pub const DEFAULT_JOB_GRACE_SECS: u64 = 20;
/// The bytes of one BackupStore message (the last one may be shorter).
pub const DEFAULT_BACKUP_PIECE_BYTES: usize = 1 << 20;
/// The job memory budget when /proc/meminfo cannot be read, in MiB.
pub const FALLBACK_JOB_MEMORY_MB: u64 = 8192;

/// The default job memory budget, in MiB: half the machine's memory
/// (`MemTotal` of /proc/meminfo), else [`FALLBACK_JOB_MEMORY_MB`].
pub fn default_job_memory_mb() -> u64 {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    total_kib.map_or(FALLBACK_JOB_MEMORY_MB, |kib| (kib / 1024 / 2).max(1))
}

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
    /// Unary requests in progress at once, all connections together;
    /// beyond it a request is shed at once with RESOURCE_EXHAUSTED. Health
    /// checks and client streams are not counted.
    pub max_concurrent_requests: usize,
    /// Client streams (ImportPartners, RecordOrders, reflection) open at
    /// once: their own budget, so idle streams never shed unary calls.
    pub max_concurrent_streams: usize,
    /// The longest a unary request may take before DEADLINE_EXCEEDED.
    pub request_timeout: Duration,
    /// The longest a client-streaming request (ImportPartners,
    /// RecordOrders) may take, from its first byte to its answer.
    pub stream_timeout: Duration,
    /// The longest a client stream may stay silent while the server waits
    /// for its next message; then DEADLINE_EXCEEDED.
    pub stream_idle_timeout: Duration,
    /// At shutdown, how long calls in progress may still finish before
    /// they are cancelled (the drain deadline).
    pub shutdown_grace: Duration,
    /// The memory all background jobs together may reserve, in bytes;
    /// a job that does not fit is RESOURCE_EXHAUSTED (`app::job_budget`).
    pub job_memory_bytes: u64,
    /// At shutdown, how long running jobs may still finish (while the
    /// server still serves) before they are cancelled.
    pub job_grace: Duration,
    /// The bytes of one BackupStore message: far below the 4 MiB clients
    /// accept by default. Not a flag; tests make it small to hold a backup
    /// open across writes.
    pub backup_piece_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES as usize,
            max_page_size: DEFAULT_MAX_PAGE_SIZE as usize,
            max_downline_depth: DEFAULT_MAX_DOWNLINE_DEPTH,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS as usize,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS as usize,
            request_timeout: Duration::from_millis(DEFAULT_REQUEST_TIMEOUT_MS),
            stream_timeout: Duration::from_millis(DEFAULT_STREAM_TIMEOUT_MS),
            stream_idle_timeout: Duration::from_millis(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
            shutdown_grace: Duration::from_millis(DEFAULT_SHUTDOWN_GRACE_MS),
            job_memory_bytes: default_job_memory_mb().saturating_mul(1 << 20),
            job_grace: Duration::from_secs(DEFAULT_JOB_GRACE_SECS),
            backup_piece_bytes: DEFAULT_BACKUP_PIECE_BYTES,
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
