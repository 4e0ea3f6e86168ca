//! UpdatePlan, with the re-ranking of the open periods off the lock
//! (issue #16; the engine's side and its proof: `engine/compensation/plan_change.rs`).
//!
//! A change of the rank ladder alone takes four steps: a short write lock
//! validates the draft, takes an inputs snapshot and starts the touch
//! logs; a blocking thread ranks every open period on the snapshot; a
//! second short write lock takes a snapshot and the rows logged so far,
//! which the blocking thread takes in off the lock; then [`App::write`]
//! installs the version and the ranks (taking in the writes made since
//! the second snapshot) and stages the version, so it is durable before
//! the answer and the store's order is the engine's. Any other update (a
//! no-op, rates and caps only, volume settings that re-level the periods)
//! runs whole under the lock as before.
//!
//! Plan changes take turns (`plan_changes`): a second one waits for the
//! first to be installed, then its `base_version` is checked against the
//! version the first made, so a stale one is refused (FAILED_PRECONDITION)
//! exactly as it would have been under the lock.

use super::{App, AppResult};
use crate::engine::{ChangeSet, Plan, PlanDraft};
use std::sync::Arc;
use std::time::Instant;

/// How long a plan change's steps between its begin and its install took,
/// for its log line.
struct OffTheLock {
    /// Ranking every open period.
    rank_ms: u64,
    /// The catch-up's snapshot, under the write lock.
    catch_up_begin_us: u64,
    /// The catch-up, its snapshot included.
    catch_up_ms: u64,
    /// Rows the catch-up re-derived.
    rows: usize,
}

impl App {
    /// Makes `draft` the plan in force (see the module documentation);
    /// answers the plan in force afterwards.
    pub async fn update_plan(self: &Arc<Self>, draft: PlanDraft, base_version: u32) -> AppResult<Arc<Plan>> {
        let _turn = self.plan_changes.lock().await;
        let app = Arc::clone(self);
        let checked = draft.clone();
        let (begun, begin_us) = tokio::task::spawn_blocking(move || {
            let mut network = app.network.write();
            let locked = Instant::now();
            (network.begin_plan_change(&checked, base_version), locked.elapsed().as_micros() as u64)
        })
        .await?;
        let Some(mut change) = begun? else {
            return self.update_plan_locked(draft, base_version).await;
        };
        // On the job threads (`job_pool`), below the request path's priority.
        let app = Arc::clone(self);
        let ranked = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            super::job_pool::install_on_job_threads(|| change.rank());
            let rank_ms = started.elapsed().as_millis() as u64;
            // The writes made while it ranked are taken in on a second
            // snapshot, off the lock, so the installation takes in only
            // those made since (see `Network::begin_catch_up`).
            let locked = Instant::now();
            app.network.write().begin_catch_up(&mut change);
            let catch_up_begin_us = locked.elapsed().as_micros() as u64;
            let rows = super::job_pool::install_on_job_threads(|| change.catch_up());
            let catch_up_ms = locked.elapsed().as_millis() as u64;
            (change, OffTheLock { rank_ms, catch_up_begin_us, catch_up_ms, rows })
        })
        .await;
        let (change, steps) = match ranked {
            Ok(ranked) => ranked,
            Err(failed) => {
                // A panic in the ranking fails this update, never the
                // server; the live ranks are still the old plan's.
                let app = Arc::clone(self);
                tokio::task::spawn_blocking(move || app.network.write().abandon_plan_change()).await?;
                return Err(failed.into());
            }
        };
        self.write(move |net| {
            let locked = Instant::now();
            let install = net.install_plan_change(change)?;
            let install_us = locked.elapsed().as_micros() as u64;
            tracing::info!(
                version = install.plan.version,
                begin_us,
                rank_ms = steps.rank_ms,
                catch_up_begin_us = steps.catch_up_begin_us,
                catch_up_ms = steps.catch_up_ms,
                rows_caught_up = steps.rows,
                install_us,
                rows_rederived = install.rows_rederived,
                periods_ranked_locked = install.periods_ranked_locked,
                "plan updated; re-ranked off the lock"
            );
            let change = ChangeSet { plan: Some(Arc::clone(&install.plan)), ..ChangeSet::default() };
            Ok((install, Some(change)))
        })
        .await
        // The replaced ranks are freed here, with no lock held.
        .map(|install| install.plan)
    }

    /// An update that needs no re-ranking, or that re-levels: whole under
    /// the write lock.
    async fn update_plan_locked(self: &Arc<Self>, draft: PlanDraft, base_version: u32) -> AppResult<Arc<Plan>> {
        self.write(move |net| {
            let changed = net.update_plan(&draft, base_version)?;
            if let Some(plan) = &changed {
                tracing::info!(version = plan.version, "plan updated");
            }
            let change = changed.map(|plan| ChangeSet { plan: Some(plan), ..ChangeSet::default() });
            Ok((Arc::clone(net.current_plan()), change))
        })
        .await
    }
}
