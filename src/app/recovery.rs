//! Start-up: a data directory opened into an [`App`]. The store rebuilds
//! the network from disk (see `store::Store::open`); this runs it on a
//! blocking thread and logs what was recovered.

use super::limits::Limits;
use super::{App, AppResult};
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Opens the store of `data_dir`, recovers the network and builds the
/// application over them. The caller starts the group-commit flusher
/// (`app.store.spawn_flusher()`) once it has everything else it needs to
/// serve, so a start that fails later leaves no flusher behind.
pub async fn open(data_dir: &Path, limits: Limits) -> AppResult<Arc<App>> {
    let started = Instant::now();
    let dir: PathBuf = data_dir.to_path_buf();
    let (store, network) = tokio::task::spawn_blocking(move || Store::open(&dir)).await??;
    tracing::info!(
        partners = network.genealogy.len(),
        orders = network.orders.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        data_dir = %data_dir.display(),
        "genealogy recovered"
    );
    let app = App::new(store, network, limits);
    let restoring = Instant::now();
    let restorer = Arc::clone(&app);
    let runs = tokio::task::spawn_blocking(move || restorer.restore_runs()).await??;
    tracing::info!(runs, elapsed_ms = restoring.elapsed().as_millis() as u64, "commission runs restored");
    Ok(app)
}
