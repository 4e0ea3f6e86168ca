//! The team layout rebuilt off the network's lock (issue #16).
//!
//! A stale layout ([`TeamLayout::is_stale`]) used to be rebuilt by the
//! write that found it stale, under the write lock (0.33-0.46 s at 10M).
//! In background mode (the server's: [`Network::set_background_layout_rebuilds`])
//! that write only marks the rebuild *due* and goes on as before: the
//! stale layout still answers exactly (its relinked and loose partners
//! are read live), only slower. Then:
//!
//! 1. [`Network::take_team_layout_job`], under the write lock the same
//!    write still holds: O(chunks) copies of the genealogy and the
//!    training (columns that only structural writes and completions
//!    touch, never an order);
//! 2. [`LayoutJob::build`], with no lock: [`TeamLayout::build`] on them;
//! 3. [`Network::install_team_layout`], under a short write lock: the new
//!    layout, told again what every write told the old one since the
//!    rebuild was due (the relinked and refreshed partners are logged from
//!    then on), then in step with the live network.
//!
//! Why replaying the log is exact: a layout built at the snapshot and told
//! of every later change is the layout the same writes would leave after a
//! locked rebuild at the snapshot, and its answers equal a layout built
//! afresh (the layout's invariant, `layout.rs`). The log starts when the
//! rebuild becomes due, before the snapshot, so it may hold changes the
//! snapshot already has: telling them again is harmless (relinking a
//! partner only makes its recruits read live; refreshing copies the live
//! value), so nothing is lost and nothing can count twice.
//!
//! Architecture invariant: installed, the layout answers as one rebuilt
//! under the lock after the same writes
//! (`tests/engine/background_jobs.rs`).

use super::layout::TeamLayout;
use super::training::Training;
use crate::engine::genealogy::forest::Genealogy;
use crate::engine::network::Network;

/// Where the background rebuild of the team layout stands.
#[derive(Clone, Default)]
pub(in crate::engine) struct LayoutRebuild {
    /// Stale layouts are rebuilt off the lock (by the app) rather than by
    /// the write that finds them stale.
    background: bool,
    /// From the moment a rebuild is due: what the layout was told since.
    log: Option<HeardLog>,
    /// Whether the job took its snapshot (and has yet to install).
    running: bool,
}

/// The partners the layout was told about while a rebuild was due.
#[derive(Clone, Default)]
struct HeardLog {
    relinked: Vec<u32>,
    refreshed: Vec<u32>,
}

/// The snapshot a layout rebuild works on, off the lock.
pub struct LayoutJob {
    genealogy: Genealogy,
    training: Training,
    changes: u64,
}

impl LayoutJob {
    /// Step 2 (no lock): lays the snapshot out. O(n).
    pub fn build(&self) -> TeamLayout {
        TeamLayout::build(&self.genealogy, self.changes, &self.training)
    }

    /// Partners in the snapshot (for the log).
    pub fn partners(&self) -> usize {
        self.genealogy.len()
    }
}

impl Network {
    /// Whether a stale team layout is rebuilt off the lock (`true`: by the
    /// app, through [`Network::take_team_layout_job`]) or by the write that
    /// finds it stale (`false`, the default: start-up, imports, tests).
    pub fn set_background_layout_rebuilds(&mut self, on: bool) {
        self.layout_rebuild.background = on;
    }

    /// Whether the next write should start a background rebuild.
    pub fn team_layout_rebuild_due(&self) -> bool {
        self.layout_rebuild.log.is_some() && !self.layout_rebuild.running
    }

    /// Makes a rebuild due now, as a stale layout would (background mode
    /// only: tests and tools that want one without 4,096 changes).
    pub fn request_team_layout_rebuild(&mut self) {
        if self.layout_rebuild.background && self.layout_rebuild.log.is_none() {
            self.layout_rebuild.log = Some(HeardLog::default());
        }
    }

    /// Step 1 (under the write lock): when a rebuild is due and not yet
    /// running, its snapshot. O(chunks).
    pub fn take_team_layout_job(&mut self) -> Option<LayoutJob> {
        if !self.team_layout_rebuild_due() {
            return None;
        }
        self.layout_rebuild.running = true;
        Some(LayoutJob {
            genealogy: self.genealogy.clone(),
            training: self.team.training.clone(),
            changes: self.changes,
        })
    }

    /// Step 3 (under the write lock): installs a layout built by the
    /// running job, told every change logged since the rebuild was due;
    /// returns how many changes it was told and the layout it replaced, for
    /// the caller to drop once the lock is released (freeing it is O(n)).
    /// A layout no job is running for (it was abandoned) is handed back
    /// unused, with 0.
    pub fn install_team_layout(&mut self, mut layout: TeamLayout) -> (usize, TeamLayout) {
        let rebuild = &mut self.layout_rebuild;
        let Some(log) = rebuild.log.take().filter(|_| rebuild.running) else {
            return (0, layout);
        };
        rebuild.running = false;
        let (g, training) = (&self.genealogy, &self.team.training);
        for &x in &log.relinked {
            layout.relink(x);
        }
        for &x in &log.refreshed {
            layout.refresh(g, training, x);
        }
        layout.sync(g, self.changes, training);
        let retired = std::mem::replace(&mut self.team_layout, layout);
        (log.relinked.len() + log.refreshed.len(), retired)
    }

    /// Forgets a background rebuild whose job failed: the next write that
    /// finds the layout stale makes it due again.
    pub fn abandon_team_layout_rebuild(&mut self) {
        self.layout_rebuild.log = None;
        self.layout_rebuild.running = false;
    }

    /// What [`Network::team_layout_heard`] does in background mode: the
    /// change goes to the current layout as always, and to the log while a
    /// rebuild is due; a stale layout makes one due. `false` in the locked
    /// mode (the caller rebuilds inline).
    pub(in crate::engine) fn layout_heard_in_background(&mut self, relinked: &[u32], refreshed: &[u32]) -> bool {
        let rebuild = &mut self.layout_rebuild;
        if !rebuild.background {
            return false;
        }
        if rebuild.log.is_none() && self.team_layout.is_stale(&self.genealogy) {
            rebuild.log = Some(HeardLog::default());
        }
        if let Some(log) = &mut rebuild.log {
            log.relinked.extend_from_slice(relinked);
            log.refreshed.extend_from_slice(refreshed);
        }
        true
    }
}
