//! A failed `downline import` ("nothing was imported") leaves no data
//! directory behind that it made itself; a directory that existed before
//! the import is never removed, whatever it holds.

use std::path::{Path, PathBuf};

/// The data directory an import is about to open, and whether the import
/// makes it.
pub struct Created {
    /// `Some` when the directory did not exist before the import.
    made: Option<PathBuf>,
}

impl Created {
    /// Notes, before anything is opened, whether `dir` exists.
    pub fn note(dir: &Path) -> Created {
        let existed = dir.symlink_metadata().is_ok();
        Created { made: (!existed).then(|| dir.to_path_buf()) }
    }

    /// Removes the directory if this import made it (the store must be
    /// closed first); a failure to remove is reported on stderr, not fatal:
    /// the import's own error matters more.
    pub fn remove(&self) {
        let Some(dir) = &self.made else { return };
        if let Err(e) = std::fs::remove_dir_all(dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the data directory of a failed import");
            }
        }
    }
}
