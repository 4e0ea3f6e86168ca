//! Backups of a running store and their restore into a new directory.
//!
//! A backup ([`Store::start_backup`]) copies every key of the database in
//! key order while writes go on, then writes the keys changed meanwhile
//! with their values at one moment (see `tap`), then the file's end
//! (`backup_format`). It holds no lock while it copies; writes wait only
//! while the changed keys are read again, under the gate.
//!
//! A restore ([`restore`]) reads the whole file and checks it before it
//! writes anything, writes into a missing or empty directory only, writes
//! the `MANIFEST` sidecar from the backup's manifest, and opens the result
//! the way `downline verify` does. If any step fails, it removes what it
//! created.

use super::backup_format::{Decoder, Encoder, FormatError, Frame, END_FRAME_BYTES};
use super::data_dir::{self, Sidecar};
use super::group_commit::GroupCommit;
use super::manifest::Manifest;
use super::tap::{Recording, TapError};
use super::{keys, open_db, OpenMode, Store, StoreError};
use prost::Message;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

/// What a finished backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSummary {
    /// The manifest of the store at the backup's moment.
    pub manifest: Manifest,
    /// Frames in the file (copied keys plus corrections).
    pub frames: u64,
    /// Keys changed during the copy, written again as corrections.
    pub corrections: u64,
    /// The file's length.
    pub bytes: u64,
    /// The group-commit ticket of the last change in the backup: once it
    /// is durable, so is everything the file holds.
    pub ticket: u64,
}

/// A piece of a backup file.
pub struct BackupPiece {
    /// The bytes, to append to the file.
    pub bytes: Vec<u8>,
    /// Set on the last piece.
    pub last: Option<BackupSummary>,
}

/// A backup in progress: [`BackupCopy::next_piece`] until the last piece.
pub struct BackupCopy {
    recording: Recording,
    db: sled::Db,
    commit: Arc<GroupCommit>,
    keys: Option<sled::Iter>,
    encoder: Encoder,
}

impl Store {
    /// Starts a backup; RESOURCE_EXHAUSTED-like [`StoreError::BackupBusy`]
    /// while another one runs.
    pub fn start_backup(&self) -> Result<BackupCopy, StoreError> {
        let recording = self.tap.record().map_err(tap_error)?;
        // Started after the recording: every key a batch changes from now
        // on is recorded, whether the iteration saw it before or after.
        let keys = Some(self.db.iter());
        Ok(BackupCopy {
            recording,
            db: self.db.clone(),
            commit: Arc::clone(&self.commit),
            keys,
            encoder: Encoder::default(),
        })
    }

    /// The database's size on disk, an estimate of a backup's length.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

impl BackupCopy {
    /// The next piece of the file, of about `piece_bytes` (the last one may
    /// be shorter); blocking. `None` after the last piece.
    pub fn next_piece(&mut self, piece_bytes: usize) -> Result<Option<BackupPiece>, StoreError> {
        let Some(keys) = self.keys.as_mut() else {
            return Ok(None);
        };
        for entry in keys.by_ref() {
            let (key, value) = entry?;
            self.encoder.set(&key, &value);
            if self.encoder.pending_bytes() >= piece_bytes {
                return Ok(Some(BackupPiece { bytes: self.encoder.take(), last: None }));
            }
        }
        self.keys = None;
        let summary = self.correct()?;
        Ok(Some(BackupPiece { bytes: self.encoder.finish(), last: Some(summary) }))
    }

    /// Writes the keys changed during the copy with their values now, under
    /// the closed gate: the file becomes the store at this moment.
    fn correct(&mut self) -> Result<BackupSummary, StoreError> {
        let (dirty, gate) = self.recording.close().map_err(tap_error)?;
        let mut dirty: Vec<_> = dirty.into_iter().collect();
        dirty.sort_unstable();
        for key in &dirty {
            match self.db.get(key)? {
                Some(value) => self.encoder.set(key, &value),
                None => self.encoder.remove(key),
            }
        }
        let manifest = read_manifest(&self.db)?;
        let ticket = self.commit.last_ticket();
        drop(gate);
        Ok(BackupSummary {
            manifest,
            frames: self.encoder.frames(),
            corrections: dirty.len() as u64,
            bytes: self.encoder.written_bytes() + self.encoder.pending_bytes() as u64 + END_FRAME_BYTES,
            ticket,
        })
    }
}

fn tap_error(err: TapError) -> StoreError {
    match err {
        TapError::Busy => StoreError::BackupBusy,
        TapError::TooManyWrites => StoreError::BackupAborted(format!(
            "more than {} keys changed while the backup copied; take it again when fewer writes arrive",
            super::tap::MAX_DIRTY_KEYS
        )),
    }
}

fn read_manifest(db: &sled::Db) -> Result<Manifest, StoreError> {
    let raw = db.get(keys::META_MANIFEST)?.ok_or_else(|| StoreError::Corrupt("it has no manifest".into()))?;
    Manifest::decode(raw.as_ref()).map_err(|e| StoreError::Corrupt(format!("the manifest does not decode: {e}")))
}

/// Why a restore failed; nothing is left in the directory.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The backup file is not one this build can restore.
    #[error("the file {file} {error}")]
    File {
        /// The file.
        file: String,
        /// What is wrong with it.
        error: FormatError,
    },
    /// The data directory cannot receive the restore.
    #[error("{0}")]
    Directory(String),
    /// Writing or checking the restored directory failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The two passes of a restore, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePhase {
    /// Reading the whole file and checking it; nothing is written yet.
    Checking,
    /// Writing the keys into the directory.
    Writing,
}

/// What a restore wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreSummary {
    /// The restored store's manifest.
    pub manifest: Manifest,
    /// Frames applied.
    pub frames: u64,
}

/// The most bytes of keys and values in one batch of a restore.
const RESTORE_BATCH_BYTES: usize = 16 << 20;

/// Restores the backup `file` into `dir`, which must be missing or empty;
/// `progress` hears of each pass and of the bytes read in it.
pub fn restore(
    dir: &Path,
    file: &Path,
    progress: &mut dyn FnMut(RestorePhase, u64),
) -> Result<RestoreSummary, RestoreError> {
    let new =
        data_dir::is_new(dir).map_err(|e| RestoreError::Directory(format!("{} cannot be read: {e}", dir.display())))?;
    if !new {
        return Err(RestoreError::Directory(format!(
            "the data directory {} is not empty: a restore writes only into a new or empty directory",
            dir.display()
        )));
    }
    let frames = check_file(file, &mut |bytes| progress(RestorePhase::Checking, bytes))?;
    let existed = dir.exists();
    let written = write_dir(dir, file, &mut |bytes| progress(RestorePhase::Writing, bytes));
    match written {
        Ok(manifest) => Ok(RestoreSummary { manifest, frames }),
        Err(err) => {
            remove_created(dir, existed);
            Err(err)
        }
    }
}

/// Reads the whole file through its checksum; returns its frame count.
fn check_file(file: &Path, progress: &mut dyn FnMut(u64)) -> Result<u64, RestoreError> {
    let mut decoder = decoder(file)?;
    let mut frames = 0u64;
    let mut format_found = false;
    while let Some(frame) = decoder.next_frame().map_err(|e| file_error(file, e))? {
        if let Frame::Set(key, value) = &frame {
            format_found |= key.as_slice() == keys::META_FORMAT && value.as_slice() == keys::FORMAT;
        }
        frames += 1;
        if frames % 4096 == 0 {
            progress(decoder.read_bytes());
        }
    }
    progress(decoder.read_bytes());
    if !format_found {
        let error = FormatError::Damaged("it holds no downline store of this format".into());
        return Err(file_error(file, error));
    }
    Ok(frames)
}

/// Writes the checked file into `dir`, then its sidecar, then opens it as
/// `downline verify` does.
fn write_dir(dir: &Path, file: &Path, progress: &mut dyn FnMut(u64)) -> Result<Manifest, RestoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| RestoreError::Directory(format!("cannot create {}: {e}", dir.display())))?;
    let db = open_db(dir)?;
    let mut decoder = decoder(file)?;
    let (mut batch, mut batch_bytes) = (sled::Batch::default(), 0usize);
    while let Some(frame) = decoder.next_frame().map_err(|e| file_error(file, e))? {
        match frame {
            Frame::Set(key, value) => {
                batch_bytes += key.len() + value.len();
                batch.insert(key, value);
            }
            Frame::Remove(key) => {
                batch_bytes += key.len();
                batch.remove(key);
            }
        }
        if batch_bytes >= RESTORE_BATCH_BYTES {
            db.apply_batch(std::mem::take(&mut batch)).map_err(StoreError::from)?;
            batch_bytes = 0;
            progress(decoder.read_bytes());
        }
    }
    db.apply_batch(batch).map_err(StoreError::from)?;
    db.flush().map_err(StoreError::from)?;
    progress(decoder.read_bytes());
    let manifest = read_manifest(&db)?;
    drop(db);
    Sidecar::new(dir, true)
        .write(&manifest)
        .map_err(|e| RestoreError::Directory(format!("cannot write the MANIFEST file of {}: {e}", dir.display())))?;
    // The same checks as a server's start: what loads matches the manifest.
    let (store, _network) = Store::open_with(dir, OpenMode::Verify)?;
    drop(store);
    Ok(manifest)
}

fn decoder(file: &Path) -> Result<Decoder<BufReader<File>>, RestoreError> {
    let opened = File::open(file).map_err(|e| file_error(file, FormatError::Io(e)))?;
    Decoder::new(BufReader::with_capacity(1 << 20, opened)).map_err(|e| file_error(file, e))
}

fn file_error(file: &Path, error: FormatError) -> RestoreError {
    RestoreError::File { file: file.display().to_string(), error }
}

/// Removes what a failed restore wrote: the directory if it created it,
/// else what it put in the empty directory it was given.
fn remove_created(dir: &Path, existed: bool) {
    let removed = if existed {
        std::fs::read_dir(dir).and_then(|entries| {
            entries.into_iter().try_for_each(|entry| {
                let path = entry?.path();
                if path.is_dir() {
                    std::fs::remove_dir_all(path)
                } else {
                    std::fs::remove_file(path)
                }
            })
        })
    } else {
        std::fs::remove_dir_all(dir)
    };
    if let Err(err) = removed {
        tracing::warn!(data_dir = %dir.display(), error = %err, "could not remove what a failed restore wrote");
    }
}
