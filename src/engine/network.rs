//! The network: the genealogy, the order book and the live volumes of every
//! period, changed together. Every genealogy write goes through here so the
//! open periods' volumes follow it at once.
//!
//! This file holds the struct, its construction and the open periods; each
//! room adds its own `impl Network` part: `genealogy/network_genealogy.rs`
//! (the genealogy writes), `volumes/network_volumes.rs` and
//! `volumes/network_closing.rs` (orders, volume queries, closing),
//! `compensation/network_plan.rs` (plan versions) and
//! `team/network_team.rs` (team writes).

use super::cow_column::ColumnBytes;
use super::error::{EngineError, EngineResult};
use super::period::Period;
use crate::engine::compensation::plan::Plan;
use crate::engine::genealogy::forest::Genealogy;
use crate::engine::team::layout::TeamLayout;
use crate::engine::team::network_team::Team;
use crate::engine::volumes::closed_period::ClosedPeriod;
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
#[derive(Clone)]
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
    /// and completion tells it what changed (`team/progress.rs`).
    pub(super) team_layout: TeamLayout,
}

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
}

impl Network {
    /// A copy of the whole network for background work (a recalculation,
    /// a commission run, a re-ranking, a layout rebuild) that then runs
    /// with no lock held; every `&Network` function runs on it unchanged.
    ///
    /// O(columns × chunks): every O(n) part of the network is a
    /// [`CowColumn`](super::cow_column::CowColumn), a
    /// [`CowMap`](super::cow_map::CowMap), an append-only id index or an
    /// `Arc`, so the copy shares their chunks; the live network's next
    /// write to a shared chunk copies that chunk alone.
    ///
    /// **Architecture invariant:** a snapshot never changes, whatever the
    /// live network does after it (and the live network never waits for
    /// what a snapshot is used for).
    pub fn snapshot(&self) -> Network {
        self.clone()
    }

    /// A snapshot for jobs that recompute the volumes from the orders (a
    /// commission run, a re-ranking): like [`Network::snapshot`], but every
    /// period is [hollow](PeriodVolumes::hollow) except `live`, if given.
    ///
    /// Why: while a snapshot shares the GV, level profile and live rank
    /// chunks, every order's upline walk copies the shared chunks it
    /// touches under the write lock, and within a few hundred orders that
    /// is the whole of those columns (bench-log, "After the copy-on-write
    /// snapshots": writes waited 2.6 s at 10M). Without them an order
    /// copies at most one chunk of PV and RV, once per snapshot.
    pub fn inputs_snapshot(&self, live: Option<Period>) -> Network {
        let periods = self.periods.iter().map(|(&period, volumes)| {
            let keep = live == Some(period);
            (period, if keep { volumes.clone() } else { volumes.hollow() })
        });
        Network { periods: periods.collect(), ..self.shallow_parts() }
    }

    /// Gives this snapshot private copies of `period`'s columns, in
    /// parallel, so the live network's writes stop copying them (see
    /// [`CowColumn::unshare`](super::cow_column::CowColumn::unshare)): a
    /// job that must compare with the live figures as of its snapshot
    /// calls it first, and pays the copy itself, off the lock.
    pub fn unshare_period(&mut self, period: Period) {
        if let Some(volumes) = self.periods.get_mut(&period) {
            volumes.unshare();
        }
    }

    /// Everything but the open periods, shared (O(chunks)).
    fn shallow_parts(&self) -> Network {
        Network {
            genealogy: self.genealogy.clone(),
            orders: self.orders.clone(),
            plan: self.plan,
            plans: self.plans.clone(),
            changes: self.changes,
            periods: BTreeMap::new(),
            closed: self.closed.clone(),
            team: self.team.clone(),
            team_layout: self.team_layout.clone(),
        }
    }

    /// Bytes the network holds alone and shares with its snapshots (the
    /// columns and maps; plans, closed periods and the small tables are
    /// left out). An untouched snapshot's `owned_bytes` is what it costs.
    pub fn bytes(&self) -> ColumnBytes {
        let periods = self.periods.values().map(PeriodVolumes::bytes);
        let team = self.team.mentors.bytes() + self.team.training.bytes() + self.team_layout.bytes();
        periods.fold(self.genealogy.bytes() + self.orders.bytes() + team, |a, b| a + b)
    }
}
