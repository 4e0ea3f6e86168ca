//! The on-disk encoding of the commission runs of open periods (prost,
//! like every record). A run is a head under `m:run:` + its id and, once it
//! succeeded, its figures in chunks under `r` + id + `/` + chunk number.

use super::compensation_records::OfficialRunRecord;

/// A run's head: what it is and how it ended. Written when the run starts
/// (state STARTED) and rewritten when it ends; a SUCCEEDED head is written
/// after every chunk of the run, so it is the run's commit.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RunHeadRecord {
    /// The run's id.
    #[prost(string, tag = "1")]
    pub run_id: String,
    /// The period, YYYY-MM.
    #[prost(string, tag = "2")]
    pub period: String,
    /// Whether it is a dry run.
    #[prost(bool, tag = "3")]
    pub dry_run: bool,
    /// Its start number among runs (monotonic across restarts).
    #[prost(uint64, tag = "4")]
    pub seq: u64,
    /// Start, Unix milliseconds.
    #[prost(int64, tag = "5")]
    pub start_ms: i64,
    /// End, Unix milliseconds; 0 while started.
    #[prost(int64, tag = "6")]
    pub end_ms: i64,
    /// 1 started, 2 succeeded, 3 failed, 4 cancelled.
    #[prost(uint32, tag = "7")]
    pub state: u32,
    /// Why it failed.
    #[prost(string, tag = "8")]
    pub error: String,
    /// The phase it reached (engine `Phase` code).
    #[prost(uint32, tag = "9")]
    pub phase: u32,
    /// Partners done in that phase.
    #[prost(uint64, tag = "10")]
    pub partners_done: u64,
    /// Partners in the run, once known.
    #[prost(uint64, tag = "11")]
    pub partners_total: u64,
    /// The bytes of the job memory budget its result holds.
    #[prost(uint64, tag = "12")]
    pub kept_bytes: u64,
    /// A succeeded run's plan version, totals and duration.
    #[prost(message, optional, tag = "13")]
    pub totals: Option<OfficialRunRecord>,
    /// Freshness: moves and status changes at its snapshot.
    #[prost(uint64, tag = "14")]
    pub fresh_changes: u64,
    /// Freshness: the period's orders at its snapshot.
    #[prost(uint64, tag = "15")]
    pub fresh_orders: u64,
    /// Freshness: the plan version in force at its snapshot.
    #[prost(uint32, tag = "16")]
    pub fresh_plan_version: u32,
    /// The arena's length at its snapshot.
    #[prost(uint64, tag = "17")]
    pub arena_len: u64,
    /// Chunks of figures written.
    #[prost(uint32, tag = "18")]
    pub chunks: u32,
}

/// The figures of up to `RUN_CHUNK_PARTNERS` consecutive breadth-first
/// positions of a run (packed columns).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RunChunkRecord {
    /// Arena index of each position.
    #[prost(uint32, repeated, tag = "1")]
    pub order: Vec<u32>,
    /// PV, volume units.
    #[prost(sint64, repeated, tag = "2")]
    pub pv: Vec<i64>,
    /// RV, volume units.
    #[prost(sint64, repeated, tag = "3")]
    pub rv: Vec<i64>,
    /// GV, volume units.
    #[prost(sint64, repeated, tag = "4")]
    pub gv: Vec<i64>,
    /// Activity.
    #[prost(bool, repeated, tag = "5")]
    pub active: Vec<bool>,
    /// Paid-as rank codes, one byte each.
    #[prost(bytes = "vec", tag = "6")]
    pub rank: Vec<u8>,
    /// Payable amounts, cents.
    #[prost(sint64, repeated, tag = "7")]
    pub payable_cents: Vec<i64>,
    /// LV_1..LV_L of each position in turn.
    #[prost(sint64, repeated, tag = "8")]
    pub levels: Vec<i64>,
}
