//! Orders and volumes of the network: recording an order (idempotent), the
//! live volume query, opening periods, and rebuilding a period's volumes
//! from scratch (the recalculation that checks them is in `recalc.rs`).

use super::closed_period::VolumeAnswer;
use super::orders::{parse_order_fields, Order, OrderKind, Recorded};
use super::period_volumes::{PeriodVolumes, VolumeView};
use super::rollup::{personal_volumes, Rollup, RollupInput};
use crate::engine::compensation::live_ranks::LiveRanks;
use crate::engine::cow_column::CowColumn;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::network::Network;
use crate::engine::partner_ix::PartnerIx;
use crate::engine::period::Period;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

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
    /// `Some(YYYY-MM)` makes the order an adjustment: `period` is then a
    /// closed period (its origin) and this the later open period it is
    /// booked into and counts in. `None` for an ordinary order.
    pub book_into_period: Option<String>,
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
                OrderKind::Retail => {
                    volumes.add_volume(g, plan, order.partner_ix.get(), order.volume_units, order.volume_units)
                }
                OrderKind::SelfPurchase => volumes.add_volume(g, plan, order.partner_ix.get(), order.volume_units, 0),
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
        let (origin_or_period, volume_units) = parse_order_fields(&request.order_id, &request.period, &request.volume)?;
        let (period, origin) = booked_period(origin_or_period, request.book_into_period.as_deref())?;
        let partner_ix = self.genealogy.lookup("partner_id", &request.partner_id)?;
        let partner = partner_ix.get();
        let order =
            Order { order_id: request.order_id.clone(), partner_ix, period, volume_units, kind: request.kind, origin };
        match self.orders.check(&order) {
            Ok(Some(ix)) => return Ok((order, Recorded::Repeated(ix))),
            Ok(None) => {}
            Err(ix) => return Err(self.other_content(ix)),
        }
        if self.genealogy.status_at(partner) == PartnerStatus::Terminated {
            return Err(EngineError::precondition(
                "partner_id",
                format!("partner '{}' is terminated and takes no new orders", request.partner_id),
            ));
        }
        self.check_periods_open(&order)?;
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

    /// The ALREADY_EXISTS refusal of an order id recorded (at `ix`) with
    /// other content, showing the stored content.
    fn other_content(&self, ix: u32) -> EngineError {
        let stored = self.orders.get(ix);
        let booking = match stored.origin {
            Some(origin) => format!("period {origin} booked into {}", stored.period),
            None => format!("period {}", stored.period),
        };
        EngineError::AlreadyExists {
            field: "order_id".into(),
            what: "order",
            id: stored.order_id.clone(),
            detail: format!(
                " with other content (partner '{}', {booking}, volume {}, kind {})",
                self.genealogy.id(stored.partner_ix),
                stored.volume_text(),
                stored.kind.name()
            ),
        }
    }

    /// Checks that a new order's period takes orders: an ordinary order's
    /// period is open (a closed one is FAILED_PRECONDITION, as the spec
    /// says); an adjustment's origin is closed and the period it is booked
    /// into open (a closed one is INVALID_ARGUMENT: the caller named the
    /// wrong period, no later state makes the request right).
    fn check_periods_open(&self, order: &Order) -> EngineResult<()> {
        let closed = |p: Period| self.closed.contains_key(&p);
        match order.origin {
            None if closed(order.period) => {
                Err(EngineError::precondition("period", format!("period {} is closed", order.period)))
            }
            None => Ok(()),
            Some(origin) if !closed(origin) => Err(EngineError::precondition(
                "adjusts_closed_period",
                format!("period {origin} is open: record the order without adjusts_closed_period"),
            )),
            Some(_) if closed(order.period) => Err(EngineError::invalid(
                "book_into_period",
                format!("period {} is closed: an adjustment is booked into an open period", order.period),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Recomputes a period's rollups from its orders (after bulk
    /// [`Network::admit_order`] calls).
    pub fn relevel(&mut self, period: Period) {
        self.relevel_from_scratch(period);
    }

    /// A partner's volumes in a period: live for an open period (zeros for
    /// a period without orders yet); for a closed one, the figures frozen
    /// when it closed (a partner terminated since still has them; one
    /// created since has none: NOT_FOUND).
    pub fn volume_answer(&self, partner_id: &str, period: &str) -> EngineResult<VolumeAnswer> {
        let period = Period::parse("period", period)?;
        if let Some(closed) = self.closed.get(&period) {
            let x = self.genealogy.lookup("partner_id", partner_id)?.get();
            return match &closed.frozen {
                None => Ok(VolumeAnswer::OnDisk { period, ix: PartnerIx::new(x) }),
                Some(frozen) => {
                    frozen.view(x).map(VolumeAnswer::Frozen).ok_or_else(|| not_in_closed(partner_id, period))
                }
            };
        }
        let x = self.genealogy.lookup_live("partner_id", partner_id)?.get();
        match self.periods.get(&period) {
            Some(volumes) => Ok(VolumeAnswer::Live(volumes.view(&self.genealogy, &self.plan, x))),
            // No order yet: a known partner's volumes are zeros (an app
            // asks on the first day of a month), not the NOT_FOUND of an
            // unknown partner.
            None => Ok(VolumeAnswer::Live(VolumeView::before_orders(&self.genealogy, &self.plan, x))),
        }
    }

    /// A partner's live volumes in an open period (a closed one is
    /// FAILED_PRECONDITION here; see [`Network::volume_answer`]).
    pub fn volumes(&self, partner_id: &str, period: &str) -> EngineResult<VolumeView> {
        let period = Period::parse("period", period)?;
        let x = self.genealogy.lookup_live("partner_id", partner_id)?.get();
        Ok(self.period(period)?.view(&self.genealogy, &self.plan, x))
    }

    /// Computes a period's volumes and live ranks from scratch and installs
    /// them (for a period's first order, at start-up, after a plan change).
    pub(in crate::engine) fn relevel_from_scratch(&mut self, period: Period) {
        let (pv, rv) = personal_volumes(&self.genealogy, &self.orders, period);
        let input = RollupInput::capture(&self.genealogy, &self.plan, &pv, &rv);
        let rollup = input.compute(&AtomicU64::new(0));
        let ranks_plan = Arc::clone(self.current_plan());
        if let Some(volumes) = self.periods.get_mut(&period) {
            volumes.touched.overflow();
            install(volumes, rollup);
            volumes.ranks = LiveRanks::build(ranks_plan, &self.genealogy, &input, &volumes.gv);
        }
    }

    /// Ranks a period again from its live volumes (after a change of the
    /// plan's ranks that left its volume settings alone).
    pub(in crate::engine) fn rerank_from_scratch(&mut self, period: Period) {
        let ranks_plan = Arc::clone(self.current_plan());
        if let Some(volumes) = self.periods.get_mut(&period) {
            let (pv, rv) = (volumes.pv.to_vec(), volumes.rv.to_vec());
            let input = RollupInput::capture(&self.genealogy, &self.plan, &pv, &rv);
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
}

fn install(volumes: &mut PeriodVolumes, rollup: Rollup) {
    volumes.pv = CowColumn::from_vec(rollup.pv);
    volumes.rv = CowColumn::from_vec(rollup.rv);
    volumes.gv = CowColumn::from_vec(rollup.gv);
    volumes.profile = CowColumn::from_rows(rollup.profile, volumes.levels);
    volumes.active_frontline = CowColumn::from_vec(rollup.active_frontline);
}

/// The period an order counts in and its origin: the order's own period
/// for an ordinary order; for an adjustment the period it is booked into,
/// which must come after its origin (an adjustment moves forward in time).
fn booked_period(period: Period, book_into: Option<&str>) -> EngineResult<(Period, Option<Period>)> {
    let Some(text) = book_into else {
        return Ok((period, None));
    };
    let target = Period::parse("book_into_period", text)?;
    if target <= period {
        return Err(EngineError::invalid(
            "book_into_period",
            format!("{target} is not after the order's period {period}: an adjustment is booked into a later period"),
        ));
    }
    Ok((target, Some(period)))
}

/// The error for a partner that did not exist when a period closed.
pub fn not_in_closed(partner_id: &str, period: Period) -> EngineError {
    let _ = period;
    EngineError::not_found_what("partner_id", "partner of this closed period (created after it closed)", partner_id)
}
