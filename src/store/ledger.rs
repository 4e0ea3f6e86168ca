//! The ledger: the manifest of everything committed so far, the one place
//! that applies batches that add data, and the writer of the sidecar.
//! Every such batch carries the manifest it leads to, applied under one
//! mutex so manifests reach sled in the order of their generations.

use super::data_dir::Sidecar;
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

/// The committed manifest and the sidecar it feeds.
#[derive(Debug)]
pub struct Ledger {
    current: Mutex<Manifest>,
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
            sidecar,
            last_write: Mutex::new(Instant::now()),
            background: AtomicBool::new(false),
        }
    }

    /// Applies `batch` with the manifest `update` leads to, one generation
    /// later. On an error the manifest stays as it was (the caller fails
    /// the store: nothing is written after a failed batch).
    pub fn commit(
        &self,
        db: &sled::Db,
        tap: &Tap,
        mut batch: Batch,
        update: impl FnOnce(&mut Manifest),
    ) -> Result<(), sled::Error> {
        let mut current = self.current.lock();
        let mut next = *current;
        update(&mut next);
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
