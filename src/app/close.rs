//! The close of a period: freeze it in memory through [`App::write`],
//! then write its frozen figures and stage the summary key that commits
//! the close, and answer once that is durable.
//!
//! The one write that does not go through [`App::write`] whole: the frozen
//! figures are megabytes (every partner's volumes) that cannot change any
//! more once the period is frozen, so they are written without holding the
//! network's lock, which real-time writes and reads need meanwhile.
//! Closes are serialised, so a repeated close answers only once the first
//! is durable.

use super::jobs::JobKind;
use super::{App, AppError, AppResult};
use crate::engine::RunResult;
use crate::engine::{EngineError, Period};
use std::sync::Arc;

impl App {
    /// Closes a period and answers its order count once the close is
    /// durable. Runs in a task of its own, so the close goes to its end
    /// even when the caller goes away or the request times out: cut between
    /// the freeze in memory and the durable summary, the period would be
    /// closed in memory but open on disk, and a retry would answer OK at
    /// once.
    pub async fn close_period(self: &Arc<Self>, period: Period) -> AppResult<u64> {
        let app = Arc::clone(self);
        let task = async move { app.close_period_now(period).await };
        tokio::spawn(tracing::Instrument::in_current_span(task)).await?
    }

    /// The close itself. One close at a time: a second close of the same
    /// period waits until the first is durable before it answers.
    async fn close_period_now(self: &Arc<Self>, period: Period) -> AppResult<u64> {
        let _closing = self.closing.lock().await;
        let official = self.official_candidate(period)?;
        let official_id = official.as_ref().map(|(id, _)| id.clone());
        let closed = self
            .write(move |net| {
                let official = official.as_ref().map(|(id, run)| (id.as_str(), run.as_ref()));
                Ok((net.close_period(period, official)?, None))
            })
            .await?;
        if let Some((frozen, official)) = closed {
            let store_app = Arc::clone(self);
            let (count, fees) = self.read(|net| Ok::<_, AppError>(net.closed_totals(period)))?;
            let ticket = tokio::task::spawn_blocking(move || {
                store_app.store.write_frozen(&frozen)?;
                store_app.store.stage_closed(period, count, fees, official.as_deref())
            })
            .await??;
            self.wait_durable(ticket).await?;
            self.network.write().frozen_on_disk(period);
            tracing::info!(%period, orders = count, "period closed");
            if let Some(run_id) = official_id {
                self.official_run_closed(&run_id);
            }
        }
        self.read(|net| Ok(net.closed_totals(period).0))
    }

    /// The run a period would close with: its latest successful run that
    /// is not a dry run. FAILED_PRECONDITION while such a run still
    /// computes.
    fn official_candidate(&self, period: Period) -> AppResult<Option<(String, Arc<RunResult>)>> {
        let kind = JobKind::CommissionRun;
        if let Some(running) = self.jobs.latest(kind, period, |r| !r.dry_run && r.is_running()) {
            return Err(EngineError::precondition(
                "period",
                format!("commission run '{}' of {period} is still running; close when it is done", running.id),
            )
            .into());
        }
        let latest = self.jobs.latest(kind, period, |r| !r.dry_run && r.run_result().is_some());
        Ok(latest.and_then(|r| r.run_result().map(|result| (r.id.clone(), result))))
    }
}
