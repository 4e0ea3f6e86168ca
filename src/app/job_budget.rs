//! The one memory budget of the background jobs (`--job-memory-mb`): each
//! job reserves its estimated memory before it starts and holds the
//! reservation, an RAII guard, until it ends (success, failure,
//! cancellation, panic). A finished commission run keeps a smaller
//! reservation for its statements until the registry forgets it: the guard
//! lives in the job, so it is released when the last handle to the job is
//! dropped.
//!
//! The estimates are formulas of the network's size, written out in
//! docs/limits.md with the peak memory measured on a 1M network
//! (`examples/job_memory.rs`). They are upper bounds of what a job
//! allocates, its private copy of a period's volumes included (a
//! recalculation unshares the period it compares, `Network::unshare_period`);
//! what the live writes copy while a job's inputs snapshot is alive is at
//! most a chunk of PV and RV per order, left out.

use crate::engine::{Network, Period};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a job needs from the budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobMemory {
    /// Reserved from its start until it ends.
    pub peak_bytes: u64,
    /// Kept after a success while the registry keeps its result (a run's
    /// statements); 0 for a job whose result is small.
    pub kept_bytes: u64,
}

/// The sizes the estimates depend on, read under the network's read lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkSize {
    /// Partners in the arena (terminated ones included: an upper bound of
    /// the live ones, which the jobs lay out).
    pub partners: u64,
    /// Levels of the level profiles.
    pub levels: u64,
    /// Bytes of the volume columns of the period a job copies for itself
    /// (a recalculation's); 0 for a job that copies none.
    pub period_volume_bytes: u64,
}

impl NetworkSize {
    /// The sizes of `net` now, for a job that copies the volumes of
    /// `copied` (if any).
    pub fn of(net: &Network, copied: Option<Period>) -> NetworkSize {
        let volumes = copied.and_then(|period| net.period(period).ok()).map(|volumes| volumes.bytes());
        let period_volume_bytes = volumes.map_or(0, |bytes| (bytes.owned_bytes + bytes.shared_bytes) as u64);
        NetworkSize { partners: net.genealogy.len() as u64, levels: net.plan.levels as u64, period_volume_bytes }
    }

    /// `per_partner` bytes for every partner, saturating (a request never
    /// overflows the arithmetic).
    fn times(&self, per_partner: u64) -> u64 {
        self.partners.saturating_mul(per_partner)
    }

    /// A level profile's bytes per partner (16-byte `LevelTotals`).
    fn profile(&self) -> u64 {
        self.levels.saturating_mul(std::mem::size_of::<crate::engine::LevelTotals>() as u64)
    }
}

/// Bytes per partner of the capture both jobs start with: the order
/// scan's PV/RV sums (16) and PV and RV by partner (16), then the
/// breadth-first layout (order 4, child starts 4, PV 8, RV 8, activity 1)
/// while PV and RV by partner are still alive.
const CAPTURE_PER_PARTNER: u64 = 16 + 25;

/// Bytes per partner of the captured rollup inputs a job keeps.
const INPUT_PER_PARTNER: u64 = 25;

/// A commission run: the capture (on an inputs snapshot: the writes
/// meanwhile copy no volume chunk), then the run (inputs, GV 8, frontline
/// 4, profiles, ranks 2, payables 8, positions 4). It keeps its inputs,
/// positions, GV, profiles, paid-as ranks and payables for its statements.
pub fn commission_run(size: &NetworkSize) -> JobMemory {
    let capture = size.times(CAPTURE_PER_PARTNER);
    let run = size.times(INPUT_PER_PARTNER + 8 + 4 + 2 + 8 + 4).saturating_add(size.times(size.profile()));
    let kept = size.times(INPUT_PER_PARTNER + 4 + 8 + 1 + 8).saturating_add(size.times(size.profile()));
    JobMemory { peak_bytes: capture.max(run), kept_bytes: kept }
}

/// A recalculation: its private copy of the period's volumes (the live
/// values it compares with, read in place by arena index) with the capture
/// beside it, then the streaming rollup (GV 8, frontline 4, two depths'
/// profiles, bounded here by half the partners, ranks 2) beside the inputs
/// and the copy. Its result is a summary: nothing is kept.
pub fn recalculation(size: &NetworkSize) -> JobMemory {
    let capture = size.times(CAPTURE_PER_PARTNER).saturating_add(size.period_volume_bytes);
    let streaming = size.times(8 + 4 + 2).saturating_add(size.times(size.profile()) / 2);
    let run = size.times(INPUT_PER_PARTNER).saturating_add(size.period_volume_bytes).saturating_add(streaming);
    JobMemory { peak_bytes: capture.max(run), kept_bytes: 0 }
}

/// The budget: a limit and what the reservations hold.
#[derive(Debug)]
pub struct MemoryBudget {
    limit_bytes: AtomicU64,
    in_use_bytes: AtomicU64,
}

/// Why a reservation was refused: the figures for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget {
    /// What the job needs.
    pub needed_bytes: u64,
    /// What the reservations hold now.
    pub in_use_bytes: u64,
    /// The budget.
    pub limit_bytes: u64,
}

impl MemoryBudget {
    /// A budget of `limit_bytes`, nothing reserved.
    pub fn new(limit_bytes: u64) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget { limit_bytes: AtomicU64::new(limit_bytes), in_use_bytes: AtomicU64::new(0) })
    }

    /// The budget.
    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes.load(Ordering::Acquire)
    }

    /// Changes the limit (tests size it to a job they measured); what is
    /// reserved stays reserved.
    #[doc(hidden)]
    pub fn set_limit_bytes(&self, bytes: u64) {
        self.limit_bytes.store(bytes, Ordering::Release);
    }

    /// What the reservations hold now.
    pub fn in_use_bytes(&self) -> u64 {
        self.in_use_bytes.load(Ordering::Acquire)
    }

    /// Reserves `bytes`, or refuses when they would take the budget over
    /// its limit. Lock-free: concurrent reservations never overcommit.
    pub fn reserve(self: &Arc<Self>, bytes: u64) -> Result<Reservation, OverBudget> {
        let limit_bytes = self.limit_bytes();
        let grown = self.in_use_bytes.fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_use| {
            in_use.checked_add(bytes).filter(|&total| total <= limit_bytes)
        });
        match grown {
            Ok(_) => Ok(Reservation { budget: Arc::clone(self), bytes }),
            Err(in_use_bytes) => Err(OverBudget { needed_bytes: bytes, in_use_bytes, limit_bytes }),
        }
    }
}

impl MemoryBudget {
    /// Reserves `bytes` even beyond the limit: what a run restored at
    /// start-up held in the server's previous life.
    pub fn reserve_anyway(self: &Arc<Self>, bytes: u64) -> Reservation {
        let _ = self
            .in_use_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_use| Some(in_use.saturating_add(bytes)));
        Reservation { budget: Arc::clone(self), bytes }
    }
}

/// Bytes held from a [`MemoryBudget`], given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    bytes: u64,
}

impl Reservation {
    /// The bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Gives back all but `bytes` (no-op when it holds no more than that).
    pub fn shrink_to(&mut self, bytes: u64) {
        if bytes < self.bytes {
            self.budget.in_use_bytes.fetch_sub(self.bytes - bytes, Ordering::AcqRel);
            self.bytes = bytes;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.in_use_bytes.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Bytes for a message: KiB below a MiB, else MiB or GiB with one decimal.
pub fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b => format!("{} KiB", b.div_ceil(1024)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_never_overcommit_and_give_back_what_they_hold() {
        let budget = MemoryBudget::new(100);
        let mut first = budget.reserve(60).expect("room");
        let refused = budget.reserve(41).expect_err("over the limit");
        assert_eq!(refused, OverBudget { needed_bytes: 41, in_use_bytes: 60, limit_bytes: 100 });
        first.shrink_to(20);
        assert_eq!(budget.in_use_bytes(), 20, "a kept result holds less than a running job");
        let second = budget.reserve(80).expect("room once shrunk");
        assert!(budget.reserve(u64::MAX).is_err(), "no overflow");
        drop((first, second));
        assert_eq!(budget.in_use_bytes(), 0, "dropped reservations give everything back");
    }

    #[test]
    fn the_estimates_grow_with_the_network_and_a_run_keeps_less_than_it_needs() {
        let size = |partners| NetworkSize { partners, levels: 7, period_volume_bytes: partners * 150 };
        let (small, large) = (commission_run(&size(1000)), commission_run(&size(1_000_000)));
        assert!(large.peak_bytes > 500 * small.peak_bytes);
        assert!(large.kept_bytes < large.peak_bytes && large.kept_bytes > 0);
        let recalc = recalculation(&size(1_000_000));
        assert_eq!(recalc.kept_bytes, 0);
        // The private copy of the period, the inputs and the streaming rollup.
        assert_eq!(recalc.peak_bytes, 1_000_000 * (150 + 25 + 14 + 7 * 16 / 2));
        let huge = NetworkSize { partners: u64::MAX, levels: 7, period_volume_bytes: u64::MAX };
        assert_eq!(commission_run(&huge).peak_bytes, u64::MAX, "saturates, never wraps");
        assert_eq!(human_bytes(1), "1 KiB");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
