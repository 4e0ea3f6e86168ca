//! Synthetic sales networks for benches, the load generator and tests:
//! the same shape as `shared/datasets/gen_network.py` (preferential
//! attachment plus recency; most partners recruit nobody, a few recruit
//! hundreds; long but rare chains), generated in memory from a seed.
//!
//! Floating point appears only here, to draw random shapes and amounts;
//! every amount becomes an exact decimal string before the engine sees it.

use crate::engine::{Date, NewPartner, OrderKind, OrderRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Chance that a recruit's sponsor is a recent recruiter.
const RECENCY: f64 = 0.5;
/// How many of the latest recruiters count as recent.
const WINDOW: usize = 1000;
/// Share of partners who ever recruit.
const RECRUITERS: f64 = 0.3;

/// `n` partners with ids "1".."n", each sponsor before its recruits;
/// partner "1" is the root.
pub fn partners(n: usize, seed: u64) -> Vec<NewPartner> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Date::from_ymd(2021, 11, 1).expect("a valid date").days();
    let span = Date::from_ymd(2026, 11, 1).expect("a valid date").days() - start;
    let mut urn: Vec<u32> = vec![1];
    let mut recent: Vec<u32> = vec![1];
    let mut rows = Vec::with_capacity(n);
    for i in 1..=n as u32 {
        let sponsor = match i {
            1 => String::new(),
            _ => {
                let s = if rng.gen::<f64>() < RECENCY {
                    recent[rng.gen_range(recent.len().saturating_sub(WINDOW)..recent.len())]
                } else {
                    urn[rng.gen_range(0..urn.len())]
                };
                urn.push(s);
                if rng.gen::<f64>() < RECRUITERS {
                    urn.push(i);
                    recent.push(i);
                }
                s.to_string()
            }
        };
        let joined = Date::from_days(start + (i64::from(i) * i64::from(span) / n.max(1) as i64) as i32);
        rows.push(NewPartner {
            partner_id: i.to_string(),
            sponsor_id: sponsor,
            joined_on: joined,
            display_name: String::new(),
        });
    }
    rows
}

/// The orders of one period for partners "1".."n", like gen_network.py:
/// 2 % pay a 49.00 fee, 60 % order 1 to 3 times (amounts log-normal with a
/// median near 49.00, 55 % retail), and 3 % of orders are returned.
pub fn orders(n: usize, seed: u64, period: &str) -> Vec<OrderRequest> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6f72_6465_7273);
    let mut out = Vec::with_capacity(n * 11 / 10);
    let mut next_id = 0u64;
    let mut push = |out: &mut Vec<OrderRequest>, partner: u32, cents: i64, kind: OrderKind| {
        next_id += 1;
        let sign = if cents < 0 { "-" } else { "" };
        let volume = format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100);
        out.push(OrderRequest {
            order_id: next_id.to_string(),
            partner_id: partner.to_string(),
            period: period.to_owned(),
            volume,
            kind,
            book_into_period: None,
        });
    };
    for i in 1..=n as u32 {
        if rng.gen::<f64>() < 0.02 {
            push(&mut out, i, 4900, OrderKind::Fee);
        }
        if rng.gen::<f64>() >= 0.6 {
            continue;
        }
        for _ in 0..[1, 1, 1, 2, 2, 3][rng.gen_range(0..6)] {
            let cents = log_normal_cents(&mut rng);
            let kind = if rng.gen::<f64>() < 0.55 { OrderKind::Retail } else { OrderKind::SelfPurchase };
            push(&mut out, i, cents, kind);
            if rng.gen::<f64>() < 0.03 {
                push(&mut out, i, -cents, kind);
            }
        }
    }
    out
}

/// exp(N(8.5, 0.8)) cents, by Box-Muller.
fn log_normal_cents(rng: &mut StdRng) -> i64 {
    let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (8.5 + 0.8 * z).exp() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Network, VolumePlan};

    #[test]
    fn makes_a_valid_deterministic_network() {
        let rows = partners(2000, 7);
        assert_eq!(rows, partners(2000, 7));
        let mut net = Network::new(Default::default(), VolumePlan::default());
        net.import(&rows).unwrap();
        net.genealogy.check_invariants().unwrap();
        for order in orders(2000, 7, "2026-11") {
            net.record_order(&order).unwrap();
        }
        assert!(net.orders.len() > 1000);
    }
}
