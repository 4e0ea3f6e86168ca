//! The tap on every batch the running store applies: what makes a backup
//! taken while writes go on a copy of the store at one moment.
//!
//! sled has no snapshots: a backup reads the keys one after another while
//! batches keep landing, so some keys it read may have changed since. The
//! tap records the keys of every batch applied while a backup copies
//! (the *dirty* keys). At the end the backup closes the gate (no batch is
//! applied while it is closed), reads the dirty keys' current values and
//! writes them after the copy as corrections. A key no batch touched was
//! copied with its value at the gate; a key some batch touched gets that
//! value from its correction. So the file holds the store as it was when
//! the gate closed, a moment that comes after the backup started: every
//! write acknowledged before the backup started is in it.
//!
//! Architecture invariant: every batch of a running store goes through
//! [`Tap::apply`]. Only the creation of a brand-new directory and the
//! upgrade of an old one at open (both before any backup can start) write
//! to sled directly.

use parking_lot::{Mutex, RwLock, RwLockWriteGuard};
use sled::IVec;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The most dirty keys a backup may collect: ~20 bytes a key, so ~100 MB.
/// A backup that sees more writes than that fails (the writes go on) and
/// says so; taking it again at a quieter time succeeds.
pub const MAX_DIRTY_KEYS: usize = 4 << 20;

/// A sled batch that remembers the keys it writes.
///
/// It keeps its writes in order and builds sled's batch only when it is
/// applied, because sled's batch cannot be read back: the tap needs the
/// keys, and [`Batch::append`] the writes. The keys and values are
/// reference-counted, so keeping them costs no copy.
#[derive(Default)]
pub struct Batch {
    /// The writes in order: a value, or `None` for a removal.
    writes: Vec<(IVec, Option<IVec>)>,
}

impl Batch {
    /// Sets `key` to `value` when the batch is applied.
    pub fn insert<K: Into<IVec>, V: Into<IVec>>(&mut self, key: K, value: V) {
        self.writes.push((key.into(), Some(value.into())));
    }

    /// Removes `key` when the batch is applied.
    pub fn remove<K: Into<IVec>>(&mut self, key: K) {
        self.writes.push((key.into(), None));
    }

    /// Appends `later`'s writes: applied as one batch, a key both write
    /// ends with `later`'s value (the last write of a key wins).
    pub fn append(&mut self, mut later: Batch) {
        self.writes.append(&mut later.writes);
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// sled's batch of these writes, in order.
    fn into_sled(self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (key, value) in self.writes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        batch
    }
}

/// Why a backup could not start or finish its copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapError {
    /// Another backup is copying; one runs at a time.
    Busy,
    /// More than [`MAX_DIRTY_KEYS`] keys changed during the copy.
    TooManyWrites,
}

/// The gate and the dirty keys; one per store.
#[derive(Default)]
pub struct Tap {
    /// Batches hold it shared while they apply; a backup's last step holds
    /// it exclusively.
    gate: RwLock<()>,
    /// The dirty keys, while a backup copies (`None` otherwise); `Err`
    /// once there were too many.
    dirty: Mutex<Option<Result<HashSet<IVec>, TapError>>>,
    /// Whether a backup holds the tap.
    busy: AtomicBool,
}

impl Tap {
    /// Applies `batch` to `db`, recording its keys if a backup copies.
    pub fn apply(&self, db: &sled::Db, batch: Batch) -> sled::Result<()> {
        let _open = self.gate.read();
        let mut dirty = self.dirty.lock();
        if let Some(Ok(keys)) = dirty.as_mut() {
            keys.extend(batch.writes.iter().map(|(key, _)| key.clone()));
            if keys.len() > MAX_DIRTY_KEYS {
                *dirty = Some(Err(TapError::TooManyWrites));
            }
        }
        drop(dirty);
        db.apply_batch(batch.into_sled())
    }

    /// Starts recording for a backup; the backup ends with the returned
    /// recording (dropped: recording stops, and another backup may start).
    pub fn record(self: &Arc<Self>) -> Result<Recording, TapError> {
        if self.busy.swap(true, Ordering::AcqRel) {
            return Err(TapError::Busy);
        }
        // Under the gate: a batch that is applying now was started before
        // the recording, so the copy sees it; every later one is recorded.
        let _closed = self.gate.write();
        *self.dirty.lock() = Some(Ok(HashSet::new()));
        Ok(Recording { tap: Arc::clone(self) })
    }
}

/// A backup's hold on the tap.
pub struct Recording {
    tap: Arc<Tap>,
}

impl Recording {
    /// Closes the gate and returns the keys changed since the recording
    /// started: until the returned guard drops, no batch is applied, so
    /// the store holds exactly what the copy plus the keys' current values
    /// give. Keep the gate closed for the shortest time.
    pub fn close(&self) -> Result<(HashSet<IVec>, RwLockWriteGuard<'_, ()>), TapError> {
        let closed = self.tap.gate.write();
        let dirty = self.tap.dirty.lock().replace(Ok(HashSet::new())).unwrap_or(Ok(HashSet::new()))?;
        Ok((dirty, closed))
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        *self.tap.dirty.lock() = None;
        self.tap.busy.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_sees_the_keys_applied_during_it_and_only_those() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = sled::Config::new().path(dir.path()).temporary(true).open().expect("sled");
        let tap = Arc::new(Tap::default());
        let mut before = Batch::default();
        before.insert(&b"a"[..], &b"1"[..]);
        tap.apply(&db, before).expect("applied");
        let recording = tap.record().expect("the first backup");
        assert_eq!(tap.record().err(), Some(TapError::Busy));
        let mut during = Batch::default();
        during.insert(&b"b"[..], &b"2"[..]);
        during.remove(&b"a"[..]);
        tap.apply(&db, during).expect("applied");
        let (dirty, gate) = recording.close().expect("closed");
        let expected: HashSet<IVec> = [IVec::from(&b"a"[..]), IVec::from(&b"b"[..])].into();
        assert_eq!(dirty, expected);
        drop(gate);
        drop(recording);
        assert!(tap.record().is_ok(), "a finished backup lets the next one start");
    }
}
