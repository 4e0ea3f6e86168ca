//! The team layout's rebuild off the lock (issue #16; the engine's side
//! and why it is exact: `engine/team/layout_rebuild.rs`).
//!
//! The write that finds the layout stale takes the job's snapshot under
//! the lock it already holds ([`App::write_staged`]); the layout is built
//! on a job thread (`job_pool`, at a lower priority) with no lock held, then installed with a short write lock. A
//! panic in the build abandons the rebuild (the stale layout still answers
//! exactly; the next write that finds it stale starts another), never the
//! server.

use super::App;
use crate::engine::LayoutJob;
use std::sync::Arc;
use std::time::Instant;

impl App {
    /// Runs a layout rebuild on rayon (see the module documentation).
    pub(super) fn spawn_layout_rebuild(self: &Arc<Self>, job: LayoutJob) {
        let app = Arc::clone(self);
        super::job_pool::spawn_on_job_thread(move || {
            let started = Instant::now();
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.build()));
            let build_ms = started.elapsed().as_millis() as u64;
            let Ok(layout) = built else {
                app.network.write().abandon_team_layout_rebuild();
                tracing::error!("the team layout's rebuild panicked; the stale layout still answers");
                return;
            };
            let locked = Instant::now();
            let (replayed, retired) = app.network.write().install_team_layout(layout);
            let install_us = locked.elapsed().as_micros() as u64;
            drop(retired);
            tracing::info!(
                partners = job.partners(),
                build_ms,
                install_us,
                replayed,
                "team layout rebuilt off the lock"
            );
        });
    }
}
