//! A commission run: every partner's rank and commission of one period,
//! computed from the orders alone on a snapshot, in parallel with rayon,
//! deterministic to the cent whatever the number of threads (every sum is
//! an exact integer sum, so its order does not matter).
//!
//! The snapshot is captured under the network's read lock in O(n); the
//! run itself needs no lock, so real-time queries and writes go on.

use super::commission::{self, PayoutFactor, Statement};
use super::network_plan::Freshness;
use super::plan::Plan;
use super::run_figures::{commissions, position_map, rank_all};
use crate::engine::cancel::Cancel;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::genealogy::forest::NONE;
use crate::engine::network::Network;
use crate::engine::partner_ix::PartnerIx;
use crate::engine::period::Period;
use crate::engine::volumes::orders::OrderKind;
use crate::engine::volumes::period_volumes::LevelTotals;
use crate::engine::volumes::rollup::{personal_volumes_in, BfsLayout, BfsRollup, InputMemory, RollupInput};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// The most partner ids a result lists for the compliance report.
pub const MAX_LISTED_PARTNERS: usize = 100;

/// The phases of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    /// Waiting for a worker.
    Queued = 0,
    /// GV and level volumes from the orders.
    Rollup = 1,
    /// Ranks, deepest partners first.
    Ranks = 2,
    /// Commissions, caps and totals.
    Commissions = 3,
    /// Finished.
    Done = 4,
}

/// A run's progress, shared with whoever polls it.
#[derive(Debug, Default)]
pub struct RunProgress {
    phase: AtomicU8,
    /// Partners finished in the current phase.
    pub done: AtomicU64,
}

impl RunProgress {
    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Queued,
            1 => Phase::Rollup,
            2 => Phase::Ranks,
            3 => Phase::Commissions,
            _ => Phase::Done,
        }
    }

    /// A progress read back from the store: `phase` (a [`Phase`] code;
    /// unknown codes read as done) with `done` partners.
    pub fn restored(phase: u8, done: u64) -> RunProgress {
        RunProgress { phase: AtomicU8::new(phase), done: AtomicU64::new(done) }
    }

    /// Starts `phase`, none of its partners done.
    pub(super) fn enter(&self, phase: Phase) {
        self.done.store(0, Ordering::Release);
        self.phase.store(phase as u8, Ordering::Release);
    }
}

/// Volumes of one period summed by order kind (fees included, terminated
/// partners' orders included: the compliance view of everything sold).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindTotals {
    /// RETAIL orders.
    pub retail_units: i128,
    /// SELF orders.
    pub self_units: i128,
    /// FEE orders.
    pub fee_units: i128,
}

/// What a run starts from, captured under the network's lock.
pub struct RunSnapshot {
    period: Period,
    pub(super) plan: Arc<Plan>,
    freshness: Freshness,
    pub(super) input: RollupInput,
    pub(super) kinds: KindTotals,
    pub(super) arena_len: usize,
}

impl Network {
    /// Captures a run of an open period with orders. A closed period is
    /// FAILED_PRECONDITION (its official run is frozen), a period without
    /// orders NOT_FOUND.
    pub fn commission_snapshot(&self, period: &str) -> EngineResult<RunSnapshot> {
        self.commission_snapshot_with(period, InputMemory::default())
    }

    /// [`Network::commission_snapshot`] in `memory` (reserved beforehand,
    /// e.g. with [`InputMemory::prefaulted`], or kept from an earlier run).
    pub fn commission_snapshot_with(&self, period: &str, memory: InputMemory) -> EngineResult<RunSnapshot> {
        let period = Period::parse("period", period)?;
        if self.is_closed(period) {
            return Err(EngineError::precondition(
                "period",
                format!("period {period} is closed: runs are made on open periods only"),
            ));
        }
        self.period(period)?;
        Ok(self.capture_run(period, Arc::clone(self.current_plan()), memory))
    }

    /// The capture of a run of `period` under `plan`, from the orders and
    /// the genealogy as they are now, with no check of the period (a
    /// simulation, `simulation.rs`, also replays closed periods).
    pub(super) fn capture_run(&self, period: Period, plan: Arc<Plan>, mut memory: InputMemory) -> RunSnapshot {
        personal_volumes_in(&self.genealogy, &self.orders, period, &mut memory);
        let (pv, rv) = (std::mem::take(&mut memory.pv), std::mem::take(&mut memory.rv));
        // Summed by the order scan itself (one scan of the orders fewer).
        let [retail_units, self_units, fee_units] = memory.kind_units;
        let kinds = KindTotals { retail_units, self_units, fee_units };
        debug_assert_eq!(kinds, self.kind_totals(period));
        RunSnapshot {
            period,
            freshness: self.freshness(period),
            input: RollupInput::capture_in(&self.genealogy, &plan.volume, &pv, &rv, &mut memory),
            plan,
            kinds,
            arena_len: self.genealogy.len(),
        }
    }
}

impl Network {
    /// A period's volume by order kind, from every order recorded in it.
    pub fn kind_totals(&self, period: Period) -> KindTotals {
        let mut kinds = KindTotals::default();
        self.orders.for_each_in_period(period, |_, units, kind| match kind {
            OrderKind::Retail => kinds.retail_units += i128::from(units),
            OrderKind::SelfPurchase => kinds.self_units += i128::from(units),
            OrderKind::Fee => kinds.fee_units += i128::from(units),
        });
        kinds
    }

    /// A partner's official figures of a closed period: its frozen
    /// volumes and rank-column entry when they are still in memory,
    /// `Ok(None)` when the store has them. NOT_FOUND when the partner did
    /// not exist when the period closed.
    pub fn official_inputs(
        &self,
        period: Period,
        ix: PartnerIx,
    ) -> EngineResult<Option<(crate::engine::VolumeView, u8)>> {
        let x = ix.get();
        let frozen = self.closed.get(&period).and_then(|c| c.frozen.as_ref());
        match frozen {
            None => Ok(None),
            Some(f) => f
                .view(x)
                .map(|view| Some((view, f.rank_of(x))))
                .ok_or_else(|| crate::engine::volumes::network_volumes::not_in_closed(self.genealogy.id_at(x), period)),
        }
    }
}

/// The totals of a finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTotals {
    /// Live partners in the run.
    pub partners: u64,
    /// `V`: Σ max(PV, 0), volume units.
    pub v_units: i128,
    /// `T`: Σ capped, scaled units.
    pub t_scaled: i128,
    /// The payout-cap factor, when the cap bit.
    pub factor: Option<PayoutFactor>,
    /// Σ payable, cents.
    pub payable_cents: i128,
    /// What the rates would pay unrestricted, minus the payable total, scaled.
    pub breakage_scaled: i128,
    /// Partners per rank code (index 0: no rank).
    pub per_rank: Vec<u64>,
    /// Partners paid a level commission with RV ≤ 0.
    pub levels_without_retail: u64,
    /// The first of them (arena indices, lowest first), at most [`MAX_LISTED_PARTNERS`].
    pub levels_without_retail_listed: Vec<PartnerIx>,
    /// Volume by order kind.
    pub kinds: KindTotals,
}

/// A finished run: every partner's figures by breadth-first position.
pub struct RunResult {
    /// The period.
    pub period: Period,
    /// The plan version used.
    pub plan: Arc<Plan>,
    /// What the figures depended on.
    pub freshness: Freshness,
    pub(super) input: RollupInput,
    /// Arena index → position (NONE when not live at the snapshot).
    pub(super) position: Vec<u32>,
    pub(super) gv: Vec<i64>,
    pub(super) profile: Vec<LevelTotals>,
    pub(super) rank: Vec<u8>,
    pub(super) payable_cents: Vec<i64>,
    /// The totals.
    pub totals: RunTotals,
    /// How long the run took (the snapshot excluded).
    pub duration: std::time::Duration,
}

impl RunSnapshot {
    /// The breadth-first layout it captured, to keep for the next capture.
    pub fn layout(&self) -> Arc<BfsLayout> {
        Arc::clone(self.input.layout())
    }

    /// The live partners the run covers.
    pub fn partners(&self) -> usize {
        self.input.partners()
    }

    /// Makes the run stop at its next chunk once `cancel` is set (see
    /// `engine/cancel.rs`); its result is then meaningless.
    pub fn watch(&mut self, cancel: Arc<Cancel>) {
        self.input.watch(cancel);
    }

    /// Computes the run; `progress` follows its phases. Once cancelled
    /// ([`RunSnapshot::watch`]) every remaining pass skips its chunks.
    pub fn run(self, progress: &RunProgress) -> RunResult {
        let started = std::time::Instant::now();
        let rollup = self.rollup(progress);
        let rank = rank_all(&self.input, &rollup, &self.plan, progress);
        let commissions = commissions(&self.input, &rollup, &self.plan, &rank, self.kinds, progress);
        let position = position_map(self.input.order(), self.arena_len);
        progress.enter(Phase::Done);
        RunResult {
            period: self.period,
            plan: self.plan,
            freshness: self.freshness,
            input: self.input,
            position,
            gv: rollup.gv,
            profile: rollup.profile,
            rank,
            payable_cents: commissions.payable_cents,
            totals: commissions.totals,
            duration: started.elapsed(),
        }
    }

    /// The rollup of the captured inputs (GV and level profiles by
    /// breadth-first position): the expensive part of a run, which the
    /// rest (`run_figures.rs`) only reads.
    pub(super) fn rollup(&self, progress: &RunProgress) -> BfsRollup {
        progress.enter(Phase::Rollup);
        self.input.compute_bfs(&progress.done)
    }
}

/// One partner's figures in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerFigures {
    /// Arena index.
    pub partner: u32,
    /// PV, RV and GV, volume units.
    pub pv_units: i64,
    /// Retail volume.
    pub rv_units: i64,
    /// Group volume.
    pub gv_units: i64,
    /// LV_1..LV_L.
    pub levels: Vec<i64>,
    /// The statement.
    pub statement: Statement,
}

impl RunResult {
    /// Live partners in the run, in breadth-first order.
    pub fn partners(&self) -> usize {
        self.input.partners()
    }

    /// The position of partner `ix`, if it was live at the snapshot.
    pub fn position_of(&self, ix: PartnerIx) -> Option<usize> {
        self.position.get(ix.as_usize()).copied().filter(|&p| p != NONE).map(|p| p as usize)
    }

    /// Arena indices from position `from` on (the listing order).
    pub fn partner_at(&self, pos: usize) -> u32 {
        self.input.order()[pos]
    }

    /// The payable amount at a position, cents.
    pub fn payable_at(&self, pos: usize) -> i64 {
        self.payable_cents[pos]
    }

    /// The paid-as rank code at a position.
    pub fn rank_at(&self, pos: usize) -> u8 {
        self.rank[pos]
    }

    /// Every partner's rank code plus one by arena index, 0 for partners
    /// not in the run: what the store keeps of an official run.
    pub fn ranks_by_partner(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.position.len()];
        for (pos, &x) in self.input.order().iter().enumerate() {
            out[x as usize] = self.rank[pos] + 1;
        }
        out
    }

    /// Whether the partner at a position was active.
    pub fn active_at(&self, pos: usize) -> bool {
        self.input.active()[pos]
    }

    /// A partner's figures and statement at a position.
    pub fn figures_at(&self, pos: usize) -> PartnerFigures {
        let levels = self.plan.volume.levels;
        let lv: Vec<i64> = self.profile[pos * levels..(pos + 1) * levels].iter().map(|l| l.volume_units).collect();
        let rv = self.input.rv()[pos];
        let statement =
            commission::statement(&self.plan, self.rank[pos], self.active_at(pos), rv, &lv, self.totals.factor);
        debug_assert_eq!(statement.payable_cents, self.payable_cents[pos]);
        PartnerFigures {
            partner: self.partner_at(pos),
            pv_units: self.input.pv()[pos],
            rv_units: rv,
            gv_units: self.gv[pos],
            levels: lv,
            statement,
        }
    }
}
