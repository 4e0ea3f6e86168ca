//! Opening a data directory: refuse an interrupted import, open sled and
//! load the network under the panic guard, then check what was loaded
//! against the database's manifest and the database's manifest against the
//! sidecar. Any difference refuses the directory with a message that names
//! it and what differs: a server never starts on less than was committed.

use super::data_dir::{self, Sidecar};
use super::group_commit::GroupCommit;
use super::ledger::Ledger;
use super::manifest::Manifest;
use super::panic_guard::guarded;
use super::{closed, compensation, keys, load, orders, team, Store, StoreError};
use crate::engine::{Network, VolumePlan};
use prost::Message;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// What the directory is opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// A server: refuses a directory with an interrupted import.
    Serve,
    /// An offline import: accepts an interrupted import, to complete it.
    Import,
    /// `downline verify`: checks only; writes no manifest and no sidecar,
    /// and refuses a directory that holds nothing.
    Verify,
}

/// A loaded network and the figures found while loading it.
struct Loaded {
    db: sled::Db,
    network: Network,
    stored: Option<Manifest>,
    found: Manifest,
    token_key: [u8; 16],
}

impl Store {
    /// Opens (or creates) the data directory for a server and rebuilds the
    /// network: the genealogy, the order book and every period's volumes.
    pub fn open(path: &Path) -> Result<(Store, Network), StoreError> {
        Store::open_with(path, OpenMode::Serve)
    }

    /// Opens the data directory for `mode`, checking it (module docs).
    pub fn open_with(path: &Path, mode: OpenMode) -> Result<(Store, Network), StoreError> {
        let damaged = |what: String| StoreError::data_dir(path, format!("damaged: {what}"));
        if mode != OpenMode::Import && data_dir::import_interrupted(path) {
            let dir = path.display();
            return Err(StoreError::DataDir(format!(
                "an import into {dir} was interrupted: rerun `downline import` or delete {dir}"
            )));
        }
        let new = data_dir::is_new(path).map_err(|e| StoreError::data_dir(path, format!("unreadable: {e}")))?;
        if new && mode == OpenMode::Verify {
            return Err(StoreError::DataDir(format!("the data directory {} is missing or empty", path.display())));
        }
        let sidecar = data_dir::read_sidecar(path).map_err(damaged)?;
        let loaded = guarded(path, || load_all(path, new)).map_err(|e| match e {
            StoreError::Corrupt(what) => damaged(what),
            StoreError::Sled(sled::Error::Io(io)) if super::is_lock_error(&io) => {
                StoreError::data_dir(path, "held by another server (or process): stop it, or use another --data-dir")
            }
            StoreError::Sled(sled::Error::Io(io)) => StoreError::data_dir(path, format!("not usable: {io}")),
            StoreError::Sled(other) => StoreError::data_dir(path, format!("corrupt: {other}")),
            other => other,
        })?;
        let manifest = check(&loaded, sidecar.as_ref()).map_err(damaged)?;
        if loaded.stored.is_none() && mode != OpenMode::Verify {
            // A directory of the previous version: checked as far as it can
            // be, it gets its manifest now.
            loaded.db.insert(keys::META_MANIFEST, manifest.encode_to_vec())?;
            loaded.db.flush()?;
            tracing::info!(data_dir = %path.display(), "wrote the manifest of a directory of the previous version");
        }
        let sidecar = Sidecar::new(path, mode != OpenMode::Verify);
        sidecar.write(&manifest).map_err(|e| StoreError::data_dir(path, format!("not writable: {e}")))?;
        let Loaded { db, network, found, token_key, .. } = loaded;
        let store = Store {
            next_event_seq: AtomicU64::new(found.next_event_seq),
            next_order_block: AtomicU64::new(found.order_blocks + 1),
            db,
            commit: GroupCommit::new(),
            ledger: Arc::new(Ledger::new(manifest, sidecar)),
            token_key,
            tap: Default::default(),
        };
        Ok((store, network))
    }
}

/// Opens sled and loads everything, counting what it finds.
fn load_all(path: &Path, new: bool) -> Result<Loaded, StoreError> {
    let db = super::open_db(path)?;
    let stored = load::check_format(&db, new)?;
    let token_key = load::token_key(&db)?;
    let mut network = Network::new(load::genealogy(&db)?, VolumePlan::default());
    team::load(&db, &mut network)?;
    let order_blocks = orders::load(&db, &mut network)?;
    let plans = compensation::load_plans(&db, &mut network)?;
    network.restore_change_count(super::runs::change_count(&db)?);
    let closed_periods = closed::load(&db, &mut network)?;
    network.rebuild_periods().map_err(|e| StoreError::Corrupt(e.to_string()))?;
    network.rebuild_team_layout();
    let next_block = orders::next_block_seq(&db)?;
    if next_block != order_blocks + 1 {
        return Err(StoreError::Corrupt(format!(
            "{order_blocks} order blocks, the last one numbered {}",
            next_block - 1
        )));
    }
    let found = Manifest {
        partners: network.genealogy.len() as u64,
        orders: network.orders.len() as u64,
        order_blocks,
        next_event_seq: load::next_event_seq(&db)?,
        plans,
        closed_periods,
        modules: network.team.training.modules().len() as u64,
        ..stored.unwrap_or_default()
    };
    Ok(Loaded { db, network, stored, found, token_key })
}

/// The manifest the store goes on from, if everything agrees.
fn check(loaded: &Loaded, sidecar: Option<&Manifest>) -> Result<Manifest, String> {
    let Some(stored) = loaded.stored else {
        if let Some(sidecar) = sidecar {
            return Err(format!("the database has no manifest, the MANIFEST file says {}", sidecar.describe()));
        }
        return Ok(Manifest { instance: Manifest::fresh().instance, ..loaded.found });
    };
    stored.check_found(&loaded.found)?;
    match sidecar {
        Some(sidecar) => stored.check_not_behind(sidecar)?,
        // Written when the directory was created, right after its first
        // batch: only a directory with nothing committed may lack it.
        None if stored.generation > 0 => {
            return Err(format!("the MANIFEST file is missing; the database holds {}", stored.describe()))
        }
        None => {}
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NewPartner;

    /// A directory with two partners, as the previous version left it: no
    /// manifest key, no sidecar.
    fn legacy_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temp dir");
        {
            let (store, mut network) = Store::open(dir.path()).expect("a new directory");
            let rows = [
                NewPartner::parse("a", "", "2026-01-01", "").expect("a row"),
                NewPartner::parse("b", "a", "2026-01-02", "").expect("a row"),
            ];
            let created = network.import(&rows).expect("imported").created;
            let audit = crate::engine::Audit { actor: "t".into(), reason: "t".into(), at_unix_ms: 0 };
            store.write_import(&network.genealogy, created, &audit, |_| true).expect("written");
        }
        let db = super::super::open_db(dir.path()).expect("sled");
        db.remove(keys::META_MANIFEST).expect("removed");
        db.flush().expect("flushed");
        drop(db);
        std::fs::remove_file(dir.path().join(data_dir::SIDECAR)).expect("no sidecar");
        dir
    }

    #[test]
    fn a_directory_of_the_previous_version_opens_and_gets_its_manifest() {
        let dir = legacy_dir();
        let verified = Store::open_with(dir.path(), OpenMode::Verify).expect("verify accepts it");
        assert_eq!(verified.0.manifest().partners, 2);
        drop(verified);
        let (store, network) = Store::open(dir.path()).expect("a legacy directory opens");
        assert_eq!((network.genealogy.len(), store.manifest().partners), (2, 2));
        drop((store, network));
        let again = data_dir::read_sidecar(dir.path()).expect("readable").expect("written at the first open");
        assert_eq!((again.partners, again.next_event_seq), (2, 3));
        let (store, _) = Store::open(dir.path()).expect("it opens again, now with its manifest");
        assert_eq!(store.manifest(), again);
    }

    #[test]
    fn a_database_without_manifest_beside_a_sidecar_is_refused() {
        let dir = legacy_dir();
        Sidecar::new(dir.path(), true).write(&Manifest { partners: 2, ..Manifest::fresh() }).expect("a sidecar");
        let refused = Store::open(dir.path()).err().expect("refused").to_string();
        let expected = format!("the data directory {} is damaged: the database has no manifest", dir.path().display());
        assert!(refused.starts_with(&expected), "{refused}");
    }
}
