//! The world the commission tests drive the engine with: a plain model of
//! partners (sponsor, status) and orders kept beside a `Network`, every
//! write applied to both and required to succeed, and a seeded generator of
//! varied networks (bushy hubs, deep legs, returns, fees, another period,
//! suspensions, terminations, re-enrolments and moves).
//!
//! The model knows nothing of volumes or commissions: it only remembers
//! what was done, so the reference of `commission_reference` can compute
//! everything from the spec alone.

use downline::engine::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The period every commission test runs.
pub(crate) const PERIOD: &str = "2026-05";
/// Another open period whose orders must never count in `PERIOD`.
pub(crate) const OTHER_PERIOD: &str = "2026-06";
const DAY: &str = "2026-05-02";
const U: i64 = 10_000;

/// One recorded order, as the model remembers it.
pub(crate) struct MOrder {
    pub partner: usize,
    pub period: &'static str,
    pub units: i64,
    pub kind: OrderKind,
}

/// A network and the model of what was done to it.
#[derive(Default)]
pub(crate) struct World {
    pub net: Network,
    pub ids: Vec<String>,
    /// The sponsor of each partner as the spec defines it (terminations
    /// hand recruits to the terminated partner's sponsor).
    pub sponsor: Vec<Option<usize>>,
    pub status: Vec<PartnerStatus>,
    /// Every order ever recorded, terminated partners' included.
    pub orders: Vec<MOrder>,
}

/// Volume units as an order's text with 4 places (`-12.5` → `-12.5000`).
pub(crate) fn units_text(units: i64) -> String {
    let a = units.unsigned_abs();
    format!("{}{}.{:04}", if units < 0 { "-" } else { "" }, a / U as u64, a % U as u64)
}

impl World {
    /// Whether partner `i` is still in the tree.
    pub fn live(&self, i: usize) -> bool {
        self.status[i] != PartnerStatus::Terminated
    }

    /// The engine's arena index of partner `i`.
    pub fn arena(&self, i: usize) -> PartnerIx {
        self.net.genealogy.find(&self.ids[i]).expect("every partner of the model exists")
    }

    /// Whether `a` is `x` or one of its sponsors (walking up the model).
    pub fn is_self_or_ancestor(&self, a: usize, x: usize) -> bool {
        let mut node = Some(x);
        while let Some(n) = node {
            if n == a {
                return true;
            }
            node = self.sponsor[n];
        }
        false
    }

    /// Creates the partners of `sponsors` (each `Some` an earlier partner
    /// or an earlier row) in one import.
    pub fn import(&mut self, sponsors: &[Option<usize>]) {
        let first = self.ids.len();
        let rows: Vec<NewPartner> = (sponsors.iter().enumerate())
            .map(|(k, s)| {
                let sponsor = s.map_or(String::new(), |s| format!("p{s}"));
                NewPartner::parse(&format!("p{}", first + k), &sponsor, DAY, "").unwrap()
            })
            .collect();
        self.net.import(&rows).expect("a valid import");
        for (k, &s) in sponsors.iter().enumerate() {
            self.ids.push(format!("p{}", first + k));
            self.sponsor.push(s);
            self.status.push(PartnerStatus::Enrolled);
        }
    }

    /// Records an order of `units` (units of 0.0001) for partner `i`.
    pub fn order(&mut self, i: usize, period: &'static str, units: i64, kind: OrderKind) {
        let request = OrderRequest {
            order_id: format!("o{}", self.orders.len()),
            partner_id: self.ids[i].clone(),
            period: period.into(),
            volume: units_text(units),
            kind,
            book_into_period: None,
        };
        let (_, recorded) = self.net.record_order(&request).expect("a valid order");
        assert!(matches!(recorded, Recorded::New(_)));
        self.orders.push(MOrder { partner: i, period, units, kind });
    }

    /// Sets a live partner's status; a termination hands its recruits to its
    /// sponsor (the caller never terminates a root that has recruits).
    pub fn set_status(&mut self, i: usize, status: PartnerStatus) {
        self.net.set_status(&self.ids[i].clone(), status, Audit::default()).expect("a valid status change");
        if status == PartnerStatus::Terminated {
            for c in 0..self.ids.len() {
                if self.live(c) && self.sponsor[c] == Some(i) {
                    self.sponsor[c] = self.sponsor[i];
                }
            }
        }
        self.status[i] = status;
    }

    /// Moves live partner `i` under live partner `j` when that is allowed
    /// (not under itself or its downline); tells whether it moved.
    pub fn move_under(&mut self, i: usize, j: usize) -> bool {
        if !self.live(i) || !self.live(j) || self.is_self_or_ancestor(i, j) || self.sponsor[i] == Some(j) {
            return false;
        }
        let (a, b) = (self.ids[i].clone(), self.ids[j].clone());
        self.net.move_partner(&a, &b, Audit::default()).expect("a valid move");
        self.sponsor[i] = Some(j);
        true
    }

    /// Installs `plan` as the next version (validated or not).
    pub fn install(&mut self, mut plan: Plan) {
        plan.version = self.net.current_plan().version + 1;
        self.net.install_plan(std::sync::Arc::new(plan));
    }
}

/// A random volume in units: mostly ordinary purchases, some large ones,
/// some returns, a quarter of them with 4 decimal places, and one in eight
/// exactly 50, 100 or 150 (the reference plan's thresholds).
fn volume(rng: &mut StdRng) -> i64 {
    if rng.gen_ratio(1, 8) {
        return [50, 100, 150][rng.gen_range(0..3)] * U;
    }
    let whole: i64 = match rng.gen_range(0..10) {
        0 => -rng.gen_range(1..200),
        1 | 2 => rng.gen_range(0..50),
        3..=7 => rng.gen_range(50..300),
        _ => rng.gen_range(300..3_000),
    };
    let frac = match rng.gen_range(0..4) {
        0 => rng.gen_range(0..U),
        1 => rng.gen_range(0..100) * 100,
        _ => 0,
    };
    whole * U + if whole < 0 { -frac } else { frac }
}

fn kind(rng: &mut StdRng) -> OrderKind {
    match rng.gen_range(0..20) {
        0..=8 => OrderKind::Retail,
        9..=16 => OrderKind::SelfPurchase,
        _ => OrderKind::Fee,
    }
}

/// A network of `n` partners from `seed`: a few roots; about a third of
/// the partners under a handful of hubs (bushy), a third under one of the
/// last three partners (chains), the rest anywhere; one deep leg of n/25
/// partners in a single line. Orders of every kind, returns, orders of
/// another period; then n/20 status changes and moves (none out of the deep
/// leg), then more orders for live partners.
pub(crate) fn random_world(seed: u64, n: usize) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = World::default();
    let deep = n * 4 / 5..n * 4 / 5 + n / 25;
    let hubs = 1 + n / 500;
    let sponsors: Vec<Option<usize>> = (0..n)
        .map(|i| {
            if deep.contains(&i) && i > deep.start {
                Some(i - 1)
            } else if i == 0 || rng.gen_ratio(1, 100) {
                None
            } else {
                match rng.gen_range(0..20) {
                    0..=6 => Some(rng.gen_range(0..i.min(hubs))),
                    7..=13 => Some(i - 1 - rng.gen_range(0..i.min(3))),
                    _ => Some(rng.gen_range(0..i)),
                }
            }
        })
        .collect();
    w.import(&sponsors);
    for i in 0..n {
        for _ in 0..rng.gen_range(0..=3) {
            let units = volume(&mut rng);
            let k = kind(&mut rng);
            w.order(i, PERIOD, units, k);
        }
        if rng.gen_ratio(1, 10) {
            let units = volume(&mut rng);
            let k = kind(&mut rng);
            w.order(i, OTHER_PERIOD, units, k);
        }
    }
    for _ in 0..n.div_ceil(20) {
        let i = rng.gen_range(0..n);
        if !w.live(i) {
            continue;
        }
        match rng.gen_range(0..10) {
            0..=2 if w.status[i] == PartnerStatus::Enrolled => w.set_status(i, PartnerStatus::Suspended),
            3 if w.status[i] == PartnerStatus::Suspended => w.set_status(i, PartnerStatus::Enrolled),
            4..=5 if w.sponsor[i].is_some() => w.set_status(i, PartnerStatus::Terminated),
            // The deep leg stays one line (others may move into it).
            _ if deep.contains(&i) => {}
            _ => {
                w.move_under(i, rng.gen_range(0..n));
            }
        }
    }
    for _ in 0..n / 10 {
        let i = rng.gen_range(0..n);
        if w.live(i) {
            let units = volume(&mut rng);
            let k = kind(&mut rng);
            w.order(i, PERIOD, units, k);
        }
    }
    if !w.orders.iter().any(|o| o.period == PERIOD) {
        let i = (0..n).find(|&i| w.live(i)).expect("roots are never terminated");
        w.order(i, PERIOD, 60 * U, OrderKind::SelfPurchase);
    }
    w
}
