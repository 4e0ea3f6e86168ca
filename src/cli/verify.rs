//! `downline verify --data-dir D`: the start-up checks of `serve`, offline
//! and without writing anything: the directory is opened and loaded like a
//! server would, what was loaded is compared with the manifest, and the
//! manifest with the `MANIFEST` sidecar. Prints the counts when they agree.

use crate::store::{OpenMode, Store};
use std::path::PathBuf;

/// Flags of `downline verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The data directory to check (no server may hold it).
    #[arg(long, env = "DOWNLINE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

/// Checks the directory; an error names it and what differs.
pub fn run(args: VerifyArgs) -> Result<(), String> {
    let (store, _network) = Store::open_with(&args.data_dir, OpenMode::Verify).map_err(|e| e.to_string())?;
    super::stdout::line(format_args!(
        "the data directory {} is intact: {}",
        args.data_dir.display(),
        store.manifest().describe()
    ))?;
    Ok(())
}
