//! Persistence of the genealogy in sled. The store knows the engine's
//! change sets and reads the genealogy; the engine knows nothing of it.
//!
//! The durability guarantee: a change set is applied to sled as one atomic
//! batch, in the same order the engine applied it (callers stage under the
//! engine's write lock), and a write is acknowledged only after a flush
//! that started after its batch (see `group_commit`). At start-up the
//! genealogy is rebuilt from the partner chunks alone, and what was loaded
//! is checked against the manifest (see `open`).

pub mod backup;
pub mod backup_format;
mod closed;
mod compensation;
mod compensation_records;
pub mod data_dir;
mod events;
pub mod group_commit;
pub mod keys;
mod ledger;
mod load;
pub mod manifest;
mod open;
mod orders;
mod panic_guard;
pub mod records;
mod run_records;
pub mod runs;
mod tap;
mod team;

use crate::engine::{Audit, ChangeSet, Genealogy, Network, PartnerIx, PartnerRange};
use group_commit::{FlushFailed, GroupCommit};
use keys::CHUNK_PARTNERS;
use ledger::{Ledger, ManifestUpdate};
pub use open::OpenMode;
use prost::Message;
use records::{PartnerChunk, StoredEvent, StoredPartner, CREATED};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tap::{Batch, Tap};

/// Why the store could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled reported an I/O or internal error.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// The data on disk does not make sense (not written by this format, or damaged).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A flush failed earlier; the store accepts no more writes.
    #[error(transparent)]
    Failed(#[from] FlushFailed),
    /// The data directory cannot be used: damaged, corrupt, or an
    /// interrupted import. The message names the directory.
    #[error("{0}")]
    DataDir(String),
    /// An offline import stopped at a batch boundary because it was asked to.
    #[error("interrupted")]
    Interrupted,
    /// A backup was asked for while another one runs.
    #[error("a backup is running; one runs at a time")]
    BackupBusy,
    /// A backup stopped; the store is unharmed.
    #[error("the backup stopped: {0}")]
    BackupAborted(String),
}

impl StoreError {
    /// "the data directory D is {problem}".
    pub fn data_dir(dir: &Path, problem: impl std::fmt::Display) -> StoreError {
        StoreError::DataDir(format!("the data directory {} is {problem}", dir.display()))
    }
}

/// The most partners in one creation event block.
const MAX_CREATION_BLOCK: u32 = 4096;
/// Partners per sled batch when an offline import writes.
const IMPORT_BATCH_PARTNERS: u32 = 65_536;

/// The sled database of one data directory.
pub struct Store {
    db: sled::Db,
    next_event_seq: AtomicU64,
    next_order_block: AtomicU64,
    commit: Arc<GroupCommit>,
    ledger: Arc<Ledger>,
    token_key: [u8; 16],
    /// Every batch goes through it (see `tap`).
    tap: Arc<Tap>,
}

/// How long [`Store::open`] waits for the directory's lock.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Opens the sled database, waiting up to [`LOCK_WAIT`] for its file lock.
/// sled releases the lock only when its last background thread lets go of
/// the closed database, a moment after the last handle is dropped: a server
/// restarted in the same process (tests, embedders) would otherwise find
/// the directory still locked. Another process holding it still fails,
/// after the wait, with sled's error. sled reports the lock only as an I/O
/// error with this text (sled is pinned to 0.34.7 in Cargo.toml, and
/// `lock_tests` fails if the text changes).
fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let waited = Instant::now();
    loop {
        let opened = sled::Config::new().path(path).cache_capacity(256 << 20).flush_every_ms(None).open();
        match opened {
            Err(sled::Error::Io(e)) if is_lock_error(&e) && waited.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            // No periodic background flush (flush_every_ms None): every
            // acknowledged write is flushed by the group commit, and a second
            // flusher would only compete with it.
            other => return Ok(other?),
        }
    }
}

/// Whether sled failed to open because another process holds the
/// directory's file lock (sled says so only in the error's text).
fn is_lock_error(error: &std::io::Error) -> bool {
    error.to_string().contains("could not acquire lock")
}

impl Store {
    /// The flush latency and group size histograms (`/metrics`).
    pub fn flush_histograms(
        &self,
    ) -> (crate::metrics::histogram::AtomicHistogram, crate::metrics::histogram::AtomicHistogram) {
        (self.commit.flush_seconds.clone(), self.commit.group_writes.clone())
    }

    /// Starts the group-commit flusher on the current tokio runtime.
    pub fn spawn_flusher(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.commit.clone().run_flusher(self.db.clone(), Arc::clone(&self.ledger), Arc::clone(&self.tap)))
    }

    /// The key that signs page tokens; stable across restarts.
    pub fn token_key(&self) -> [u8; 16] {
        self.token_key
    }

    /// Whether a flush failed: the server must then refuse all requests,
    /// since memory may hold a change the disk never got.
    pub fn has_failed(&self) -> bool {
        self.commit.has_failed()
    }

    /// Returns once a flush (or a staging) failed: see
    /// [`GroupCommit::wait_failed`].
    pub async fn wait_failed(&self) {
        self.commit.wait_failed().await;
    }

    /// Makes the next group-commit flush fail (tests only): see
    /// [`GroupCommit::fail_next_flush`].
    #[doc(hidden)]
    pub fn fail_next_flush(&self) {
        self.commit.fail_next_flush();
    }

    /// Stages a change set as one atomic batch and returns the ticket to
    /// wait on. Must be called under the engine's write lock, right after
    /// the engine applied the change, so that disk order is engine order and
    /// `network` holds the state to write. It encodes the batch and queues
    /// it: sled gets it from the group commit's flusher (see `ledger`).
    pub fn stage(&self, change: &ChangeSet, network: &Network) -> Result<u64, StoreError> {
        // Nothing is encoded for a store that failed (the guard refuses
        // the request anyway).
        if self.commit.has_failed() {
            return Err(FlushFailed.into());
        }
        let mut batch = Batch::default();
        self.add_change(&mut batch, change, &network.genealogy);
        self.add_orders(&mut batch, network, change.orders.clone());
        self.add_team(&mut batch, &change.team, network);
        if let Some(plan) = &change.plan {
            compensation::add_plan(&mut batch, plan);
        }
        // Part of a stored run's freshness, which start-up must give back.
        batch.insert(keys::META_CHANGES, &network.change_count().to_be_bytes());
        let (changed, orders) = (self.change_update(change), self.orders_update(change.orders.end));
        let team = team::update(&change.team);
        let plan = change.plan.as_ref().map(|plan| plan.version);
        let update: ManifestUpdate = Box::new(move |m| {
            changed(m);
            orders(m);
            team(m);
            if let Some(version) = plan {
                m.plans = m.plans.max(u64::from(version));
            }
        });
        self.stage_batch(batch, update)
    }

    /// Stages `batch` (see [`Ledger::stage`]) and returns its ticket.
    fn stage_batch(&self, batch: Batch, update: ManifestUpdate) -> Result<u64, StoreError> {
        if self.commit.has_failed() {
            return Err(FlushFailed.into());
        }
        Ok(self.ledger.stage(&self.commit, batch, update))
    }

    /// Applies `batch` now, after everything staged (see
    /// [`Ledger::apply_now`]); a failure fails the store.
    fn apply_now(&self, batch: Batch, update: Option<ManifestUpdate>) -> Result<(), StoreError> {
        if self.commit.has_failed() {
            return Err(FlushFailed.into());
        }
        if let Err(err) = self.ledger.apply_now(&self.db, &self.tap, &self.commit, batch, update) {
            // The engine may already hold what it wrote: fail-stop.
            self.commit.fail();
            return Err(err.into());
        }
        Ok(())
    }

    /// The newest ticket handed out: waiting on it waits for every change
    /// staged so far.
    pub fn last_ticket(&self) -> u64 {
        self.commit.last_ticket()
    }

    /// Waits until the staged change of `ticket` is on disk.
    pub async fn wait_durable(&self, ticket: u64) -> Result<(), StoreError> {
        Ok(self.commit.wait(ticket).await?)
    }

    /// Persists the partners of an offline bulk import, a batch at a time,
    /// then flushes. The created range is breadth-first, so a crash part-way
    /// leaves a valid forest, and running the same import again completes it.
    /// `progress` hears of every batch and answers whether to go on: when it
    /// says no, what was written is flushed and the import ends with
    /// [`StoreError::Interrupted`].
    pub fn write_import(
        &self,
        genealogy: &Genealogy,
        created: PartnerRange,
        audit: &Audit,
        mut progress: impl FnMut(u64) -> bool,
    ) -> Result<(), StoreError> {
        let created = created.raw();
        let mut start = created.start;
        while start < created.end {
            let end = created.end.min(start.saturating_add(IMPORT_BATCH_PARTNERS));
            let mut batch = Batch::default();
            let batch_range = PartnerRange::new(PartnerIx::new(start), PartnerIx::new(end));
            let change = genealogy.created_change(batch_range, audit);
            self.add_change(&mut batch, &change, genealogy);
            self.apply_now(batch, Some(Box::new(self.change_update(&change))))?;
            if !progress(u64::from(end - start)) && end < created.end {
                self.flush()?;
                return Err(StoreError::Interrupted);
            }
            start = end;
        }
        self.flush()
    }

    /// Flushes everything staged, blocking, and records what the flush
    /// covered in the sidecar: the last step of a shutdown and an import.
    pub fn flush(&self) -> Result<(), StoreError> {
        // What is queued goes first; after a failure nothing more is
        // applied (it was never acknowledged), and what sled holds is
        // still flushed.
        if !self.commit.has_failed() {
            self.apply_now(Batch::default(), None)?;
        }
        let covered = self.ledger.snapshot();
        self.db.flush()?;
        if !self.commit.has_failed() {
            self.ledger.write_sidecar(&covered).map_err(|e| {
                StoreError::DataDir(format!("cannot write the MANIFEST file of the data directory: {e}"))
            })?;
        }
        Ok(())
    }

    /// The manifest of everything committed so far.
    pub fn manifest(&self) -> manifest::Manifest {
        self.ledger.snapshot()
    }

    /// How a change set staged now changes the manifest: the counters are
    /// read now, when they count this change and the earlier ones only.
    fn change_update(&self, change: &ChangeSet) -> impl FnOnce(&mut manifest::Manifest) + Send + 'static {
        let partners = u64::from(change.created.end().get());
        let next_event_seq = self.next_event_seq.load(Ordering::Acquire);
        move |m| {
            m.partners = m.partners.max(partners);
            m.next_event_seq = m.next_event_seq.max(next_event_seq);
        }
    }

    fn add_change(&self, batch: &mut Batch, change: &ChangeSet, g: &Genealogy) {
        let mut chunks: Vec<u32> = change.touched.iter().map(|ix| ix.get() / CHUNK_PARTNERS).collect();
        let created = change.created.raw();
        if !created.is_empty() {
            chunks.extend(created.start / CHUNK_PARTNERS..=(created.end - 1) / CHUNK_PARTNERS);
        }
        chunks.sort_unstable();
        chunks.dedup();
        for number in chunks {
            batch.insert(&keys::chunk(number), encode_chunk(g, number));
        }
        let mut first = created.start;
        while first < created.end {
            let end = created.end.min(first + MAX_CREATION_BLOCK);
            let seq = self.next_event_seq.fetch_add(u64::from(end - first), Ordering::AcqRel);
            let block = creation_block(g, first..end, &change.audit);
            batch.insert(&keys::event(seq), block.encode_to_vec());
            batch.insert(&keys::creation(first), &seq.to_be_bytes());
            first = end;
        }
        for event in &change.events {
            let seq = self.next_event_seq.fetch_add(1, Ordering::AcqRel);
            batch.insert(&keys::event(seq), StoredEvent::from_event(event).encode_to_vec());
            batch.insert(&keys::partner_event(event.partner_ix.get(), seq), &[]);
        }
        batch.insert(keys::META_STRUCTURE_VERSION, &g.structure_version().to_be_bytes());
    }
}

/// The current state of the partners of one chunk.
fn encode_chunk(g: &Genealogy, number: u32) -> Vec<u8> {
    let first = number * CHUNK_PARTNERS;
    let end = (first + CHUNK_PARTNERS).min(g.len() as u32);
    let partners = (first..end).map(|seq| StoredPartner::from_record(&g.record(PartnerIx::new(seq)))).collect();
    PartnerChunk { partners }.encode_to_vec()
}

/// One creation event for the partners `created`, with their sponsors now.
fn creation_block(g: &Genealogy, created: Range<u32>, audit: &Audit) -> StoredEvent {
    let sponsors = created.clone().map(|seq| match g.sponsor_of(PartnerIx::new(seq)) {
        PartnerIx::NONE => 0,
        s => s.get() + 1,
    });
    StoredEvent {
        kind: CREATED,
        partner_id: g.id(PartnerIx::new(created.start)).to_owned(),
        partner_seq: created.start,
        new_status: u32::from(crate::engine::PartnerStatus::Enrolled.code()),
        actor: audit.actor.clone(),
        reason: audit.reason.clone(),
        at_unix_ms: audit.at_unix_ms,
        count: created.end - created.start,
        sponsor_seqs_plus_one: sponsors.collect(),
        ..StoredEvent::default()
    }
}

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn open_waits_for_a_closing_store_to_let_go_of_the_lock() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (store, network) = Store::open(dir.path()).expect("a first open");
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop((store, network));
        });
        let started = Instant::now();
        let reopened = Store::open(dir.path());
        assert!(reopened.is_ok(), "{:?}", reopened.err());
        assert!(started.elapsed() >= Duration::from_millis(250), "it did wait for the first store");
        closer.join().expect("the closer");
    }
}
