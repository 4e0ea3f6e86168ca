//! The registry of commission runs of this server's life. A run computes on
//! a rayon thread while GetCommissionRun polls it: a concurrent map of
//! shared entries, so neither waits for the other.
//!
//! Runs of open periods live in memory only (a restart forgets them; the
//! work is repeatable). The run a period closes with is kept on disk as
//! its official run (see `store::compensation`).

use crate::engine::commission_run::{RunProgress, RunResult};
use crate::engine::Period;
use dashmap::DashMap;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Runs allowed to compute at once: each holds a copy of a period.
pub const MAX_RUNNING: usize = 2;
/// Finished runs whose statements are kept; older ones are forgotten
/// (about 90 bytes per partner each). The latest run of each period that
/// is not a dry run is kept beyond this, until its period closes.
pub const MAX_KEPT_RUNS: usize = 6;

/// How a run ended, or that it has not yet.
pub enum Outcome {
    /// Still computing.
    Running,
    /// Done.
    Succeeded(Arc<RunResult>),
    /// Failed, with the reason.
    Failed(String),
}

/// One run.
pub struct RunEntry {
    /// Its id.
    pub id: String,
    /// Its period.
    pub period: Period,
    /// Whether it is a preview.
    pub dry_run: bool,
    /// Start order (a larger number started later).
    pub seq: u64,
    /// Its progress.
    pub progress: RunProgress,
    /// Partners in the run (set once the snapshot is taken).
    pub partners_total: AtomicU64,
    outcome: Mutex<Outcome>,
}

impl RunEntry {
    /// Ends the run.
    pub fn finish(&self, outcome: Outcome) {
        *self.outcome.lock() = outcome;
    }

    /// The result, once it succeeded.
    pub fn result(&self) -> Option<Arc<RunResult>> {
        match &*self.outcome.lock() {
            Outcome::Succeeded(result) => Some(Arc::clone(result)),
            _ => None,
        }
    }

    /// The failure, if it failed.
    pub fn failure(&self) -> Option<String> {
        match &*self.outcome.lock() {
            Outcome::Failed(reason) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Whether it is still computing.
    pub fn is_running(&self) -> bool {
        matches!(&*self.outcome.lock(), Outcome::Running)
    }
}

/// Every run of this server's life.
pub struct Runs {
    by_id: DashMap<String, Arc<RunEntry>>,
    next: AtomicU64,
    /// Distinguishes this server's run ids from those of earlier lives.
    boot: String,
    /// Serialises "count the running ones, then start one".
    starting: Mutex<()>,
}

impl Default for Runs {
    fn default() -> Runs {
        let boot = format!("{:08x}", rand::random::<u32>());
        Runs { by_id: DashMap::new(), next: AtomicU64::new(0), boot, starting: Mutex::new(()) }
    }
}

impl Runs {
    /// Registers a new run, unless [`MAX_RUNNING`] runs compute (`None`).
    pub fn start(&self, period: Period, dry_run: bool) -> Option<Arc<RunEntry>> {
        let _guard = self.starting.lock();
        if self.by_id.iter().filter(|r| r.is_running()).count() >= MAX_RUNNING {
            return None;
        }
        let seq = self.next.fetch_add(1, Ordering::AcqRel) + 1;
        let entry = Arc::new(RunEntry {
            id: format!("{period}-{}-{seq}", self.boot),
            period,
            dry_run,
            seq,
            progress: RunProgress::default(),
            partners_total: AtomicU64::new(0),
            outcome: Mutex::new(Outcome::Running),
        });
        self.by_id.insert(entry.id.clone(), Arc::clone(&entry));
        self.forget_old();
        Some(entry)
    }

    /// The run of an id.
    pub fn get(&self, id: &str) -> Option<Arc<RunEntry>> {
        self.by_id.get(id).map(|r| Arc::clone(r.value()))
    }

    /// The latest run of a period (by start), among those `keep` accepts.
    pub fn latest(&self, period: Period, keep: impl Fn(&RunEntry) -> bool) -> Option<Arc<RunEntry>> {
        let runs = self.by_id.iter().filter(|r| r.period == period && keep(r));
        runs.max_by_key(|r| r.seq).map(|r| Arc::clone(r.value()))
    }

    /// Forgets the oldest finished runs beyond [`MAX_KEPT_RUNS`], sparing
    /// each period's latest run that is not a dry run (a close needs it).
    fn forget_old(&self) {
        let mut finished: Vec<(u64, String, Period, bool)> =
            self.by_id.iter().filter(|r| !r.is_running()).map(|r| (r.seq, r.id.clone(), r.period, r.dry_run)).collect();
        if finished.len() <= MAX_KEPT_RUNS {
            return;
        }
        finished.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
        let mut spared_periods = Vec::new();
        let mut kept = 0;
        for (_, id, period, dry_run) in finished {
            let latest_real = !dry_run && !spared_periods.contains(&period);
            if latest_real {
                spared_periods.push(period);
            }
            if latest_real || kept < MAX_KEPT_RUNS {
                kept += 1;
                continue;
            }
            self.by_id.remove(&id);
        }
    }
}
