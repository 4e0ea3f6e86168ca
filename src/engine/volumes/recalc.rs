//! The from-scratch recalculation of a period that proves the live volumes
//! and ranks right: a capture of the period from a copy-on-write
//! [`Network::snapshot`] (the only step under the network's lock), then a
//! rollup from the orders alone, compared value by value with the live
//! figures as of the snapshot, with no lock held.
//!
//! The volume comparison runs inside the rollup ([`RollupInput::compute_streaming`]):
//! each depth's partners are compared the moment their task has summed
//! them, so the fresh level profiles of only two depths ever exist. The
//! ranks need every GV first, so they are compared in a second pass.

use super::period_volumes::{LevelTotals, PeriodVolumes};
use super::rollup::{personal_volumes_in, BfsLayout, RollupInput};
use super::snapshot_memory::SnapshotMemory;
use crate::engine::cancel::Cancel;
use crate::engine::compensation::live_ranks::LegSlot;
use crate::engine::compensation::plan::Plan;
use crate::engine::compensation::ranks::{rank_bfs, BfsRanks};
use crate::engine::error::EngineResult;
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::network::Network;
use crate::engine::period::Period;
use parking_lot::Mutex;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A period's live values and the inputs to recompute them, from one
/// snapshot. The live values are the snapshot's own columns of the period
/// (which the job has unshared first, see `Network::unshare_period`), read
/// by arena index: a second copy in breadth-first order would write the
/// period's whole size again in fresh memory (1.5 GB at 10M partners), and
/// on this project's VM fresh pages cost 1.5-2.5 µs each and slow every
/// other thread of the machine while they are faulted in.
pub struct RecalcSnapshot {
    input: RollupInput,
    /// The period's live figures as of the snapshot.
    live: PeriodVolumes,
    /// The plan the live ranks follow.
    ranks_plan: Arc<Plan>,
    /// Terminated partners whose live figures or ranks are not all zero.
    terminated_differences: u64,
}

/// What a recalculation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecalcReport {
    /// Live partners recomputed.
    pub partners: u64,
    /// Values that differed from the live ones (there must be none),
    /// ranks included.
    pub differences: u64,
    /// Of those, paid-as and best-in-subtree rank codes.
    pub rank_differences: u64,
    /// The first difference, described, for the log.
    pub first_difference: Option<String>,
    /// Time spent computing the rollup and comparing its volumes.
    pub rollup: Duration,
    /// Time spent ranking every partner from scratch.
    pub ranks: Duration,
    /// Time spent comparing the ranks with the live ones.
    pub compare: Duration,
}

/// The volume differences found while the rollup runs.
#[derive(Default)]
struct VolumeFindings {
    differences: AtomicU64,
    /// The first position with a difference and its fresh level profile
    /// (gone from the rollup's buffers by the time the report is written).
    first: Mutex<Option<(usize, Vec<LevelTotals>)>>,
}

impl Network {
    /// Captures what a recalculation of `period` needs: O(n), so the app
    /// calls it on a [`Network::snapshot`], never under the lock.
    pub fn recalc_snapshot(&self, period: Period) -> EngineResult<RecalcSnapshot> {
        self.recalc_snapshot_with(period, SnapshotMemory::default())
    }

    /// The partners to reserve a [`SnapshotMemory`] for before a snapshot
    /// of `period`: the arena (terminated partners included, an upper bound
    /// of the live ones) plus room for partners created before the lock is
    /// taken; NOT_FOUND for a period without orders. O(1).
    pub fn recalc_memory_size(&self, period: Period) -> EngineResult<usize> {
        self.period(period)?;
        Ok(self.partners_to_reserve())
    }

    /// [`Network::recalc_snapshot`] in `memory` (reserved beforehand, e.g.
    /// with [`SnapshotMemory::prefaulted`], or kept from an earlier run).
    pub fn recalc_snapshot_with(&self, period: Period, memory: SnapshotMemory) -> EngineResult<RecalcSnapshot> {
        let volumes = self.period(period)?;
        let SnapshotMemory { mut input } = memory;
        personal_volumes_in(&self.genealogy, &self.orders, period, &mut input);
        let (pv, rv) = (std::mem::take(&mut input.pv), std::mem::take(&mut input.rv));
        let input = RollupInput::capture_in(&self.genealogy, &self.plan, &pv, &rv, &mut input);
        let live = volumes.figures();
        let terminated_differences = (0..volumes.pv.len() as u32)
            .filter(|&x| self.genealogy.status_at(x) == PartnerStatus::Terminated)
            .filter(|&x| {
                let i = x as usize;
                let ranked = volumes.ranks.codes()[i] != [0, 0];
                let legs = volumes.ranks.slots_of(x).iter().any(|s| *s != LegSlot::default());
                volumes.pv[i] != 0
                    || volumes.rv[i] != 0
                    || volumes.gv[i] != 0
                    || volumes.active_frontline[i] != 0
                    || ranked
                    || legs
            })
            .count() as u64;
        let ranks_plan = Arc::clone(volumes.ranks.plan());
        Ok(RecalcSnapshot { input, live, ranks_plan, terminated_differences })
    }
}

impl RecalcSnapshot {
    /// The breadth-first layout it captured, to keep for the next capture.
    pub fn layout(&self) -> Arc<BfsLayout> {
        Arc::clone(self.input.layout())
    }

    /// The live partners to recompute.
    pub fn partners(&self) -> usize {
        self.input.partners()
    }

    /// Makes the recalculation stop at its next chunk once `cancel` is set
    /// (see `engine/cancel.rs`); its report is then meaningless.
    pub fn watch(&mut self, cancel: Arc<Cancel>) {
        self.input.watch(cancel);
    }

    /// Recomputes from the orders and compares with the live values, in
    /// parallel; `done` counts partners finished. Needs no lock. Once
    /// cancelled ([`RecalcSnapshot::watch`]) every remaining pass skips its
    /// chunks.
    pub fn run(&self, done: &AtomicU64) -> RecalcReport {
        let started = Instant::now();
        let findings = VolumeFindings::default();
        let (gv, active_frontline) = self.input.compute_streaming(done, &|first, gv, profile, frontline| {
            self.compare_volumes(first, gv, profile, frontline, &findings)
        });
        let rollup = started.elapsed();
        let batch = rank_bfs(&self.input, &gv, &self.ranks_plan);
        let ranks = started.elapsed() - rollup;
        let order = self.input.order();
        let rank_differences_at = |pos: usize| -> u64 {
            let x = order[pos];
            u64::from(self.live.ranks.rank_of(x) != batch.rank[pos])
                + u64::from(self.live.ranks.best_of(x) != batch.best[pos])
        };
        // Cancelled: the comparison covers nobody (the report is dropped).
        let n = if self.input.is_cancelled() { 0 } else { self.input.partners() };
        let (rank_differences, first_rank_pos) = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|pos| {
                let d = rank_differences_at(pos);
                (d, if d > 0 { pos } else { usize::MAX })
            })
            .reduce(|| (0, usize::MAX), |a, b| (a.0 + b.0, a.1.min(b.1)));
        let compare = started.elapsed() - rollup - ranks;
        let volume_first = findings.first.into_inner();
        let first_pos = volume_first.as_ref().map_or(usize::MAX, |(pos, _)| *pos).min(first_rank_pos);
        let first_difference = (first_pos < n)
            .then(|| {
                // Before the first volume difference, fresh and live profiles agree.
                let fresh_profile = match &volume_first {
                    Some((pos, profile)) if *pos == first_pos => profile.as_slice(),
                    _ => self.live_profile(first_pos),
                };
                self.describe(first_pos, gv[first_pos], active_frontline[first_pos], fresh_profile, &batch)
            })
            .or_else(|| (self.terminated_differences > 0).then(|| "a terminated partner has live figures".to_owned()));
        let differences = findings.differences.into_inner() + rank_differences + self.terminated_differences;
        RecalcReport { partners: n as u64, differences, rank_differences, first_difference, rollup, ranks, compare }
    }

    /// Compares the finished partners `first..first + gv.len()` of one
    /// rollup task with the live values.
    fn compare_volumes(
        &self,
        first: usize,
        gv: &[i64],
        profile: &[LevelTotals],
        frontline: &[u32],
        findings: &VolumeFindings,
    ) {
        let levels = self.input.levels();
        let (pv, rv, order, live) = (self.input.pv(), self.input.rv(), self.input.order(), &self.live);
        let mut differences = 0u64;
        let mut first_found = None;
        for (i, &gv_units) in gv.iter().enumerate() {
            let pos = first + i;
            let x = order[pos] as usize;
            let scalars = [
                (live.pv[x], pv[pos]),
                (live.rv[x], rv[pos]),
                (live.gv[x], gv_units),
                (i64::from(live.active_frontline[x]), i64::from(frontline[i])),
            ];
            let fresh = &profile[i * levels..(i + 1) * levels];
            let level_diffs = self.live_profile(pos).iter().zip(fresh).filter(|(a, b)| a != b).count();
            let here = scalars.iter().filter(|(a, b)| a != b).count() + level_diffs;
            if here > 0 {
                differences += here as u64;
                first_found.get_or_insert((pos, fresh.to_vec()));
            }
        }
        if let Some((pos, fresh)) = first_found {
            findings.differences.fetch_add(differences, Ordering::Relaxed);
            let mut first = findings.first.lock();
            if first.as_ref().is_none_or(|(known, _)| pos < *known) {
                *first = Some((pos, fresh));
            }
        }
    }

    /// The live level profile of breadth-first position `pos`.
    fn live_profile(&self, pos: usize) -> &[LevelTotals] {
        self.live.profile.row(self.input.order()[pos] as usize)
    }

    /// One partner's live and recomputed figures, for the log.
    fn describe(&self, pos: usize, gv: i64, frontline: u32, profile: &[LevelTotals], batch: &BfsRanks) -> String {
        let (live, x) = (&self.live, self.input.order()[pos]);
        let i = x as usize;
        format!(
            "partner #{x}: live pv {} rv {} gv {} frontline {} levels {:?} rank {} best {}; \
             recomputed pv {} rv {} gv {} frontline {} levels {:?} rank {} best {}",
            live.pv[i],
            live.rv[i],
            live.gv[i],
            live.active_frontline[i],
            self.live_profile(pos),
            live.ranks.rank_of(x),
            live.ranks.best_of(x),
            self.input.pv()[pos],
            self.input.rv()[pos],
            gv,
            frontline,
            profile,
            batch.rank[pos],
            batch.best[pos],
        )
    }
}

#[cfg(test)]
mod tests {
    //! The comparison must find what it is there to find: live values
    //! tampered with behind the engine's back.
    use super::*;
    use crate::engine::VolumePlan;

    const PERIOD: &str = "2026-11";

    /// 30,000 generated partners: several rayon tasks per wide depth.
    fn network() -> (Network, Period) {
        let mut net = Network::new(Default::default(), VolumePlan::default());
        net.import(&crate::synth::partners(30_000, 7)).unwrap();
        for order in crate::synth::orders(30_000, 7, PERIOD) {
            net.record_order(&order).unwrap();
        }
        (net, Period::parse("period", PERIOD).unwrap())
    }

    fn recalc(net: &Network, period: Period) -> RecalcReport {
        let done = AtomicU64::new(0);
        let report = net.recalc_snapshot(period).unwrap().run(&done);
        assert_eq!(done.into_inner(), report.partners, "progress ends at every partner");
        report
    }

    #[test]
    fn tampered_values_are_counted_and_the_first_is_named() {
        let (mut net, period) = network();
        let clean = recalc(&net, period);
        assert_eq!((clean.partners, clean.differences, clean.first_difference), (30_000, 0, None));

        let levels = net.plan.levels;
        let deep = net.genealogy.lookup("partner_id", "29000").unwrap().as_usize();
        let volumes = net.periods.get_mut(&period).unwrap();
        volumes.profile[deep * levels + 2].partners += 1;
        volumes.active_frontline[deep] += 1;
        let report = recalc(&net, period);
        assert_eq!((report.differences, report.rank_differences), (2, 0));
        let first = report.first_difference.unwrap();
        assert!(first.starts_with(&format!("partner #{deep}: ")), "{first}");

        // A root comes first in breadth-first order, whatever the depth.
        let root = net.genealogy.lookup("partner_id", "1").unwrap().as_usize();
        net.periods.get_mut(&period).unwrap().profile[root * levels].volume_units -= 1;
        let report = recalc(&net, period);
        assert_eq!(report.differences, 3);
        let first = report.first_difference.unwrap();
        assert!(first.starts_with(&format!("partner #{root}: ")), "{first}");
    }

    #[test]
    fn a_cancelled_recalculation_skips_every_chunk_left() {
        let (net, period) = network();
        let mut snapshot = net.recalc_snapshot(period).unwrap();
        let cancel = Arc::new(Cancel::new());
        snapshot.watch(Arc::clone(&cancel));
        cancel.cancel();
        let done = AtomicU64::new(0);
        let report = snapshot.run(&done);
        assert_eq!(done.into_inner(), 0, "no rollup task ran once cancelled");
        assert_eq!((report.rank_differences, report.first_difference), (0, None), "no comparison either");
    }

    #[test]
    fn the_result_does_not_depend_on_the_threads() {
        let (net, period) = network();
        let snapshot = net.recalc_snapshot(period).unwrap();
        let fresh = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| snapshot.input.compute_streaming(&AtomicU64::new(0), &|_, _, _, _| {}))
        };
        let full = snapshot.input.compute_bfs(&AtomicU64::new(0));
        for threads in [1, 3] {
            assert!(fresh(threads) == (full.gv.clone(), full.active_frontline.clone()), "{threads} threads");
        }
    }

    #[test]
    fn a_prefaulted_copy_finds_what_a_fresh_one_finds() {
        let (mut net, period) = network();
        let deep = net.genealogy.lookup("partner_id", "29000").unwrap().as_usize();
        net.periods.get_mut(&period).unwrap().gv[deep] += 1;
        let partners = net.recalc_memory_size(period).unwrap();
        let findings = |memory: Option<SnapshotMemory>| {
            let snapshot = match memory {
                None => net.recalc_snapshot(period),
                Some(memory) => net.recalc_snapshot_with(period, memory),
            };
            let report = snapshot.unwrap().run(&AtomicU64::new(0));
            (report.partners, report.differences, report.rank_differences, report.first_difference)
        };
        let fresh = findings(None);
        assert_eq!((fresh.0, fresh.1), (30_000, 1));
        assert_eq!(findings(Some(SnapshotMemory::prefaulted(partners))), fresh);
        // Too small (partners created between sizing and the lock): it grows.
        assert_eq!(findings(Some(SnapshotMemory::prefaulted(100))), fresh);
    }
}
