//! The streamed bulk exports (ExportVolumes, ExportStatements): a
//! producer on a blocking thread reads the export's batches (`app::export`)
//! and sends messages into a channel of one; tonic sends them as the client
//! reads. So at most about two messages wait in memory whatever the
//! client's pace, and a client that goes away (the receiver dropped) stops
//! the producer at its next message.

use super::compensation_convert::rank_name;
use super::compensation_runs::run_statement_to_proto;
use super::convert::volumes_to_proto;
use super::status::from_app;
use super::App;
use crate::app::export::{StatementExport, VolumeExport};
use crate::app::AppResult;
use crate::proto::v1 as pb;
use prost::Message;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

/// Rows of one message at most: a few thousand, as issue #17 asks.
pub const CHUNK_ROWS: usize = 4096;
/// Encoded bytes after which a message is sent with fewer rows: keeps every
/// message far below the 4 MiB clients accept by default, whatever the
/// plan's levels.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The answer of an export.
pub type ExportStream<M> = ReceiverStream<Result<M, Status>>;

/// Streams `produce`'s rows in messages made by `wrap`; see the module doc.
pub(super) fn stream_rows<R, M>(
    mut produce: impl FnMut() -> AppResult<Option<Vec<R>>> + Send + 'static,
    wrap: fn(Vec<R>) -> M,
) -> ExportStream<M>
where
    R: Message + Send + 'static,
    M: Send + 'static,
{
    let (tx, rx) = mpsc::channel(1);
    tokio::task::spawn_blocking(move || {
        let (mut rows, mut bytes) = (Vec::new(), 0usize);
        while !tx.is_closed() {
            match produce() {
                Ok(Some(batch)) => {
                    for row in batch {
                        bytes = bytes.saturating_add(row.encoded_len());
                        rows.push(row);
                        if rows.len() >= CHUNK_ROWS || bytes >= CHUNK_BYTES {
                            bytes = 0;
                            if tx.blocking_send(Ok(wrap(std::mem::take(&mut rows)))).is_err() {
                                return;
                            }
                        }
                    }
                }
                Ok(None) => {
                    if !rows.is_empty() {
                        let _ = tx.blocking_send(Ok(wrap(rows)));
                    }
                    return;
                }
                Err(err) => {
                    let _ = tx.blocking_send(Err(from_app(err)));
                    return;
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// The stream of a volume export.
pub fn volumes(app: &Arc<App>, mut export: VolumeExport, period: String) -> ExportStream<pb::ExportVolumesResponse> {
    let app = Arc::clone(app);
    let produce = move || {
        let Some(batch) = export.next_batch(&app)? else {
            return Ok(None);
        };
        let rows = batch
            .rows
            .iter()
            .map(|row| pb::ExportedVolumes {
                volumes: Some(volumes_to_proto(&row.partner_id, &period, &batch.volume_plan, &row.view)),
                paid_as_rank: rank_name(&batch.rank_plan, row.rank_code),
            })
            .collect();
        Ok(Some(rows))
    };
    stream_rows(produce, |partners| pb::ExportVolumesResponse { partners })
}

/// The stream of a statement export.
pub fn statements(app: &Arc<App>, mut export: StatementExport) -> ExportStream<pb::ExportStatementsResponse> {
    let app = Arc::clone(app);
    let produce = move || {
        let Some(batch) = export.next_batch(&app)? else {
            return Ok(None);
        };
        let rows = batch.iter().map(|(partner_id, s)| run_statement_to_proto(partner_id, s)).collect();
        Ok(Some(rows))
    };
    stream_rows(produce, |statements| pb::ExportStatementsResponse { statements })
}
