//! The naive model of the volume property tests: partners with a sponsor
//! index and a status, the list of orders, and which periods have orders or
//! are closed; every figure is recomputed from them by walking up.

use crate::volume_props::KINDS;
use downline::engine::*;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// A new partner (root or under a sponsor), or a repeat of an existing id.
    Create(Option<Index>, Option<Index>),
    /// Rows: (0 root | 1 existing partner | 2 another row of the batch, which).
    Import(Vec<(u8, Index)>),
    /// (repeat of a recorded order: mode 0 same, 1-3 altered; partner, period, volume in quarters, kind).
    /// Period 2 is an adjustment: an order of 2026-01 booked into 2026-02.
    Order(Option<(Index, u8)>, Index, usize, i64, usize),
    Move(Index, Index),
    SetStatus(Index, usize),
    Close(usize),
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (option::weighted(0.15, any::<Index>()), option::weighted(0.85, any::<Index>()))
            .prop_map(|(reuse, sponsor)| Op::Create(reuse, sponsor)),
        1 => prop::collection::vec((0u8..3, any::<Index>()), 1..=4).prop_map(Op::Import),
        9 => (option::weighted(0.15, (any::<Index>(), 0u8..4)), any::<Index>(), 0usize..3, -20i64..=40, 0usize..3)
            .prop_map(|(reuse, partner, period, quarters, kind)| Op::Order(reuse, partner, period, quarters, kind)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Op::Move(a, b)),
        3 => (any::<Index>(), 0usize..3).prop_map(|(a, s)| Op::SetStatus(a, s)),
        1 => (0usize..2).prop_map(Op::Close),
    ]
}

pub(crate) struct MPartner {
    pub(crate) id: String,
    pub(crate) sponsor: Option<usize>,
    pub(crate) status: PartnerStatus,
}

#[derive(Clone, PartialEq)]
pub(crate) struct MOrder {
    pub(crate) id: String,
    pub(crate) partner: usize,
    pub(crate) period: usize,
    pub(crate) units: i64,
    pub(crate) kind: usize,
    /// For an adjustment, the (closed) period it belongs to; `period` is
    /// the one it is booked into and counts in.
    pub(crate) origin: Option<usize>,
}

/// Partners with a sponsor index and a status, the list of orders, and
/// which periods have orders or are closed. Nothing else is kept.
pub(crate) struct Model {
    pub(crate) plan: VolumePlan,
    pub(crate) ps: Vec<MPartner>,
    pub(crate) orders: Vec<MOrder>,
    pub(crate) has_orders: [bool; 2],
    pub(crate) closed: [bool; 2],
    pub(crate) made: u32,
}

impl Model {
    /// No partners, no orders.
    pub(crate) fn new(plan: VolumePlan) -> Model {
        Model { plan, ps: Vec::new(), orders: Vec::new(), has_orders: [false; 2], closed: [false; 2], made: 0 }
    }

    pub(crate) fn live(&self, i: usize) -> bool {
        self.ps[i].status != PartnerStatus::Terminated
    }

    pub(crate) fn fresh(&mut self, prefix: &str) -> String {
        self.made += 1;
        format!("{prefix}{}", self.made)
    }

    pub(crate) fn sponsor_id(&self, i: usize) -> &str {
        self.ps[i].sponsor.map_or("", |s| &self.ps[s].id)
    }

    /// Whether `a` is `x` or one of its sponsors.
    pub(crate) fn is_self_or_ancestor(&self, a: usize, x: usize) -> bool {
        let mut node = Some(x);
        while let Some(n) = node {
            if n == a {
                return true;
            }
            node = self.ps[n].sponsor;
        }
        false
    }

    /// (PV, RV) of every partner in a period, from the orders alone.
    pub(crate) fn personal(&self, per: usize) -> Vec<(i64, i64)> {
        let mut out = vec![(0, 0); self.ps.len()];
        for o in self.orders.iter().filter(|o| o.period == per && self.live(o.partner)) {
            match KINDS[o.kind] {
                OrderKind::Retail => {
                    out[o.partner].0 += o.units;
                    out[o.partner].1 += o.units;
                }
                OrderKind::SelfPurchase => out[o.partner].0 += o.units,
                OrderKind::Fee => {}
            }
        }
        out
    }

    /// Everything of `p` recomputed by walking up from every other partner.
    pub(crate) fn view(&self, p: usize, pr: &[(i64, i64)]) -> VolumeView {
        let plan = &self.plan;
        let active = |q: usize| self.ps[q].status == PartnerStatus::Enrolled && pr[q].0 >= plan.min_active_pv_units;
        let mut levels = vec![LevelTotals::default(); plan.levels];
        let (mut gv, mut frontline, mut active_frontline) = (pr[p].0, 0, 0);
        for d in (0..self.ps.len()).filter(|&d| d != p && self.live(d)) {
            let (mut node, mut depth, mut active_between) = (self.ps[d].sponsor, 1, 0);
            while let Some(s) = node.filter(|&s| s != p) {
                active_between += usize::from(active(s));
                depth += 1;
                node = self.ps[s].sponsor;
            }
            if node != Some(p) {
                continue;
            }
            gv += pr[d].0;
            if depth == 1 {
                frontline += 1;
                active_frontline += u32::from(active(d));
            }
            let level = if plan.compression { 1 + active_between } else { depth };
            if level <= plan.levels {
                let t = &mut levels[level - 1];
                t.volume_units += pr[d].0;
                t.partners += 1;
                t.active += u32::from(active(d));
            }
        }
        VolumeView {
            pv_units: pr[p].0,
            rv_units: pr[p].1,
            gv_units: gv,
            levels,
            active: active(p),
            frontline,
            active_frontline,
        }
    }
}
