//! The files of a data directory beside sled's: the `MANIFEST` sidecar, a
//! copy of the database's manifest kept outside sled, and the `IMPORTING`
//! marker of an offline import in progress.
//!
//! sled is log-structured: a truncated or overwritten `db` file is
//! recovered as an earlier consistent state, whose own manifest matches
//! it. Only a copy outside the database can tell that state is older than
//! one already committed, so the sidecar is a lower bound: the database
//! may be ahead of it (flushed after it was written), never behind.

use super::manifest::Manifest;
use parking_lot::Mutex;
use prost::Message;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The sidecar's file name.
pub const SIDECAR: &str = "MANIFEST";
/// The marker of an offline import in progress.
pub const IMPORTING: &str = "IMPORTING";
/// The first bytes of a sidecar file.
const MAGIC: &[u8] = b"downline-manifest-1\n";
/// The largest sidecar file read: a manifest is ~60 bytes.
const MAX_SIDECAR_BYTES: u64 = 4096;

/// Whether `dir` is a brand-new data directory: missing or empty.
pub fn is_new(dir: &Path) -> io::Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// Whether an offline import into `dir` was started and not finished.
pub fn import_interrupted(dir: &Path) -> bool {
    dir.join(IMPORTING).exists()
}

/// Writes the import marker durably, before an import's first batch.
pub fn mark_import(dir: &Path) -> io::Result<()> {
    write_durably(dir, IMPORTING, b"an offline import is writing; a server refuses this directory until it ends\n")
}

/// Removes the import marker durably, after the import's last flush.
pub fn unmark_import(dir: &Path) -> io::Result<()> {
    fs::remove_file(dir.join(IMPORTING))?;
    sync_dir(dir)
}

/// Reads the sidecar: `None` when there is none.
pub fn read_sidecar(dir: &Path) -> Result<Option<Manifest>, String> {
    let path = dir.join(SIDECAR);
    let size = match fs::metadata(&path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("the MANIFEST file cannot be read: {e}")),
    };
    if size > MAX_SIDECAR_BYTES {
        return Err(format!("the MANIFEST file has {size} bytes, more than a manifest"));
    }
    let raw = fs::read(&path).map_err(|e| format!("the MANIFEST file cannot be read: {e}"))?;
    decode(&raw).map(Some).ok_or_else(|| "the MANIFEST file is damaged".to_owned())
}

fn encode(manifest: &Manifest) -> Vec<u8> {
    let mut raw = MAGIC.to_vec();
    raw.extend_from_slice(&manifest.encode_to_vec());
    let digest = Sha256::digest(&raw);
    raw.extend_from_slice(&digest);
    raw
}

fn decode(raw: &[u8]) -> Option<Manifest> {
    let (body, digest) = raw.split_at_checked(raw.len().checked_sub(32)?)?;
    if Sha256::digest(body).as_slice() != digest {
        return None;
    }
    Manifest::decode(body.strip_prefix(MAGIC)?).ok()
}

/// Writes `contents` to `dir/name` atomically and durably: a temp file,
/// fsync, rename, fsync of the directory. The temp name is random: a
/// closing store's last background write may overlap a new store's.
fn write_durably(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    let temp = dir.join(format!("{name}.{:016x}.tmp", rand::random::<u64>()));
    let mut file = File::create(&temp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&temp, dir.join(name))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The writer of one directory's sidecar. Writes never go backwards: the
/// flusher and the shutdown may race, and an older manifest must not
/// replace a newer one.
#[derive(Debug)]
pub struct Sidecar {
    dir: PathBuf,
    /// The generation written last; `None` when this store must not write
    /// (`downline verify` only reads).
    written: Mutex<Option<u64>>,
}

impl Sidecar {
    /// A writer for `dir`'s sidecar; `writable` false makes it a no-op.
    pub fn new(dir: &Path, writable: bool) -> Sidecar {
        Sidecar { dir: dir.to_path_buf(), written: Mutex::new(writable.then_some(0)) }
    }

    /// Writes `durable`, a manifest that is on disk in the database, unless
    /// a newer one was written already.
    pub fn write(&self, durable: &Manifest) -> io::Result<()> {
        let mut written = self.written.lock();
        match *written {
            Some(generation) if generation <= durable.generation => {
                write_durably(&self.dir, SIDECAR, &encode(durable))?;
                *written = Some(durable.generation);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sidecar_reads_back_and_a_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().expect("a temp dir");
        assert_eq!(read_sidecar(dir.path()), Ok(None));
        let manifest = Manifest { partners: 3, generation: 2, ..Manifest::fresh() };
        Sidecar::new(dir.path(), true).write(&manifest).expect("written");
        assert_eq!(read_sidecar(dir.path()), Ok(Some(manifest)));
        let path = dir.path().join(SIDECAR);
        let mut raw = fs::read(&path).expect("the file");
        raw[MAGIC.len()] ^= 1;
        fs::write(&path, raw).expect("damaged");
        assert_eq!(read_sidecar(dir.path()), Err("the MANIFEST file is damaged".into()));
    }

    #[test]
    fn an_older_manifest_never_replaces_a_newer_one() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let sidecar = Sidecar::new(dir.path(), true);
        let newer = Manifest { generation: 5, ..Manifest::fresh() };
        sidecar.write(&newer).expect("written");
        sidecar.write(&Manifest { generation: 4, ..newer }).expect("skipped");
        assert_eq!(read_sidecar(dir.path()), Ok(Some(newer)));
    }
}
