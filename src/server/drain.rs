//! The drain deadline of a shutdown: calls in flight get `--shutdown-grace-ms`
//! to finish; then the guard answers every call still open with
//! UNAVAILABLE and ends streaming answers, so the connections close and the
//! store can be flushed. Without it one idle client stream held a SIGTERM
//! up to the stream timeout (600 s).

use crate::service::guard::GuardLayer;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long the connections may take to close once the open calls were
/// cancelled: writing a few answers and a GOAWAY.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Waits for `serve` (already told to stop accepting) until `grace`, then
/// cancels the open calls and waits [`CLOSE_WAIT`] more. A connection
/// still open after that (a client that never reads its answer) is left
/// behind: the process exits anyway, and an embedding process keeps it
/// until its runtime ends.
pub(super) async fn drain<F>(
    mut serve: Pin<&mut F>,
    grace: Duration,
    guard: &GuardLayer,
) -> Result<(), tonic::transport::Error>
where
    F: Future<Output = Result<(), tonic::transport::Error>>,
{
    if let Ok(served) = tokio::time::timeout(grace, serve.as_mut()).await {
        return served;
    }
    guard.cancel_open_calls();
    let closed = tokio::time::timeout(CLOSE_WAIT, serve.as_mut()).await;
    let cancelled = guard.cancelled_calls();
    match closed {
        Ok(served) => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                cancelled,
                "drain deadline passed: open calls cancelled"
            );
            served
        }
        Err(_) => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                cancelled,
                "drain deadline passed: open calls cancelled, connections still open are left behind"
            );
            Ok(())
        }
    }
}
