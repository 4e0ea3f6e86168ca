//! A plan change that re-ranks off the network's lock (issue #16).
//!
//! A change of the rank ladder makes every open period's live ranks
//! invalid: they are rebuilt from scratch (~1.9 s a period at 10M, which
//! [`Network::update_plan`] spends under the write lock). Here it takes
//! four steps instead:
//!
//! 1. [`Network::begin_plan_change`], under the write lock, O(chunks):
//!    validates the draft as an update would, takes a
//!    [`Network::inputs_snapshot`] (the genealogy and the periods' PV and
//!    RV, none of the hot columns every order writes along its upline),
//!    and turns on each open period's [`TouchLog`].
//! 2. [`PlanChange::rank`], with no lock: per period, the rollup's GV on
//!    the job's own buffers, then [`LiveRanks::build`] with the new plan.
//! 3. [`Network::begin_catch_up`], under the write lock, O(chunks): a
//!    [`Network::snapshot`] and the rows logged so far (the logs start
//!    again), then [`PlanChange::catch_up`], with no lock: those rows taken
//!    in on that snapshot, as step 4 does on the live network.
//! 4. [`Network::install_plan_change`], under the write lock (inside the
//!    app's write, which stages the new version, so the store's order is
//!    the engine's): the new version and the new ranks, brought up to date
//!    with the writes made since step 3's snapshot by re-deriving the rows
//!    they touched, bottom-up.
//!
//! Why re-deriving the touched rows and their uplines is exact: a
//! partner's rank row (codes and leg slots) depends only on its own PV,
//! status, its recruits and their subtrees. A partner none of whose
//! subtree was touched since the snapshot has the same subtree, the same
//! recruits and the same figures, so the snapshot's row stays right. Every
//! change of a subtree is logged inside it: an order or a status change at
//! the partner itself, a creation at the new partner, a move or a
//! termination at the partner moved and at the anchors its subtree left
//! and joined (an anchor a later move takes out of the subtree leaves its
//! own old anchor logged inside). So the rows that may differ are the
//! logged rows and their current uplines, and re-deriving them deepest
//! first (each from its current recruits: the GV is the live one, the
//! recruits' bests already re-derived or still right) gives exactly the
//! ranks a from-scratch ranking of the live network would. Nothing is
//! applied twice: a row is recomputed, never adjusted. A period whose log
//! overflowed or that was rebuilt whole (bulk orders re-level it), or that
//! opened meanwhile, is ranked from scratch under the lock, and reported.
//!
//! Cost under the lock: O(Σ recruits of the re-derived rows × ranks); the
//! rows are the meanwhile-writes' uplines.
//!
//! Architecture invariant: installed, the ranks equal those of the same
//! writes followed by the plan change under the lock
//! (`tests/engine/background_jobs.rs`).

use super::live_ranks::LiveRanks;
use super::plan::{Plan, PlanDraft};
use crate::engine::cow_column::CowColumn;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::network::Network;
use crate::engine::period::Period;
use crate::engine::volumes::period_volumes::PeriodVolumes;
use crate::engine::volumes::rollup::RollupInput;
use crate::engine::volumes::touched::TouchLog;
use crate::engine::volumes::volume_plan::VolumePlan;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// A plan change whose ranks are computed off the lock (see the module
/// documentation).
pub struct PlanChange {
    /// The new version.
    plan: Arc<Plan>,
    /// The version in force when the change began: it installs only on it.
    base_version: u32,
    /// What the ranks are computed from (an inputs snapshot: every period
    /// hollow), until [`PlanChange::rank`].
    inputs: Option<Network>,
    /// The new ranks of each open period as of the snapshot (or, after
    /// [`PlanChange::catch_up`], as of the catch-up's snapshot).
    ranks: Vec<(Period, LiveRanks)>,
    /// The catch-up's snapshot and the rows each period logged before it,
    /// from [`Network::begin_catch_up`] until [`PlanChange::catch_up`].
    catching_up: Option<(Network, Vec<LoggedRows>)>,
}

/// The rows a period logged before the catch-up's snapshot.
type LoggedRows = (Period, Vec<u32>);

/// What an installation did, for the log.
pub struct PlanInstall {
    /// The version installed.
    pub plan: Arc<Plan>,
    /// Rows re-derived for the writes made since the snapshot.
    pub rows_rederived: usize,
    /// Periods ranked from scratch under the lock (opened meanwhile, or
    /// too many writes to take in row by row).
    pub periods_ranked_locked: usize,
    /// The replaced ranks: dropped by the caller once the lock is released
    /// (freeing their chunks took milliseconds at 1M).
    pub retired: Vec<LiveRanks>,
}

impl Network {
    /// Step 1 (under the write lock): validates `draft` as
    /// [`Network::update_plan`] does and, when the change re-ranks the open
    /// periods and nothing more, starts it: `None` when the update is a
    /// no-op or is cheap or different enough to run under the lock
    /// (rates and caps only; volume settings, which re-level the periods).
    pub fn begin_plan_change(&mut self, draft: &PlanDraft, base_version: u32) -> EngineResult<Option<PlanChange>> {
        let Some(next) = self.validate_update(draft, base_version)? else {
            return Ok(None);
        };
        let current = self.current_plan();
        if next.volume != self.plan || next.ranks == current.ranks || self.periods.is_empty() {
            return Ok(None);
        }
        let base_version = current.version;
        for volumes in self.periods.values_mut() {
            volumes.touched = TouchLog::On(Vec::new());
        }
        let inputs = Some(self.inputs_snapshot(None));
        Ok(Some(PlanChange { plan: Arc::new(next), base_version, inputs, ranks: Vec::new(), catching_up: None }))
    }

    /// Step 3 (under the write lock): installs the new version and its
    /// ranks, taking in the writes made since step 1. FAILED_PRECONDITION
    /// (nothing changed) when another version was installed meanwhile.
    pub fn install_plan_change(&mut self, change: PlanChange) -> EngineResult<PlanInstall> {
        let current = self.current_plan().version;
        if change.inputs.is_some() || change.catching_up.is_some() {
            self.abandon_plan_change();
            return Err(EngineError::Internal("a plan change was installed before it was ranked or caught up".into()));
        }
        if current != change.base_version {
            self.abandon_plan_change();
            return Err(EngineError::precondition(
                "base_version",
                format!("the plan in force is version {current}, not {}: read it again", change.base_version),
            ));
        }
        debug_assert_eq!(change.plan.version, current + 1, "plan versions are consecutive");
        self.plans.push(Arc::clone(&change.plan));
        let mut prepared: HashMap<Period, LiveRanks> = change.ranks.into_iter().collect();
        let mut install =
            PlanInstall { plan: change.plan, rows_rederived: 0, periods_ranked_locked: 0, retired: Vec::new() };
        let periods: Vec<Period> = self.periods.keys().copied().collect();
        for period in periods {
            let volumes = self.periods.get_mut(&period).expect("listed above");
            let log = std::mem::take(&mut volumes.touched);
            match (prepared.remove(&period), log) {
                (Some(mut ranks), TouchLog::On(rows)) => {
                    install.rows_rederived += take_in(&mut ranks, volumes, &self.genealogy, &self.plan, &rows);
                    install.retired.push(std::mem::replace(&mut volumes.ranks, ranks));
                }
                _ => {
                    self.rerank_from_scratch(period);
                    install.periods_ranked_locked += 1;
                }
            }
        }
        Ok(install)
    }

    /// Step 2b (under the write lock, O(chunks)): takes the rows each
    /// period logged since step 1 and a snapshot of the network now, and
    /// starts the logs again. [`PlanChange::catch_up`] then takes those
    /// rows in with no lock held, so that the installation takes in only
    /// the writes made since this step: at 10M partners the ~19,000 rows
    /// that 2 s of ranking at 1,000 orders/s touch held the lock 49 ms.
    /// A period whose log overflowed keeps its mark (it is ranked again at
    /// the installation).
    pub fn begin_catch_up(&mut self, change: &mut PlanChange) {
        let mut logged = Vec::with_capacity(change.ranks.len());
        for (period, _) in &change.ranks {
            let Some(volumes) = self.periods.get_mut(period) else { continue };
            if let TouchLog::On(rows) = &mut volumes.touched {
                logged.push((*period, std::mem::take(rows)));
            }
        }
        change.catching_up = Some((self.snapshot(), logged));
    }

    /// Stops logging for a plan change that will not be installed (its
    /// job failed): the live ranks never stopped being the old plan's.
    pub fn abandon_plan_change(&mut self) {
        for volumes in self.periods.values_mut() {
            volumes.touched = TouchLog::Off;
        }
    }
}

impl PlanChange {
    /// The version this change makes.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// Step 2 (no lock): ranks every open period of the snapshot with the
    /// new plan, then drops the snapshot. O(n) per period, in parallel.
    pub fn rank(&mut self) {
        let Some(inputs) = self.inputs.take() else { return };
        let g = &inputs.genealogy;
        self.ranks = inputs
            .periods
            .values()
            .map(|volumes| {
                let (pv, rv) = (volumes.pv.to_vec(), volumes.rv.to_vec());
                let input = RollupInput::capture(g, &inputs.plan, &pv, &rv);
                let gv = group_volumes(&input, g.len());
                (volumes.period, LiveRanks::build(Arc::clone(&self.plan), g, &input, &gv))
            })
            .collect();
    }
}

impl PlanChange {
    /// Step 2c (no lock): brings the new ranks up to date with the rows
    /// logged before [`Network::begin_catch_up`], on its snapshot (the
    /// exactness argument of the module documentation, with that snapshot
    /// as "now"), then drops the snapshot. Returns the rows re-derived.
    pub fn catch_up(&mut self) -> usize {
        let Some((snapshot, logged)) = self.catching_up.take() else { return 0 };
        let mut rederived = 0;
        for (period, rows) in logged {
            let Some(volumes) = snapshot.periods.get(&period) else { continue };
            if let Some((_, ranks)) = self.ranks.iter_mut().find(|(p, _)| *p == period) {
                rederived += take_in(ranks, volumes, &snapshot.genealogy, &snapshot.plan, &rows);
            }
        }
        rederived
    }
}

/// GV by arena index (terminated partners 0), from the rollup on the job's
/// own buffers, its level profiles dropped as it goes.
fn group_volumes(input: &RollupInput, arena_len: usize) -> CowColumn<i64> {
    let (bfs_gv, _) = input.compute_streaming(&AtomicU64::new(0), &|_, _, _, _| {});
    let mut gv = vec![0i64; arena_len];
    for (&x, &units) in input.order().iter().zip(&bfs_gv) {
        gv[x as usize] = units;
    }
    CowColumn::from_vec(gv)
}

/// Brings `ranks` (as of an earlier snapshot) up to date with the logged
/// rows, reading the figures of `volumes`: each logged row and its current
/// upline re-derived, recruits before sponsors. Returns the rows
/// re-derived.
fn take_in(ranks: &mut LiveRanks, volumes: &PeriodVolumes, g: &Genealogy, plan: &VolumePlan, rows: &[u32]) -> usize {
    ranks.grow(g.len());
    let order = bottom_up(g, rows);
    for &x in &order {
        if g.status_at(x) == PartnerStatus::Terminated {
            ranks.clear(x);
        } else {
            let active = volumes.is_active(g, plan, x);
            ranks.rederive(g, x, &volumes.gv, volumes.pv[x as usize], active);
        }
    }
    order.len()
}

/// `rows` and their uplines, each once, every partner after all of its
/// recruits among them (Kahn's order on the sponsor links). O(result).
fn bottom_up(g: &Genealogy, rows: &[u32]) -> Vec<u32> {
    // Per partner of the closure: its recruits in the closure not yet ordered.
    let mut pending: HashMap<u32, u32> = HashMap::with_capacity(rows.len());
    for &x in rows {
        if pending.contains_key(&x) {
            continue;
        }
        pending.insert(x, 0);
        let mut child = x;
        loop {
            let sponsor = g.sponsor_at(child);
            if sponsor == NONE {
                break;
            }
            let known = pending.contains_key(&sponsor);
            *pending.entry(sponsor).or_insert(0) += 1;
            if known {
                break;
            }
            child = sponsor;
        }
    }
    let mut order: Vec<u32> = pending.iter().filter(|&(_, &n)| n == 0).map(|(&x, _)| x).collect();
    let mut next = 0;
    while next < order.len() {
        let sponsor = g.sponsor_at(order[next]);
        next += 1;
        if let Some(left) = pending.get_mut(&sponsor) {
            *left -= 1;
            if *left == 0 {
                order.push(sponsor);
            }
        }
    }
    debug_assert_eq!(order.len(), pending.len(), "the sponsor links have no cycle");
    order
}
