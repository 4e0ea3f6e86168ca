//! Group commit: writers stage their changes in the ledger's queue, take a
//! ticket, and wait until one flush covers it. One flusher task applies
//! the queue to sled and flushes, back to back, so N concurrent writers
//! share one sled batch and one `fsync` instead of paying N. After a
//! flush, at most every `ledger::SIDECAR_INTERVAL`, it also has the
//! manifest that flush made durable written to the sidecar, beside it.

use super::ledger::Ledger;
use super::tap::Tap;
use crate::metrics::histogram::{AtomicHistogram, GROUP_BOUNDS};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// The state shared by writers and the flusher.
#[derive(Debug)]
pub struct GroupCommit {
    /// Tickets handed out: the number of staged changes.
    staged: AtomicU64,
    /// The highest ticket whose batch, and every earlier one, is in sled.
    applied: AtomicU64,
    /// The highest ticket known durable.
    durable: watch::Sender<u64>,
    /// Wakes the flusher when a change is staged.
    wake: Notify,
    /// Set for good when a flush failed: nothing after it is acknowledged.
    failed: AtomicBool,
    /// Makes the next flush fail as a full disk would (tests only).
    fail_next: AtomicBool,
    /// Each flush's latency (`downline_store_flush_duration_seconds`).
    pub flush_seconds: AtomicHistogram,
    /// Writes each flush made durable (`downline_store_flush_group_writes`).
    pub group_writes: AtomicHistogram,
}

/// Why a ticket is not durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the store failed to flush to disk; the server refuses further writes")]
pub struct FlushFailed;

impl GroupCommit {
    /// A group commit with nothing staged yet.
    pub fn new() -> Arc<GroupCommit> {
        Arc::new(GroupCommit {
            staged: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            durable: watch::channel(0).0,
            wake: Notify::new(),
            failed: AtomicBool::new(false),
            fail_next: AtomicBool::new(false),
            flush_seconds: AtomicHistogram::latency(),
            group_writes: AtomicHistogram::new(GROUP_BOUNDS, 1.0),
        })
    }

    /// Hands out the next ticket. The ledger calls it under its queue's
    /// lock, so tickets follow the queue's order.
    pub(super) fn reserve(&self) -> u64 {
        self.staged.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The highest ticket whose batch, and every earlier one, is in sled.
    pub(super) fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Wakes the flusher: something was staged.
    pub(super) fn wake_flusher(&self) {
        self.wake.notify_one();
    }

    /// Records that every ticket up to `ticket` is in sled (a flush that
    /// starts later covers it).
    pub(super) fn set_applied(&self, ticket: u64) {
        debug_assert!(ticket <= self.staged.load(Ordering::Acquire), "applied a ticket never handed out");
        self.applied.fetch_max(ticket, Ordering::AcqRel);
    }

    /// The newest ticket handed out.
    pub fn last_ticket(&self) -> u64 {
        self.staged.load(Ordering::Acquire)
    }

    /// Waits until `ticket` is durable.
    pub async fn wait(&self, ticket: u64) -> Result<(), FlushFailed> {
        let mut durable = self.durable.subscribe();
        let reached = durable
            .wait_for(|&done| done >= ticket || self.failed.load(Ordering::Acquire))
            .await
            .map(|done| *done >= ticket);
        match reached {
            Ok(true) => Ok(()),
            _ => Err(FlushFailed),
        }
    }

    /// Whether a flush ever failed.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Marks the store failed and wakes every waiter with the error (and
    /// every [`GroupCommit::wait_failed`]).
    pub fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        self.durable.send_modify(|_| {});
    }

    /// Returns once the store has failed: the server then reports every
    /// service NOT_SERVING at that moment, not at the next request.
    pub async fn wait_failed(&self) {
        let mut durable = self.durable.subscribe();
        // The sender lives in `self`, so the channel cannot close meanwhile.
        let _ = durable.wait_for(|_| self.failed.load(Ordering::Acquire)).await;
    }

    /// The failure-injection seam of the tests: the next flush fails as if
    /// the disk were full, without touching the disk. A test cannot mount a
    /// small tmpfs, and the fail-stop path must be tested through the API.
    #[doc(hidden)]
    pub fn fail_next_flush(&self) {
        self.fail_next.store(true, Ordering::Release);
    }

    /// One flush, or the injected failure.
    fn flush(&self, db: &sled::Db) -> sled::Result<usize> {
        if self.fail_next.swap(false, Ordering::AcqRel) {
            return Err(sled::Error::Io(std::io::Error::other("injected flush failure (a test's full disk)")));
        }
        db.flush()
    }

    /// Runs flushes for as long as the store lives (the task is aborted at
    /// shutdown, after a last flush of its own). Returns after a failed flush.
    pub async fn run_flusher(self: Arc<Self>, db: sled::Db, ledger: Arc<Ledger>, tap: Arc<Tap>) {
        loop {
            if self.staged.load(Ordering::Acquire) > *self.durable.borrow() {
                let (db, commit, ledger_now, tap) =
                    (db.clone(), Arc::clone(&self), Arc::clone(&ledger), Arc::clone(&tap));
                let result = tokio::task::spawn_blocking(move || {
                    // Everything staged so far reaches sled first, as one batch.
                    ledger_now.apply_queued(&db, &tap, &commit)?;
                    // Taken before the flush, so the flush covers them.
                    let target = commit.applied();
                    let covered = ledger_now.snapshot();
                    let started = std::time::Instant::now();
                    let flushed = commit.flush(&db);
                    commit.flush_seconds.observe_duration(started.elapsed());
                    flushed.map(|_| (target, covered))
                })
                .await;
                match result {
                    Ok(Ok((target, covered))) => {
                        let before = *self.durable.borrow();
                        self.group_writes.observe(target.saturating_sub(before));
                        self.durable.send_modify(|done| *done = (*done).max(target));
                        if ledger.claim_background() {
                            write_sidecar(&ledger, covered);
                        }
                    }
                    Ok(Err(err)) => {
                        tracing::error!(error = %err, "applying or flushing the staged writes failed; refusing further writes");
                        self.fail();
                        return;
                    }
                    Err(join) => {
                        tracing::error!(error = %join, "flush task died; refusing further writes");
                        self.fail();
                        return;
                    }
                }
                continue;
            }
            // A ticket taken since the load above left a permit: no lost wake-up.
            self.wake.notified().await;
        }
    }
}

/// Writes the sidecar on a blocking thread, without holding up the next
/// flush (its two fsyncs take as long as several flushes). A failure only
/// leaves the older lower bound in place: the data is durable, so it is
/// logged, not fatal.
fn write_sidecar(ledger: &Arc<Ledger>, covered: super::manifest::Manifest) {
    let ledger = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || {
        if let Err(err) = ledger.write_sidecar(&covered) {
            tracing::warn!(error = %err, "cannot write the MANIFEST file");
        }
        ledger.end_background();
    });
}
