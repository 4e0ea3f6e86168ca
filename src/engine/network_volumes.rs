//! Orders and volumes of the network: recording an order (idempotent), the
//! live volume query, opening periods, and the from-scratch recalculation
//! that proves the live values right.

use super::closed_period::VolumeAnswer;
use super::error::{EngineError, EngineResult};
use super::live_ranks::{LegSlot, LiveRanks};
use super::network::Network;
use super::orders::{parse_order_fields, Order, OrderKind, Recorded};
use super::period::Period;
use super::period_volumes::{LevelTotals, PeriodVolumes, VolumeView};
use super::plan::Plan;
use super::ranks::rank_bfs;
use super::rollup::{personal_volumes, Rollup, RollupInput};
use super::status::Status;
use rayon::prelude::*;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request to record one order, as the caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// The idempotency key.
    pub order_id: String,
    /// The partner's id.
    pub partner_id: String,
    /// `YYYY-MM`.
    pub period: String,
    /// A decimal string.
    pub volume: String,
    /// Retail, own purchase or fee.
    pub kind: OrderKind,
}

/// A period's live values and the inputs to recompute them, captured
/// together under the network's lock. Live values are gathered in the
/// rollup's breadth-first order, so the comparison is a sequential scan.
pub struct RecalcSnapshot {
    input: RollupInput,
    live: BfsLive,
    /// The plan the live ranks follow.
    ranks_plan: Arc<Plan>,
    /// Terminated partners whose live figures or ranks are not all zero.
    terminated_differences: u64,
}

/// Live values by breadth-first position.
struct BfsLive {
    pv: Vec<i64>,
    rv: Vec<i64>,
    gv: Vec<i64>,
    profile: Vec<LevelTotals>,
    active_frontline: Vec<u32>,
    rank: Vec<u8>,
    best: Vec<u8>,
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
    /// Time spent computing the rollup.
    pub rollup: Duration,
    /// Time spent ranking every partner from scratch.
    pub ranks: Duration,
    /// Time spent comparing it with the live values.
    pub compare: Duration,
}

impl Network {
    /// Records an order. The same order again answers the stored one and
    /// changes nothing; the same id with other content is ALREADY_EXISTS.
    pub fn record_order(&mut self, request: &OrderRequest) -> EngineResult<(Order, Recorded)> {
        let (order, recorded) = self.admit_order(request)?;
        if let Recorded::New(_) = recorded {
            let (g, plan) = (&self.genealogy, &self.plan);
            let volumes = self.periods.get_mut(&order.period).expect("admit_order opened the period");
            match order.kind {
                OrderKind::Retail => volumes.add_volume(g, plan, order.partner, order.volume_units, order.volume_units),
                OrderKind::SelfPurchase => volumes.add_volume(g, plan, order.partner, order.volume_units, 0),
                OrderKind::Fee => {}
            }
        }
        Ok((order, recorded))
    }

    /// Checks and books an order with every check of [`Network::record_order`]
    /// but without the upkeep of its period's rollups: the bulk path, which
    /// then calls [`Network::relevel`] once per period instead of walking
    /// the upline per order.
    pub fn admit_order(&mut self, request: &OrderRequest) -> EngineResult<(Order, Recorded)> {
        let (period, volume_units) = parse_order_fields(&request.order_id, &request.period, &request.volume)?;
        let partner = self.genealogy.lookup("partner_id", &request.partner_id)?;
        let order = Order { order_id: request.order_id.clone(), partner, period, volume_units, kind: request.kind };
        match self.orders.check(&order) {
            Ok(Some(ix)) => return Ok((order, Recorded::Repeated(ix))),
            Ok(None) => {}
            Err(ix) => {
                let stored = self.orders.get(ix);
                return Err(EngineError::AlreadyExists {
                    field: "order_id".into(),
                    what: "order",
                    id: order.order_id,
                    detail: format!(
                        " with other content (partner '{}', period {}, volume {}, kind {})",
                        self.genealogy.id(stored.partner),
                        stored.period,
                        stored.volume_text(),
                        stored.kind.name()
                    ),
                });
            }
        }
        if self.genealogy.status_of(partner) == Status::Terminated {
            return Err(EngineError::precondition(
                "partner_id",
                format!("partner '{}' is terminated and takes no new orders", request.partner_id),
            ));
        }
        if self.closed.contains_key(&period) {
            return Err(EngineError::precondition("period", format!("period {period} is closed")));
        }
        let magnitude = i128::from(volume_units.unsigned_abs());
        if self.periods.get(&period).is_some_and(|v| v.absolute_units + magnitude > i128::from(i64::MAX)) {
            return Err(EngineError::ResourceExhausted(format!(
                "period: the total volume of {period} would exceed what the engine sums exactly"
            )));
        }
        self.period_for_order(period)?;
        let ix = self.orders.push(&order)?;
        let volumes = self.periods.get_mut(&period).expect("opened above");
        volumes.absolute_units += magnitude;
        volumes.order_count += 1;
        if order.kind == OrderKind::Fee {
            volumes.fee_units += i128::from(volume_units);
        }
        Ok((order, Recorded::New(ix)))
    }

    /// Recomputes a period's rollups from its orders (after bulk
    /// [`Network::admit_order`] calls).
    pub fn relevel(&mut self, period: Period) {
        self.relevel_from_scratch(period);
    }

    /// A partner's volumes in a period: live for an open period; for a
    /// closed one, the figures frozen when it closed (a partner terminated
    /// since still has them; one created since has none: NOT_FOUND).
    pub fn volume_answer(&self, partner_id: &str, period: &str) -> EngineResult<VolumeAnswer> {
        let period = Period::parse("period", period)?;
        if let Some(closed) = self.closed.get(&period) {
            let x = self.genealogy.lookup("partner_id", partner_id)?;
            return match &closed.frozen {
                None => Ok(VolumeAnswer::OnDisk { period, partner: x }),
                Some(frozen) => {
                    frozen.view(x).map(VolumeAnswer::Frozen).ok_or_else(|| not_in_closed(partner_id, period))
                }
            };
        }
        let x = self.genealogy.lookup_live("partner_id", partner_id)?;
        Ok(VolumeAnswer::Live(self.period(period)?.view(&self.genealogy, &self.plan, x)))
    }

    /// A partner's live volumes in an open period (a closed one is
    /// FAILED_PRECONDITION here; see [`Network::volume_answer`]).
    pub fn volumes(&self, partner_id: &str, period: &str) -> EngineResult<VolumeView> {
        let period = Period::parse("period", period)?;
        let x = self.genealogy.lookup_live("partner_id", partner_id)?;
        Ok(self.period(period)?.view(&self.genealogy, &self.plan, x))
    }

    /// Computes a period's volumes and live ranks from scratch and installs
    /// them (for a period's first order, at start-up, after a plan change).
    pub(super) fn relevel_from_scratch(&mut self, period: Period) {
        let (pv, rv) = personal_volumes(&self.genealogy, &self.orders, period);
        let input = RollupInput::capture(&self.genealogy, &self.plan, &pv, &rv);
        let rollup = input.compute(&AtomicU64::new(0));
        let ranks_plan = Arc::clone(self.current_plan());
        if let Some(volumes) = self.periods.get_mut(&period) {
            install(volumes, rollup);
            volumes.ranks = LiveRanks::build(ranks_plan, &self.genealogy, &input, &volumes.gv);
        }
    }

    /// Ranks a period again from its live volumes (after a change of the
    /// plan's ranks that left its volume settings alone).
    pub(super) fn rerank_from_scratch(&mut self, period: Period) {
        let ranks_plan = Arc::clone(self.current_plan());
        if let Some(volumes) = self.periods.get_mut(&period) {
            let input = RollupInput::capture(&self.genealogy, &self.plan, &volumes.pv, &volumes.rv);
            volumes.ranks = LiveRanks::build(ranks_plan, &self.genealogy, &input, &volumes.gv);
        }
    }

    /// Rebuilds every open period from the order book (start-up, after
    /// the closed periods were added with [`Network::add_closed`]).
    pub fn rebuild_periods(&mut self) -> EngineResult<()> {
        let mut periods = self.orders.periods();
        periods.retain(|p| !self.closed.contains_key(p));
        for period in periods {
            let ranks_plan = Arc::clone(self.current_plan());
            let mut volumes = PeriodVolumes::new(period, &self.plan, ranks_plan, self.genealogy.len());
            for ix in self.orders.of_period(period) {
                let order = self.orders.get(ix);
                volumes.absolute_units += i128::from(order.volume_units.unsigned_abs());
                volumes.order_count += 1;
                if order.kind == OrderKind::Fee {
                    volumes.fee_units += i128::from(order.volume_units);
                }
            }
            self.periods.insert(period, volumes);
            self.relevel_from_scratch(period);
        }
        Ok(())
    }

    /// Captures what a recalculation of `period` needs; O(n) under the lock.
    pub fn recalc_snapshot(&self, period: Period) -> EngineResult<RecalcSnapshot> {
        let volumes = self.period(period)?;
        let (pv, rv) = personal_volumes(&self.genealogy, &self.orders, period);
        let input = RollupInput::capture(&self.genealogy, &self.plan, &pv, &rv);
        let live = gather_live(volumes, input.order(), volumes.levels);
        let terminated_differences = (0..volumes.pv.len() as u32)
            .filter(|&x| self.genealogy.status_of(x) == Status::Terminated)
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

/// Copies the live values of the partners in `order`, in that order.
fn gather_live(volumes: &PeriodVolumes, order: &[u32], levels: usize) -> BfsLive {
    let take = |column: &Vec<i64>| order.par_iter().map(|&x| column[x as usize]).collect();
    let mut profile = super::period_volumes::zeroed_totals(order.len() * levels);
    profile.par_chunks_mut(levels.max(1)).zip(order.par_iter()).for_each(|(out, &x)| {
        let x = x as usize;
        out.copy_from_slice(&volumes.profile[x * levels..(x + 1) * levels]);
    });
    BfsLive {
        pv: take(&volumes.pv),
        rv: take(&volumes.rv),
        gv: take(&volumes.gv),
        profile,
        active_frontline: order.par_iter().map(|&x| volumes.active_frontline[x as usize]).collect(),
        rank: order.par_iter().map(|&x| volumes.ranks.rank_of(x)).collect(),
        best: order.par_iter().map(|&x| volumes.ranks.best_of(x)).collect(),
    }
}

fn install(volumes: &mut PeriodVolumes, rollup: Rollup) {
    volumes.pv = rollup.pv;
    volumes.rv = rollup.rv;
    volumes.gv = rollup.gv;
    volumes.profile = rollup.profile;
    volumes.active_frontline = rollup.active_frontline;
}

impl RecalcSnapshot {
    /// The live partners to recompute.
    pub fn partners(&self) -> usize {
        self.input.partners()
    }

    /// Recomputes from the orders and compares with the live values, in
    /// parallel; `done` counts partners finished. Needs no lock.
    pub fn run(&self, done: &AtomicU64) -> RecalcReport {
        let started = Instant::now();
        let fresh = self.input.compute_bfs(done);
        let rollup = started.elapsed();
        let batch = rank_bfs(&self.input, &fresh.gv, &self.ranks_plan);
        let ranks = started.elapsed() - rollup;
        let levels = self.input.levels();
        let (pv, rv) = (self.input.pv(), self.input.rv());
        let rank_differences_at = |pos: usize| -> u64 {
            u64::from(self.live.rank[pos] != batch.rank[pos]) + u64::from(self.live.best[pos] != batch.best[pos])
        };
        let differences_at = |pos: usize| -> u64 {
            let live = &self.live;
            let scalars = [
                (live.pv[pos], pv[pos]),
                (live.rv[pos], rv[pos]),
                (live.gv[pos], fresh.gv[pos]),
                (i64::from(live.active_frontline[pos]), i64::from(fresh.active_frontline[pos])),
            ];
            let levels_range = pos * levels..(pos + 1) * levels;
            let level_diffs = live.profile[levels_range.clone()]
                .iter()
                .zip(&fresh.profile[levels_range])
                .filter(|(a, b)| a != b)
                .count();
            scalars.iter().filter(|(a, b)| a != b).count() as u64 + level_diffs as u64 + rank_differences_at(pos)
        };
        let n = self.input.partners();
        // One pass: the number of differences and the first position with one.
        let (differences, rank_differences, first_pos) = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|pos| {
                let d = differences_at(pos);
                (d, rank_differences_at(pos), if d > 0 { pos } else { usize::MAX })
            })
            .reduce(|| (0, 0, usize::MAX), |a, b| (a.0 + b.0, a.1 + b.1, a.2.min(b.2)));
        let differences = differences + self.terminated_differences;
        let first_difference = (first_pos < n).then_some(first_pos).map(|pos| {
            let x = self.input.order()[pos];
            let range = pos * levels..(pos + 1) * levels;
            format!(
                "partner #{x}: live pv {} rv {} gv {} frontline {} levels {:?} rank {} best {}; \
                 recomputed pv {} rv {} gv {} frontline {} levels {:?} rank {} best {}",
                self.live.pv[pos],
                self.live.rv[pos],
                self.live.gv[pos],
                self.live.active_frontline[pos],
                &self.live.profile[range.clone()],
                self.live.rank[pos],
                self.live.best[pos],
                pv[pos],
                rv[pos],
                fresh.gv[pos],
                fresh.active_frontline[pos],
                &fresh.profile[range],
                batch.rank[pos],
                batch.best[pos],
            )
        });
        let first_difference = first_difference
            .or_else(|| (self.terminated_differences > 0).then(|| "a terminated partner has live figures".to_owned()));
        let compare = started.elapsed() - rollup - ranks;
        RecalcReport { partners: n as u64, differences, rank_differences, first_difference, rollup, ranks, compare }
    }
}

/// The error for a partner that did not exist when a period closed.
pub fn not_in_closed(partner_id: &str, period: Period) -> EngineError {
    let _ = period;
    EngineError::not_found_what("partner_id", "partner of this closed period (created after it closed)", partner_id)
}
