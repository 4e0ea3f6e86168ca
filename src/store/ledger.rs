//! The ledger: the manifest of everything committed so far, the queue of
//! staged batches, the one place that applies batches that add data, and
//! the writer of the sidecar. Every applied batch carries the manifest it
//! leads to, applied under one mutex so manifests reach sled in the order
//! of their generations.
//!
//! Why a queue: a write stages its batch under the network's lock (so
//! disk order is engine order), but applying it to sled costs 0.2-1 ms,
//! several times the change itself, and more while a job streams memory.
//! Applied under the lock, that cost made the writes queue behind each
//! other whenever a background job ran (`docs/bench-log.md`, "Writes wait
//! for the lock, not the disk"). Staging now only appends to the queue;
//! the group commit's flusher applies everything queued as one sled batch
//! right before each flush, and every other apply first applies what is
//! queued, so sled still sees batches in the order they were staged.
//!
//! Architecture invariant: batches reach sled in the order they were
//! staged or applied, and a ticket counts as applied only once its batch
//! and every earlier one are in sled.

use super::data_dir::Sidecar;
use super::group_commit::GroupCommit;
use super::keys;
use super::manifest::Manifest;
use super::tap::{Batch, Tap};
use parking_lot::Mutex;
use prost::Message;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The least time between two sidecar writes of the flusher: two fsyncs
/// (file and directory, ~20 ms on the test machine's disk) at most once a
/// second, whatever the write rate, on a blocking thread beside the flushes.
pub const SIDECAR_INTERVAL: Duration = Duration::from_millis(1000);

/// How a staged batch changes the manifest, computed when it is staged
/// (the counters it reads move on as later batches are staged).
pub type ManifestUpdate = Box<dyn FnOnce(&mut Manifest) + Send>;

/// A batch staged and not yet applied, with its ticket.
struct Staged {
    batch: Batch,
    update: ManifestUpdate,
    ticket: u64,
}

/// The committed manifest, the staged batches and the sidecar.
pub struct Ledger {
    current: Mutex<Manifest>,
    /// Staged batches not yet applied, in ticket order.
    queue: Mutex<Vec<Staged>>,
    /// Held by whoever applies: the queue's batches and any batch applied
    /// directly reach sled one caller at a time, in order.
    applying: Mutex<()>,
    sidecar: Sidecar,
    /// When the sidecar was last written.
    last_write: Mutex<Instant>,
    /// Whether a background sidecar write is in flight.
    background: AtomicBool,
}

impl Ledger {
    /// A ledger that starts from `manifest` (which is on disk).
    pub fn new(manifest: Manifest, sidecar: Sidecar) -> Ledger {
        Ledger {
            current: Mutex::new(manifest),
            queue: Mutex::new(Vec::new()),
            applying: Mutex::new(()),
            sidecar,
            last_write: Mutex::new(Instant::now()),
            background: AtomicBool::new(false),
        }
    }

    /// Queues `batch` with the manifest `update` leads to and returns its
    /// ticket, which the group commit's flusher makes durable (it applies
    /// the queue first). Cheap: no sled call.
    pub fn stage(&self, commit: &GroupCommit, batch: Batch, update: ManifestUpdate) -> u64 {
        let mut queue = self.queue.lock();
        // Reserved under the queue's lock: tickets are in queue order.
        let ticket = commit.reserve();
        queue.push(Staged { batch, update, ticket });
        drop(queue);
        commit.wake_flusher();
        ticket
    }

    /// Applies every queued batch as one, with the manifest they lead to,
    /// and records their tickets as applied. On an error the manifest stays
    /// as it was (the caller fails the store: nothing is written after a
    /// failed batch).
    pub fn apply_queued(&self, db: &sled::Db, tap: &Tap, commit: &GroupCommit) -> Result<(), sled::Error> {
        let _turn = self.applying.lock();
        self.apply_queued_in_turn(db, tap, commit)
    }

    /// Applies `batch` now, after what is queued, with the manifest
    /// `update` leads to (`None`: the manifest is unchanged and not
    /// rewritten). For the batches that write a job's or an import's bulk
    /// data and flush them themselves.
    pub fn apply_now(
        &self,
        db: &sled::Db,
        tap: &Tap,
        commit: &GroupCommit,
        batch: Batch,
        update: Option<ManifestUpdate>,
    ) -> Result<(), sled::Error> {
        let _turn = self.applying.lock();
        self.apply_queued_in_turn(db, tap, commit)?;
        match update {
            Some(update) => self.apply_with_manifest(db, tap, batch, vec![update]),
            // A caller that only wants the queue applied (a flush).
            None if batch.is_empty() => Ok(()),
            None => tap.apply(db, batch),
        }
    }

    /// [`Ledger::apply_queued`] with the turn held.
    fn apply_queued_in_turn(&self, db: &sled::Db, tap: &Tap, commit: &GroupCommit) -> Result<(), sled::Error> {
        let staged = std::mem::take(&mut *self.queue.lock());
        let Some(last) = staged.last().map(|s| s.ticket) else {
            return Ok(());
        };
        debug_assert!(staged.windows(2).all(|w| w[0].ticket < w[1].ticket), "tickets are in queue order");
        let mut batch = Batch::default();
        let mut updates = Vec::with_capacity(staged.len());
        for Staged { batch: one, update, .. } in staged {
            batch.append(one);
            updates.push(update);
        }
        self.apply_with_manifest(db, tap, batch, updates)?;
        commit.set_applied(last);
        Ok(())
    }

    /// Applies `batch` with the manifest `updates` lead to, one generation
    /// later.
    fn apply_with_manifest(
        &self,
        db: &sled::Db,
        tap: &Tap,
        mut batch: Batch,
        updates: Vec<ManifestUpdate>,
    ) -> Result<(), sled::Error> {
        let mut current = self.current.lock();
        let mut next = *current;
        for update in updates {
            update(&mut next);
        }
        next.generation += 1;
        batch.insert(keys::META_MANIFEST, next.encode_to_vec());
        tap.apply(db, batch)?;
        *current = next;
        Ok(())
    }

    /// The manifest of every batch applied so far.
    pub fn snapshot(&self) -> Manifest {
        *self.current.lock()
    }

    /// Writes `durable` (a snapshot taken before a flush that succeeded)
    /// to the sidecar.
    pub fn write_sidecar(&self, durable: &Manifest) -> std::io::Result<()> {
        *self.last_write.lock() = Instant::now();
        self.sidecar.write(durable)
    }

    /// Claims the next background sidecar write when one is due and none
    /// is in flight; the claimer calls [`Ledger::end_background`] after it.
    pub fn claim_background(&self) -> bool {
        self.last_write.lock().elapsed() >= SIDECAR_INTERVAL
            && self.background.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Ends the background write claimed by [`Ledger::claim_background`].
    pub fn end_background(&self) {
        self.background.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ledger_and_db() -> (tempfile::TempDir, Ledger, sled::Db, Tap, Arc<GroupCommit>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = sled::Config::new().path(dir.path().join("db")).open().expect("sled");
        let ledger = Ledger::new(Manifest::default(), Sidecar::new(dir.path(), false));
        (dir, ledger, db, Tap::default(), GroupCommit::new())
    }

    fn one(key: &[u8], value: &[u8]) -> Batch {
        let mut batch = Batch::default();
        batch.insert(key, value);
        batch
    }

    fn stored_manifest(db: &sled::Db) -> Manifest {
        let raw = db.get(keys::META_MANIFEST).expect("read").expect("a manifest");
        Manifest::decode(raw.as_ref()).expect("decodes")
    }

    #[test]
    fn staged_batches_reach_sled_only_when_applied_in_order_with_every_manifest_update() {
        let (_dir, ledger, db, tap, commit) = ledger_and_db();
        let first = ledger.stage(&commit, one(b"k", b"first"), Box::new(|m| m.orders = m.orders.max(3)));
        let second = ledger.stage(&commit, one(b"k", b"second"), Box::new(|m| m.partners = m.partners.max(7)));
        assert_eq!((first, second), (1, 2));
        assert_eq!(db.get(b"k").expect("read"), None, "staging writes nothing");
        assert_eq!(commit.applied(), 0);

        ledger.apply_queued(&db, &tap, &commit).expect("applied");
        assert_eq!(db.get(b"k").expect("read").as_deref(), Some(&b"second"[..]), "the later batch wins");
        assert_eq!(commit.applied(), 2);
        let manifest = stored_manifest(&db);
        assert_eq!((manifest.orders, manifest.partners, manifest.generation), (3, 7, 1), "one batch, both updates");
        assert_eq!(ledger.snapshot(), manifest);

        ledger.apply_queued(&db, &tap, &commit).expect("nothing to apply");
        assert_eq!(ledger.snapshot().generation, 1, "an empty queue writes no manifest");
    }

    #[test]
    fn a_direct_apply_comes_after_what_was_staged_before_it() {
        let (_dir, ledger, db, tap, commit) = ledger_and_db();
        ledger.stage(&commit, one(b"head", b"started"), Box::new(|_| {}));
        ledger.apply_now(&db, &tap, &commit, one(b"head", b"succeeded"), None).expect("applied");
        assert_eq!(db.get(b"head").expect("read").as_deref(), Some(&b"succeeded"[..]));
        assert_eq!(commit.applied(), 1, "the staged ticket is applied");
        // Without a manifest update the direct batch leaves the manifest as
        // the queue's apply wrote it.
        assert_eq!(stored_manifest(&db).generation, 1);
        ledger
            .apply_now(&db, &tap, &commit, one(b"x", b"1"), Some(Box::new(|m| m.closed_periods += 1)))
            .expect("applied");
        assert_eq!((stored_manifest(&db).generation, stored_manifest(&db).closed_periods), (2, 1));
    }
}
