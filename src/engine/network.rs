//! The network: the genealogy, the order book and the live volumes of every
//! period, changed together. Every genealogy write goes through here so the
//! open periods' volumes follow it at once.

use super::change::Audit;
use super::error::{EngineError, EngineResult};
use super::period::Period;
use crate::engine::compensation::commission_run::RunResult;
use crate::engine::compensation::plan::Plan;
use crate::engine::genealogy::bulk::ImportOutcome;
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::genealogy::write::{NewPartner, WriteOutcome};
use crate::engine::team::layout::TeamLayout;
use crate::engine::team::network_team::Team;
use crate::engine::volumes::closed_period::{ClosedPeriod, FrozenPeriod, OfficialRun};
use crate::engine::volumes::orders::OrderBook;
use crate::engine::volumes::period_volumes::PeriodVolumes;
use crate::engine::volumes::volume_plan::VolumePlan;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most open periods: each costs about `(40 + 16 × levels)` bytes per
/// partner for its volumes and `(2 + 16 × ranks)` for its live ranks in
/// memory (closed periods live on disk).
pub const MAX_OPEN_PERIODS: usize = 24;

/// Everything the engine knows about one sales network.
pub struct Network {
    /// The sponsor tree.
    pub genealogy: Genealogy,
    /// Every order ever recorded.
    pub orders: OrderBook,
    /// The volume settings in force: always `plans.last().volume`.
    pub plan: VolumePlan,
    /// Every version of the compensation plan, oldest first (never empty
    /// once built by [`Network::new`]).
    pub(super) plans: Vec<Arc<Plan>>,
    /// Moves and status changes so far: with a period's order count and
    /// the plan version, it tells whether a commission run is still fresh.
    pub(super) changes: u64,
    /// The open periods.
    pub(super) periods: BTreeMap<Period, PeriodVolumes>,
    /// The closed periods.
    pub(super) closed: BTreeMap<Period, ClosedPeriod>,
    /// Mentors, training modules and completions.
    pub team: Team,
    /// The breadth-first copy GetTeamProgress reads; every genealogy write
    /// and completion tells it what changed (`team_progress.rs`).
    pub(super) team_layout: TeamLayout,
}

/// What a close hands to the store: the frozen figures and the official run.
pub type Closing = (Arc<FrozenPeriod>, Option<Arc<OfficialRun>>);

impl Default for Network {
    /// An empty network on the reference plan.
    fn default() -> Network {
        Network::new(Genealogy::new(), VolumePlan::default())
    }
}

impl Network {
    /// A network over a genealogy, with no orders.
    pub fn new(genealogy: Genealogy, plan: VolumePlan) -> Network {
        let mut reference = Plan::reference();
        reference.volume = plan;
        Network {
            genealogy,
            orders: OrderBook::default(),
            plan,
            plans: vec![Arc::new(reference)],
            changes: 0,
            periods: BTreeMap::new(),
            closed: BTreeMap::new(),
            team: Team::default(),
            team_layout: TeamLayout::default(),
        }
    }

    /// Every period with orders, oldest first: (period, closed, orders).
    pub fn periods(&self) -> Vec<(Period, bool, u64)> {
        let open = self.periods.values().map(|v| (v.period, false, v.order_count()));
        let closed = self.closed.iter().map(|(&p, c)| (p, true, c.order_count));
        let mut all: Vec<_> = open.chain(closed).collect();
        all.sort_unstable_by_key(|&(p, _, _)| p);
        all
    }

    /// The live volumes of an open period; NOT_FOUND when it has no orders,
    /// FAILED_PRECONDITION when it is closed.
    pub fn period(&self, period: Period) -> EngineResult<&PeriodVolumes> {
        if self.closed.contains_key(&period) {
            return Err(EngineError::precondition(
                "period",
                format!("period {period} is closed: its volumes are frozen"),
            ));
        }
        self.periods
            .get(&period)
            .ok_or_else(|| EngineError::not_found_what("period", "period with orders", period.to_string()))
    }

    /// Whether a period is closed.
    pub fn is_closed(&self, period: Period) -> bool {
        self.closed.contains_key(&period)
    }

    /// Creates a partner (see [`Genealogy::create_partner`]).
    pub fn create_partner(&mut self, new: &NewPartner, audit: Audit) -> EngineResult<WriteOutcome> {
        let outcome = self.genealogy.create_partner(new, audit)?;
        if outcome.change.is_some() {
            self.attach_new(outcome.partner..outcome.partner + 1);
        }
        Ok(outcome)
    }

    /// Imports partners (see [`Genealogy::import`]).
    pub fn import(&mut self, rows: &[NewPartner]) -> EngineResult<ImportOutcome> {
        let outcome = self.genealogy.import(rows)?;
        self.attach_new(outcome.created.clone());
        Ok(outcome)
    }

    fn attach_new(&mut self, created: std::ops::Range<u32>) {
        let sponsors: Vec<u32> = created.clone().map(|x| self.genealogy.sponsor_of(x)).collect();
        self.team_layout_heard(&sponsors, &[]);
        let (g, plan) = (&self.genealogy, &self.plan);
        for volumes in self.periods.values_mut() {
            volumes.grow(g.len());
            for x in created.clone() {
                let active = volumes.is_active(g, plan, x);
                volumes.rerank(g, plan, x);
                volumes.apply_subtree(g, plan, x, g.sponsor_of(x), active, 1);
            }
        }
    }

    /// Moves a partner (see [`Genealogy::move_partner`]); its group volume
    /// leaves the old upline and joins the new one.
    pub fn move_partner(&mut self, partner_id: &str, new_sponsor_id: &str, audit: Audit) -> EngineResult<WriteOutcome> {
        let old_sponsor = self.genealogy.find(partner_id).map(|x| self.genealogy.sponsor_of(x));
        let mut outcome = self.genealogy.move_partner(partner_id, new_sponsor_id, audit)?;
        self.team.after_genealogy_write(&self.genealogy, &mut outcome);
        if let (Some(_), Some(old)) = (&outcome.change, old_sponsor) {
            self.changes += 1;
            let x = outcome.partner;
            self.team_layout_heard(&[old, self.genealogy.sponsor_of(x)], &[]);
            let (g, plan) = (&self.genealogy, &self.plan);
            for volumes in self.periods.values_mut() {
                let active = volumes.is_active(g, plan, x);
                volumes.apply_subtree(g, plan, x, old, active, -1);
                volumes.apply_subtree(g, plan, x, g.sponsor_of(x), active, 1);
            }
        }
        Ok(outcome)
    }

    /// Sets a partner's status (see [`Genealogy::set_status`]). A change of
    /// activity re-levels its downline for its upline; a termination takes
    /// its own volume out of the open periods and hands its recruits, with
    /// their volume, to its sponsor.
    pub fn set_status(&mut self, partner_id: &str, status: PartnerStatus, audit: Audit) -> EngineResult<WriteOutcome> {
        let before = self.genealogy.find(partner_id).map(|x| {
            let was_active: Vec<bool> =
                self.periods.values().map(|v| v.is_active(&self.genealogy, &self.plan, x)).collect();
            (self.genealogy.sponsor_of(x), was_active)
        });
        let mut outcome = self.genealogy.set_status(partner_id, status, audit)?;
        self.team.after_genealogy_write(&self.genealogy, &mut outcome);
        let (Some(change), Some((sponsor, was_active))) = (&outcome.change, before) else {
            return Ok(outcome);
        };
        self.changes += 1;
        let x = outcome.partner;
        let relinked = if status == PartnerStatus::Terminated { vec![sponsor, x] } else { Vec::new() };
        self.team_layout_heard(&relinked, &[x]);
        let recruits: Vec<u32> = change.touched.iter().copied().filter(|&t| t != x).collect();
        let (g, plan) = (&self.genealogy, &self.plan);
        for (volumes, was) in self.periods.values_mut().zip(was_active) {
            if sponsor == NONE && status != PartnerStatus::Terminated {
                volumes.rerank(g, plan, x);
                continue;
            }
            if status == PartnerStatus::Terminated {
                if sponsor != NONE {
                    volumes.apply_subtree(g, plan, x, sponsor, was, -1);
                    for &c in &recruits {
                        let active = volumes.is_active(g, plan, c);
                        volumes.apply_subtree(g, plan, c, sponsor, active, 1);
                    }
                }
                volumes.clear(x);
                continue;
            }
            let now = volumes.is_active(g, plan, x);
            if now != was {
                volumes.apply_subtree(g, plan, x, sponsor, was, -1);
                volumes.rerank(g, plan, x);
                volumes.apply_subtree(g, plan, x, sponsor, now, 1);
            }
        }
        Ok(outcome)
    }

    /// Opens a period for its first order, within the [`MAX_OPEN_PERIODS`] limit.
    pub(super) fn period_for_order(&mut self, period: Period) -> EngineResult<&mut PeriodVolumes> {
        if !self.periods.contains_key(&period) {
            if self.periods.len() >= MAX_OPEN_PERIODS {
                return Err(EngineError::ResourceExhausted(format!(
                    "period: {period} would be open period number {}; at most {MAX_OPEN_PERIODS} may be open: close old ones",
                    MAX_OPEN_PERIODS + 1
                )));
            }
            let ranks_plan = Arc::clone(self.current_plan());
            let volumes = PeriodVolumes::new(period, &self.plan, ranks_plan, self.genealogy.len());
            self.periods.insert(period, volumes);
            self.relevel_from_scratch(period);
        }
        let volumes = self.periods.get_mut(&period).expect("inserted above");
        Ok(volumes)
    }

    /// Closes a period: it takes no more orders and its figures freeze,
    /// with `official` (the latest run that was not a dry run, with its id)
    /// as the official run. A stale official run is FAILED_PRECONDITION:
    /// its figures would not be the frozen ones. Returns the frozen figures
    /// and the official run for the store, or `None` when the period was
    /// already closed (nothing changes).
    pub fn close_period(
        &mut self,
        period: Period,
        official: Option<(&str, &RunResult)>,
    ) -> EngineResult<Option<Closing>> {
        if self.closed.contains_key(&period) {
            return Ok(None);
        }
        if !self.periods.contains_key(&period) {
            return Err(EngineError::not_found_what("period", "period with orders", period.to_string()));
        }
        if let Some((run_id, run)) = official {
            if run.freshness != self.freshness(period) {
                return Err(EngineError::precondition(
                    "period",
                    format!(
                        "run '{run_id}' of {period} is stale (orders, moves, status changes or the plan changed \
                         since): start a new run, then close"
                    ),
                ));
            }
        }
        let volumes = self.periods.remove(&period).expect("checked above");
        let (order_count, fee_units) = volumes.totals();
        let ranks = official.map(|(_, run)| run.ranks_by_partner()).unwrap_or_default();
        let frozen = Arc::new(FrozenPeriod::freeze(volumes, &self.genealogy, &self.plan, ranks));
        let official = official.map(|(run_id, run)| {
            Arc::new(OfficialRun {
                run_id: run_id.to_owned(),
                plan_version: run.plan.version,
                totals: run.totals.clone(),
                duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
            })
        });
        let closed =
            ClosedPeriod { order_count, fee_units, frozen: Some(Arc::clone(&frozen)), official: official.clone() };
        self.closed.insert(period, closed);
        Ok(Some((frozen, official)))
    }

    /// The closed period whose official run has an id.
    pub fn official_by_id(&self, run_id: &str) -> Option<(Period, &Arc<OfficialRun>)> {
        self.closed.iter().find_map(|(&p, c)| c.official.as_ref().filter(|o| o.run_id == run_id).map(|o| (p, o)))
    }

    /// The official run of a closed period, if it closed with one.
    pub fn official_run(&self, period: Period) -> Option<&Arc<OfficialRun>> {
        self.closed.get(&period).and_then(|c| c.official.as_ref())
    }

    /// Orders and fee total of a closed period ((0, 0) when it is not closed).
    pub fn closed_totals(&self, period: Period) -> (u64, i128) {
        self.closed.get(&period).map_or((0, 0), |c| (c.order_count, c.fee_units))
    }

    /// Forgets the in-memory figures of a closed period once the store has
    /// them on disk.
    pub fn frozen_on_disk(&mut self, period: Period) {
        if let Some(closed) = self.closed.get_mut(&period) {
            closed.frozen = None;
        }
    }

    /// Registers a closed period loaded from the store.
    pub fn add_closed(&mut self, period: Period, order_count: u64, fee_units: i128, official: Option<OfficialRun>) {
        self.periods.remove(&period);
        let official = official.map(Arc::new);
        self.closed.insert(period, ClosedPeriod { order_count, fee_units, frozen: None, official });
    }
}
