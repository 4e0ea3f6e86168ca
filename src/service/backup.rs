//! BackupStore: the pieces of a store backup (`store::backup`) streamed as
//! they are made. Each piece is made on a job thread (`app::job_pool`: a
//! lower priority, so the copy, which keeps a core busy, never delays the
//! request path; measured in BENCHMARKS.md) and sent into a
//! channel of one, so at most about two pieces wait in memory whatever the
//! client's pace; a client that goes away stops the backup at its next
//! piece (its copy is then simply dropped). The last message is sent only
//! once everything the file holds is durable on the server's disk.

use super::status::{backup_panicked, from_store};
use super::App;
use crate::app::job_pool::spawn_on_job_thread;
use crate::proto::v1 as pb;
use crate::store::backup::{BackupCopy, BackupPiece};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

/// The answer of BackupStore.
pub type BackupStream = ReceiverStream<Result<pb::BackupStoreResponse, Status>>;

/// Starts a backup (RESOURCE_EXHAUSTED while another runs) and streams it.
pub fn stream(app: &Arc<App>) -> Result<BackupStream, Status> {
    let copy = app.store.start_backup().map_err(from_store)?;
    let estimated_total_bytes = app.store.size_on_disk();
    tracing::info!(estimated_total_bytes, "backup started");
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(send_pieces(Arc::clone(app), copy, estimated_total_bytes, tx));
    Ok(ReceiverStream::new(rx))
}

async fn send_pieces(
    app: Arc<App>,
    mut copy: BackupCopy,
    estimated_total_bytes: u64,
    tx: mpsc::Sender<Result<pb::BackupStoreResponse, Status>>,
) {
    let piece_bytes = app.limits.backup_piece_bytes.max(1);
    loop {
        let (done, made) = oneshot::channel();
        spawn_on_job_thread(move || {
            // A panic drops `done` (and the copy, which frees the turn).
            let piece = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| copy.next_piece(piece_bytes)));
            if let Ok(piece) = piece {
                let _ = done.send((piece, copy));
            }
        });
        let piece = match made.await {
            Ok((Ok(Some(piece)), rest)) => {
                copy = rest;
                piece
            }
            Ok((Ok(None), _)) => return,
            Ok((Err(err), _)) => return send_error(&tx, from_store(err)).await,
            Err(_) => return send_error(&tx, backup_panicked()).await,
        };
        let last = piece.last.is_some();
        let message = match message(&app, piece, estimated_total_bytes).await {
            Ok(message) => message,
            Err(status) => return send_error(&tx, status).await,
        };
        if tx.send(Ok(message)).await.is_err() {
            tracing::warn!("backup abandoned: the client went away");
            return;
        }
        if last {
            return;
        }
    }
}

/// The message of a piece; the last one waits until the file's contents
/// are durable.
async fn message(app: &App, piece: BackupPiece, estimated_total_bytes: u64) -> Result<pb::BackupStoreResponse, Status> {
    let mut message = pb::BackupStoreResponse { data: piece.bytes, estimated_total_bytes, ..Default::default() };
    if let Some(summary) = piece.last {
        app.store.wait_durable(summary.ticket).await.map_err(from_store)?;
        tracing::info!(
            bytes = summary.bytes,
            frames = summary.frames,
            corrections = summary.corrections,
            generation = summary.manifest.generation,
            "backup finished"
        );
        message.last = true;
        message.generation = summary.manifest.generation;
        message.partners = summary.manifest.partners;
        message.frames = summary.frames;
        message.corrections = summary.corrections;
        message.total_bytes = summary.bytes;
    }
    Ok(message)
}

async fn send_error(tx: &mpsc::Sender<Result<pb::BackupStoreResponse, Status>>, status: Status) {
    let _ = tx.send(Err(status)).await;
}
