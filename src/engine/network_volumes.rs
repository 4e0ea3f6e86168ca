//! Orders and volumes of the network: recording an order (idempotent), the
//! live volume query, opening periods, and the from-scratch recalculation
//! that proves the live values right.

use super::closed_period::VolumeAnswer;
use super::error::{EngineError, EngineResult};
use super::network::Network;
use super::orders::{parse_order_fields, Order, OrderKind, Recorded};
use super::period::Period;
use super::period_volumes::{LevelTotals, PeriodVolumes, VolumeView};
use super::rollup::{personal_volumes, Rollup, RollupInput};
use super::status::Status;
use std::sync::atomic::AtomicU64;

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
/// together under the network's lock.
pub struct RecalcSnapshot {
    input: RollupInput,
    live: Rollup,
    levels: usize,
}

/// What a recalculation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecalcReport {
    /// Live partners recomputed.
    pub partners: u64,
    /// Values that differed from the live ones (there must be none).
    pub differences: u64,
    /// The first difference, described, for the log.
    pub first_difference: Option<String>,
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

    /// Computes a period's volumes from scratch and installs them (for a
    /// period's first order, and at start-up).
    pub(super) fn relevel_from_scratch(&mut self, period: Period) {
        let rollup = self.rollup_now(period);
        if let Some(volumes) = self.periods.get_mut(&period) {
            install(volumes, rollup);
        }
    }

    fn rollup_now(&self, period: Period) -> Rollup {
        let (pv, rv) = personal_volumes(&self.genealogy, &self.orders, period);
        RollupInput::capture(&self.genealogy, &self.plan, &pv, &rv).compute(&AtomicU64::new(0))
    }

    /// Rebuilds every open period from the order book (start-up, after
    /// the closed periods were added with [`Network::add_closed`]).
    pub fn rebuild_periods(&mut self) -> EngineResult<()> {
        let mut periods: Vec<Period> = (0..self.orders.len() as u32).map(|ix| self.orders.get(ix).period).collect();
        periods.sort_unstable();
        periods.dedup();
        periods.retain(|p| !self.closed.contains_key(p));
        for period in periods {
            let mut volumes = PeriodVolumes::new(period, &self.plan, self.genealogy.len());
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
        let live = Rollup {
            pv: volumes.pv.clone(),
            rv: volumes.rv.clone(),
            gv: volumes.gv.clone(),
            profile: volumes.profile.clone(),
            active_frontline: volumes.active_frontline.clone(),
        };
        Ok(RecalcSnapshot { input, live, levels: volumes.levels })
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

    /// Recomputes from the orders and compares with the live values;
    /// `done` counts partners finished. Needs no lock.
    pub fn run(&self, done: &AtomicU64) -> RecalcReport {
        let fresh = self.input.compute(done);
        let mut differences = 0u64;
        let mut first = None;
        let mut note = |what: &str, x: usize, live: String, fresh: String| {
            differences += 1;
            if first.is_none() {
                first = Some(format!("partner #{x}: {what} live {live}, recomputed {fresh}"));
            }
        };
        for x in 0..fresh.pv.len() {
            let live_of = |v: &Vec<i64>| v.get(x).copied().unwrap_or(0);
            for (what, live, new) in [
                ("pv", live_of(&self.live.pv), fresh.pv[x]),
                ("rv", live_of(&self.live.rv), fresh.rv[x]),
                ("gv", live_of(&self.live.gv), fresh.gv[x]),
            ] {
                if live != new {
                    note(what, x, live.to_string(), new.to_string());
                }
            }
            let live_af = self.live.active_frontline.get(x).copied().unwrap_or(0);
            if live_af != fresh.active_frontline[x] {
                note("active_frontline", x, live_af.to_string(), fresh.active_frontline[x].to_string());
            }
            let range = x * self.levels..(x + 1) * self.levels;
            let live_levels = self.live.profile.get(range.clone()).unwrap_or(&[]);
            for (k, new) in fresh.profile[range].iter().enumerate() {
                let live = live_levels.get(k).copied().unwrap_or(LevelTotals::default());
                if live != *new {
                    note("level", x, format!("{live:?} at level {}", k + 1), format!("{new:?}"));
                }
            }
        }
        RecalcReport { partners: self.input.partners() as u64, differences, first_difference: first }
    }
}

/// The error for a partner that did not exist when a period closed.
pub fn not_in_closed(partner_id: &str, period: Period) -> EngineError {
    let _ = period;
    EngineError::not_found_what("partner_id", "partner of this closed period (created after it closed)", partner_id)
}
