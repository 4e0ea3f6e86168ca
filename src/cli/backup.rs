//! `downline backup` and `downline restore`.
//!
//! `backup` streams BackupStore from a running server into `FILE.partial`,
//! checks the whole file (format, frame count, SHA-256), and only then
//! renames it to `FILE`: a `FILE` that exists is a complete backup.
//! `restore` writes a backup into a new data directory no server holds
//! (`store::backup::restore`: checked first, nothing left on failure).

use super::export::{failed, Auth};
use crate::proto::v1 as pb;
use crate::store::backup::{restore as restore_file, RestorePhase};
use crate::store::backup_format::Decoder;
use indicatif::{ProgressBar, ProgressStyle};
use pb::operations_service_client::OperationsServiceClient;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The largest message accepted: the server sends 1 MiB pieces.
const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Arguments of `downline backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The server, e.g. http://127.0.0.1:50051.
    #[arg(long, env = "DOWNLINE_SERVER")]
    pub server: String,
    /// An admin API key (none for a server in open development mode).
    #[arg(long, env = "DOWNLINE_TOKEN")]
    pub token: Option<String>,
    /// The backup file to write; refused if it exists.
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `downline restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The data directory to create: missing or empty, and no server may hold it.
    #[arg(long, env = "DOWNLINE_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The backup file `downline backup` wrote.
    pub file: PathBuf,
}

/// Takes a backup; a message on failure (and no `--out` file).
pub fn backup(args: BackupArgs) -> Result<(), String> {
    if args.out.exists() {
        return Err(format!("--out {}: the file exists; a backup never overwrites one", args.out.display()));
    }
    let partial = partial_path(&args.out);
    let result = super::runtime()?.block_on(download(&args, &partial)).and_then(|summary| {
        check(&partial)?;
        std::fs::rename(&partial, &args.out).map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
        Ok(summary)
    });
    match result {
        Ok(summary) => super::stdout::line(format_args!(
            "backed up {} partners (generation {}, {} keys, {} corrected during the copy, {} bytes) to {}",
            summary.partners,
            summary.generation,
            summary.frames,
            summary.corrections,
            summary.total_bytes,
            args.out.display()
        )),
        Err(message) => {
            let _ = std::fs::remove_file(&partial);
            Err(message)
        }
    }
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Streams the backup into `path`; the last message's figures.
async fn download(args: &BackupArgs, path: &Path) -> Result<pb::BackupStoreResponse, String> {
    let channel = tonic::transport::Endpoint::from_shared(args.server.clone())
        .map_err(|e| format!("--server {}: {e}", args.server))?
        .connect()
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.server))?;
    let mut client = OperationsServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let request = Auth(args.token.clone()).request(pb::BackupStoreRequest {})?;
    let mut stream = client.backup_store(request).await.map_err(|s| failed("BackupStore", &s))?.into_inner();
    let io = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    let bar = bytes_bar("backup");
    while let Some(message) = stream.message().await.map_err(|s| failed("BackupStore", &s))? {
        bar.set_length(message.estimated_total_bytes.max(bar.position() + message.data.len() as u64));
        out.write_all(&message.data).map_err(io)?;
        bar.inc(message.data.len() as u64);
        if message.last {
            out.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
            bar.finish();
            return Ok(message);
        }
    }
    Err("the server ended the backup before its last piece: the file is incomplete and was removed".into())
}

/// Reads the whole file back through its checksum.
fn check(path: &Path) -> Result<(), String> {
    let refused = |e: crate::store::backup_format::FormatError| format!("the file {} {e}", path.display());
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut decoder = Decoder::new(BufReader::new(file)).map_err(refused)?;
    while decoder.next_frame().map_err(refused)?.is_some() {}
    Ok(())
}

/// Restores a backup into a new data directory.
pub fn restore(args: RestoreArgs) -> Result<(), String> {
    let total = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let bar = bytes_bar("check");
    bar.set_length(total);
    let mut phase = RestorePhase::Checking;
    let mut progress = |now: RestorePhase, bytes: u64| {
        if now != phase {
            phase = now;
            bar.set_message("write");
        }
        bar.set_position(bytes);
    };
    let summary = restore_file(&args.data_dir, &args.file, &mut progress).map_err(|e| e.to_string())?;
    bar.finish();
    super::stdout::line(format_args!(
        "restored {} frames into {}: {}",
        summary.frames,
        args.data_dir.display(),
        summary.manifest.describe()
    ))
}

fn bytes_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let template = "{msg:7} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}
