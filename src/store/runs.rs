//! Commission runs of open periods on disk (issue #17: runs survive a
//! restart).
//!
//! A run's head is staged when it starts (STARTED), before its job runs,
//! so a run that a crash cuts is found at start-up and reported FAILED,
//! never lost. A succeeded run writes its figures chunk by chunk, then its
//! SUCCEEDED head (the run's commit: chunks without it are leftovers), and
//! flushes before the run is reported done. A failed or cancelled run
//! rewrites its head without figures. Start-up reads every head and the
//! figures of the succeeded ones, decoding columns only: nothing is
//! computed again.

use super::compensation::{official_record, official_run};
use super::keys;
use super::run_records::{RunChunkRecord, RunHeadRecord};
use super::tap::Batch;
use super::{Store, StoreError};
use crate::engine::{Freshness, Network, Period, RunColumns, RunParts, RunResult};
use prost::Message;
use std::sync::Arc;

/// Breadth-first positions per chunk of a stored run (~200 KB at 7
/// levels).
const RUN_CHUNK_PARTNERS: usize = 4096;
/// Chunks per sled batch while a run's figures are written.
const RUN_CHUNKS_PER_BATCH: u32 = 16;
/// The reason a run cut by a crash is reported with after a restart.
pub const INTERRUPTED: &str =
    "the server stopped while this run computed (a crash or a kill): nothing of it was stored; start a new run";

/// How a stored run stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredRunState {
    /// Started; not ended when it was written.
    Started,
    /// Succeeded: its figures are stored.
    Succeeded,
    /// Failed, with the reason.
    Failed(String),
    /// Cancelled at a shutdown.
    Cancelled,
}

/// What the store keeps of a run besides its figures.
#[derive(Debug, Clone)]
pub struct RunMeta {
    /// The run's id.
    pub run_id: String,
    /// Its period.
    pub period: Period,
    /// Whether it is a dry run.
    pub dry_run: bool,
    /// Its start number among runs.
    pub seq: u64,
    /// Start, Unix milliseconds.
    pub start_ms: i64,
    /// End, Unix milliseconds (0 while started).
    pub end_ms: i64,
    /// How it stands.
    pub state: StoredRunState,
    /// The phase it reached (engine `Phase` code).
    pub phase: u8,
    /// Partners done in that phase.
    pub partners_done: u64,
    /// Partners in the run, once known.
    pub partners_total: u64,
    /// The bytes of the job memory budget its result holds.
    pub kept_bytes: u64,
}

/// A run read back at start-up: its head and, if it succeeded, its figures.
pub struct LoadedRun {
    /// Its head.
    pub meta: RunMeta,
    /// Its figures, if it succeeded.
    pub result: Option<RunResult>,
}

impl Store {
    /// Stages a run's head without figures (its start, a failure or a
    /// cancellation; an end also drops any figures already written) and
    /// returns the ticket to wait on.
    pub fn stage_run_head(&self, meta: &RunMeta) -> Result<u64, StoreError> {
        let mut batch = Batch::default();
        if meta.state != StoredRunState::Started {
            self.remove_chunks(&mut batch, &meta.run_id)?;
        }
        batch.insert(keys::run_head(&meta.run_id), head_record(meta, None).encode_to_vec());
        self.stage_batch(batch, Box::new(|_| {}))
    }

    /// Writes a succeeded run's figures, then its head, and flushes:
    /// blocking, on the run's job thread, so the run is reported done only
    /// once it is durable.
    pub fn write_run(&self, meta: &RunMeta, run: &RunResult) -> Result<(), StoreError> {
        let chunks = u32::try_from(run.partners().div_ceil(RUN_CHUNK_PARTNERS))
            .map_err(|_| StoreError::Corrupt("a run of more than 2^32 chunks".into()))?;
        let mut first = 0;
        while first < chunks {
            let end = chunks.min(first + RUN_CHUNKS_PER_BATCH);
            let mut batch = Batch::default();
            for chunk in first..end {
                let from = chunk as usize * RUN_CHUNK_PARTNERS;
                let record = chunk_record(run.columns(from..from + RUN_CHUNK_PARTNERS));
                batch.insert(keys::run_chunk(&meta.run_id, chunk), record.encode_to_vec());
            }
            self.apply_run_batch(batch)?;
            first = end;
        }
        let mut batch = Batch::default();
        batch.insert(keys::run_head(&meta.run_id), head_record(meta, Some((run, chunks))).encode_to_vec());
        self.apply_run_batch(batch)?;
        self.flush_runs()
    }

    /// Deletes a stored run, head and figures, and flushes (blocking).
    pub fn delete_run(&self, run_id: &str) -> Result<(), StoreError> {
        self.forget_run(run_id)?;
        self.flush_runs()
    }

    /// Deletes a stored run without waiting for a flush: a run the registry
    /// forgot. Should a crash come first, start-up forgets it again.
    pub fn forget_run(&self, run_id: &str) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        self.remove_chunks(&mut batch, run_id)?;
        batch.remove(keys::run_head(run_id));
        self.apply_run_batch(batch)
    }

    /// Every stored run, by start number. A run found STARTED was cut by a
    /// crash: its head is rewritten FAILED (with [`INTERRUPTED`]) and its
    /// leftover figures dropped, so later restarts answer the same.
    pub fn load_runs(&self, net: &Network) -> Result<Vec<LoadedRun>, StoreError> {
        let mut runs = Vec::new();
        for entry in self.db.scan_prefix(keys::META_RUN) {
            let (_, value) = entry?;
            let head = RunHeadRecord::decode(value.as_ref())
                .map_err(|e| StoreError::Corrupt(format!("a commission run's head: {e}")))?;
            let mut meta = meta_of(&head)?;
            let result = match meta.state {
                StoredRunState::Succeeded => Some(self.read_run(&head, &meta, net)?),
                StoredRunState::Started => {
                    meta.state = StoredRunState::Failed(INTERRUPTED.into());
                    self.stage_run_head(&meta)?;
                    None
                }
                StoredRunState::Failed(_) | StoredRunState::Cancelled => None,
            };
            runs.push(LoadedRun { meta, result });
        }
        runs.sort_by_key(|r| r.meta.seq);
        Ok(runs)
    }

    /// A succeeded run's figures, put back together.
    fn read_run(&self, head: &RunHeadRecord, meta: &RunMeta, net: &Network) -> Result<RunResult, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("commission run {}: {what}", head.run_id));
        let totals = head.totals.clone().ok_or_else(|| corrupt("succeeded without totals".into()))?;
        let plan = net.plan_version(totals.plan_version).map_err(|e| corrupt(e.to_string()))?;
        let official = official_run(totals)?;
        // The arena only grows: a run's figures never cover more partners
        // than there are now (a damaged head cannot make start-up allocate
        // without bound).
        let arena_now = net.genealogy.len();
        if head.arena_len > arena_now as u64 || official.totals.partners > head.arena_len {
            return Err(corrupt(format!("{} partners in an arena of {}", official.totals.partners, head.arena_len)));
        }
        let mut parts = empty_parts(meta.period, Arc::clone(plan), head, official.totals, official.duration_ms);
        let mut chunks = 0u32;
        for entry in self.db.scan_prefix(keys::run_chunks(&head.run_id)) {
            let (_, value) = entry?;
            let c = RunChunkRecord::decode(value.as_ref()).map_err(|e| corrupt(format!("chunk {chunks}: {e}")))?;
            parts.order.extend(c.order);
            parts.pv.extend(c.pv);
            parts.rv.extend(c.rv);
            parts.gv.extend(c.gv);
            parts.active.extend(c.active);
            parts.rank.extend(c.rank);
            parts.payable_cents.extend(c.payable_cents);
            parts.levels.extend(c.levels);
            chunks += 1;
        }
        if chunks != head.chunks {
            return Err(corrupt(format!("{chunks} chunks of figures, its head says {}", head.chunks)));
        }
        RunResult::from_parts(parts).map_err(corrupt)
    }

    /// Removes every chunk of a run's figures in `batch`.
    fn remove_chunks(&self, batch: &mut Batch, run_id: &str) -> Result<(), StoreError> {
        for entry in self.db.scan_prefix(keys::run_chunks(run_id)) {
            batch.remove(entry?.0);
        }
        Ok(())
    }

    /// Applies a batch of runs' keys, unless the store failed (fail-stop:
    /// nothing is written after a failed flush).
    fn apply_run_batch(&self, batch: Batch) -> Result<(), StoreError> {
        self.apply_now(batch, None)
    }

    /// Flushes; a failure fails the store as a failed group commit does.
    fn flush_runs(&self) -> Result<(), StoreError> {
        if let Err(err) = self.db.flush() {
            self.commit.fail();
            return Err(err.into());
        }
        Ok(())
    }
}

/// The network's count of moves and status changes as last written
/// (0: a directory written before it was kept).
pub(super) fn change_count(db: &sled::Db) -> Result<u64, StoreError> {
    match db.get(keys::META_CHANGES)? {
        None => Ok(0),
        Some(raw) => Ok(u64::from_be_bytes(
            raw.as_ref().try_into().map_err(|_| StoreError::Corrupt("the change count is not 8 bytes".into()))?,
        )),
    }
}

fn state_code(state: &StoredRunState) -> (u32, String) {
    match state {
        StoredRunState::Started => (1, String::new()),
        StoredRunState::Succeeded => (2, String::new()),
        StoredRunState::Failed(reason) => (3, reason.clone()),
        StoredRunState::Cancelled => (4, String::new()),
    }
}

fn head_record(meta: &RunMeta, figures: Option<(&RunResult, u32)>) -> RunHeadRecord {
    let (state, error) = state_code(&meta.state);
    let mut head = RunHeadRecord {
        run_id: meta.run_id.clone(),
        period: meta.period.to_string(),
        dry_run: meta.dry_run,
        seq: meta.seq,
        start_ms: meta.start_ms,
        end_ms: meta.end_ms,
        state,
        error,
        phase: u32::from(meta.phase),
        partners_done: meta.partners_done,
        partners_total: meta.partners_total,
        kept_bytes: meta.kept_bytes,
        ..RunHeadRecord::default()
    };
    if let Some((run, chunks)) = figures {
        let official = crate::engine::OfficialRun {
            run_id: meta.run_id.clone(),
            plan_version: run.plan.version,
            totals: run.totals.clone(),
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        };
        head.totals = Some(official_record(&official));
        head.fresh_changes = run.freshness.changes;
        head.fresh_orders = run.freshness.orders;
        head.fresh_plan_version = run.freshness.plan_version;
        head.arena_len = run.arena_len() as u64;
        head.chunks = chunks;
    }
    head
}

fn meta_of(head: &RunHeadRecord) -> Result<RunMeta, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("commission run {}: {what}", head.run_id));
    let period = Period::parse("period", &head.period).map_err(|_| corrupt("bad period"))?;
    let state = match head.state {
        1 => StoredRunState::Started,
        2 => StoredRunState::Succeeded,
        3 => StoredRunState::Failed(head.error.clone()),
        4 => StoredRunState::Cancelled,
        _ => return Err(corrupt("unknown state")),
    };
    Ok(RunMeta {
        run_id: head.run_id.clone(),
        period,
        dry_run: head.dry_run,
        seq: head.seq,
        start_ms: head.start_ms,
        end_ms: head.end_ms,
        state,
        phase: u8::try_from(head.phase).map_err(|_| corrupt("bad phase"))?,
        partners_done: head.partners_done,
        partners_total: head.partners_total,
        kept_bytes: head.kept_bytes,
    })
}

fn chunk_record(c: RunColumns<'_>) -> RunChunkRecord {
    RunChunkRecord {
        order: c.order.to_vec(),
        pv: c.pv.to_vec(),
        rv: c.rv.to_vec(),
        gv: c.gv.to_vec(),
        active: c.active.to_vec(),
        rank: c.rank.to_vec(),
        payable_cents: c.payable_cents.to_vec(),
        levels: c.levels,
    }
}

fn empty_parts(
    period: Period,
    plan: Arc<crate::engine::Plan>,
    head: &RunHeadRecord,
    totals: crate::engine::RunTotals,
    duration_ms: u64,
) -> RunParts {
    let n = usize::try_from(head.totals.as_ref().map_or(0, |t| t.partners)).unwrap_or(0);
    let levels = plan.volume.levels;
    RunParts {
        period,
        freshness: Freshness {
            changes: head.fresh_changes,
            orders: head.fresh_orders,
            plan_version: head.fresh_plan_version,
        },
        arena_len: usize::try_from(head.arena_len).unwrap_or(usize::MAX),
        order: Vec::with_capacity(n),
        pv: Vec::with_capacity(n),
        rv: Vec::with_capacity(n),
        gv: Vec::with_capacity(n),
        active: Vec::with_capacity(n),
        rank: Vec::with_capacity(n),
        payable_cents: Vec::with_capacity(n),
        levels: Vec::with_capacity(n.saturating_mul(levels)),
        plan,
        totals,
        duration: std::time::Duration::from_millis(duration_ms),
    }
}
