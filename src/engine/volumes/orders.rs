//! Orders: the idempotent record of every sale, own purchase and fee. The
//! book keeps each order once, keyed by its `order_id`, in compact columns.
//!
//! An *adjustment* (issue #17) is an order for a closed period booked into
//! a later open one: its `period` is the open period it counts in, like any
//! order of that period, and its `origin` the closed period it belongs to.
//! Adjustments are rare, so their origins live in a sparse map by order
//! index rather than in a column every order would pay for.

use crate::engine::cow_column::{ColumnBytes, CowColumn};
use crate::engine::cow_map::CowMap;
use crate::engine::error::EngineResult;
use crate::engine::id_index::{validate_id, IdIndex};
use crate::engine::money::{format_units, parse_volume};
use crate::engine::partner_ix::PartnerIx;
use crate::engine::period::Period;

/// What an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderKind {
    /// Sold to an end customer: PV and RV.
    Retail = 1,
    /// The partner's own purchase: PV.
    SelfPurchase = 2,
    /// A sign-up or starter fee: never volume, pays nobody.
    Fee = 3,
}

impl OrderKind {
    /// The kind of a stored code.
    pub fn from_code(code: u8) -> Option<OrderKind> {
        match code {
            1 => Some(OrderKind::Retail),
            2 => Some(OrderKind::SelfPurchase),
            3 => Some(OrderKind::Fee),
            _ => None,
        }
    }

    /// The stored code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The name used in messages and files.
    pub fn name(self) -> &'static str {
        match self {
            OrderKind::Retail => "RETAIL",
            OrderKind::SelfPurchase => "SELF",
            OrderKind::Fee => "FEE",
        }
    }
}

/// One order, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The idempotency key.
    pub order_id: String,
    /// The partner's index.
    pub partner_ix: PartnerIx,
    /// The period it counts in (for an adjustment, the open period it is
    /// booked into).
    pub period: Period,
    /// The volume in units of 0.0001 (negative for a return).
    pub volume_units: i64,
    /// Retail, own purchase or fee.
    pub kind: OrderKind,
    /// For an adjustment, the closed period it belongs to; `None` for an
    /// ordinary order.
    pub origin: Option<Period>,
}

impl Order {
    /// The volume as a decimal string.
    pub fn volume_text(&self) -> String {
        format_units(i128::from(self.volume_units))
    }
}

/// Validates the fields of an order that do not need the network
/// (id syntax, volume, period); the partner is resolved by the caller.
pub fn parse_order_fields(order_id: &str, period: &str, volume: &str) -> EngineResult<(Period, i64)> {
    validate_id("order_id", order_id)?;
    let period = Period::parse("period", period)?;
    let units = parse_volume("volume", volume)?;
    Ok((period, units))
}

/// Every order ever recorded, by id, in columns a snapshot shares.
#[derive(Default, Clone)]
pub struct OrderBook {
    ids: IdIndex,
    partner: CowColumn<u32>,
    period: CowColumn<Period>,
    volume_units: CowColumn<i64>,
    kind: CowColumn<OrderKind>,
    /// The origin of each adjustment, by order index (sparse).
    origins: CowMap<Period>,
}

/// The adjustments booked into one period from one closed period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdjustmentTotals {
    /// How many (fees included).
    pub order_count: u64,
    /// The sum of their RETAIL and SELF volumes (what they add to PV).
    pub volume_units: i128,
    /// The sum of their FEE volumes.
    pub fee_units: i128,
}

/// What recording an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new order, at this index of the book.
    New(u32),
    /// The same order was recorded before (a retry); nothing changed.
    Repeated(u32),
}

impl OrderBook {
    /// The number of orders.
    pub fn len(&self) -> usize {
        self.partner.len()
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.partner.is_empty()
    }

    /// The order at an index.
    pub fn get(&self, ix: u32) -> Order {
        let i = ix as usize;
        Order {
            order_id: self.ids.get(ix).to_owned(),
            partner_ix: PartnerIx::new(self.partner[i]),
            period: self.period[i],
            volume_units: self.volume_units[i],
            kind: self.kind[i],
            origin: self.origins.get(&ix).copied(),
        }
    }

    /// The index of an order id.
    pub fn find(&self, order_id: &str) -> Option<u32> {
        self.ids.find(order_id)
    }

    /// Checks an order against the book without changing it: `Ok(None)`
    /// for a new id, `Ok(Some(ix))` for a repeat of the same content, and
    /// `Err(ix)` for the same id with other content (the stored order at
    /// `ix` stays as it was).
    pub fn check(&self, order: &Order) -> Result<Option<u32>, u32> {
        match self.ids.find(&order.order_id) {
            None => Ok(None),
            Some(ix) if self.get(ix) == *order => Ok(Some(ix)),
            Some(ix) => Err(ix),
        }
    }

    /// Appends a new order; the caller checked it with [`OrderBook::check`].
    pub fn push(&mut self, order: &Order) -> EngineResult<u32> {
        let ix = self.ids.push(&order.order_id)?;
        self.partner.push(order.partner_ix.get());
        self.period.push(order.period);
        self.volume_units.push(order.volume_units);
        self.kind.push(order.kind);
        if let Some(origin) = order.origin {
            self.origins.insert(ix, origin);
        }
        Ok(ix)
    }

    /// The adjustments booked into `period`, by origin period, oldest
    /// first: O(adjustments ever recorded), not O(orders).
    pub fn adjustments_into(&self, period: Period) -> std::collections::BTreeMap<Period, AdjustmentTotals> {
        let mut totals = std::collections::BTreeMap::<Period, AdjustmentTotals>::new();
        for (&ix, &origin) in self.origins.iter() {
            let i = ix as usize;
            if self.period[i] != period {
                continue;
            }
            let entry = totals.entry(origin).or_default();
            entry.order_count += 1;
            match self.kind[i] {
                OrderKind::Fee => entry.fee_units += i128::from(self.volume_units[i]),
                OrderKind::Retail | OrderKind::SelfPurchase => entry.volume_units += i128::from(self.volume_units[i]),
            }
        }
        totals
    }

    /// Indices of all orders of a period, in recording order.
    pub fn of_period(&self, period: Period) -> impl Iterator<Item = u32> + '_ {
        self.period.iter().enumerate().filter(move |(_, &p)| p == period).map(|(i, _)| i as u32)
    }

    /// The distinct periods that have orders, in order.
    pub fn periods(&self) -> Vec<Period> {
        let mut periods = self.period.to_vec();
        periods.sort_unstable();
        periods.dedup();
        periods
    }

    /// Calls `visit(partner, volume_units, kind)` for every order of a
    /// period, reading the columns only (no allocation per order).
    pub fn for_each_in_period(&self, period: Period, mut visit: impl FnMut(u32, i64, OrderKind)) {
        for (i, &p) in self.period.iter().enumerate() {
            if p == period {
                visit(self.partner[i], self.volume_units[i], self.kind[i]);
            }
        }
    }

    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        self.ids.bytes()
            + self.partner.bytes()
            + self.period.bytes()
            + self.volume_units.bytes()
            + self.kind.bytes()
            + self.origins.bytes(|_| std::mem::size_of::<Period>())
    }

    /// Reserves room for more orders.
    pub fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional, 10);
        self.partner.reserve(additional);
        self.period.reserve(additional);
        self.volume_units.reserve(additional);
        self.kind.reserve(additional);
    }
}
