//! The commission of one partner, to the cent, and the lines that explain it.
//!
//! Every amount is an exact integer in *scaled* units of 10⁻¹⁰: a rate
//! (ppm, 10⁻⁶) times a volume (10⁻⁴). The payout-cap factor `N / D` is
//! applied with 256-bit intermediates, and the payable amount is rounded
//! half-even to the cent from the exact rational value, never from a
//! rounded intermediate (so no double rounding).

use super::plan::Plan;
use ethnum::U256;

/// Scaled units per cent (10⁻¹⁰ → 10⁻²).
pub const SCALED_PER_CENT: i128 = 100_000_000;
/// Scaled units per volume unit (the rate scale).
pub const SCALED_PER_UNIT: i128 = super::plan::RATE_ONE as i128;

/// What a statement line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `retail_rate × max(RV, 0)`.
    Retail,
    /// `level_rates[k] × max(LV_k, 0)` for level `k` (1-based).
    Level(usize),
    /// The partner cap's reduction (negative or absent).
    PartnerCap,
    /// The payout cap's reduction, exact to 10⁻¹⁰ (negative or absent).
    PayoutCap,
    /// The rounding to the cent, half-even (the rest to the payable).
    Rounding,
}

/// One line of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// What it is.
    pub kind: LineKind,
    /// The volume it is computed on, units of 0.0001 (0 for reductions).
    pub base_units: i64,
    /// The rate applied, ppm (0 for reductions).
    pub rate_ppm: i64,
    /// The amount, scaled units of 10⁻¹⁰.
    pub amount_scaled: i128,
}

/// The payout-cap factor of a run: every capped amount is multiplied by
/// `numerator / denominator` (payout_cap × V over T) when T exceeds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayoutFactor {
    /// `payout_cap × V`, scaled.
    pub numerator: i128,
    /// `T`, scaled.
    pub denominator: i128,
}

impl PayoutFactor {
    /// The factor for totals `t_scaled` and `v_units`, or `None` when the
    /// cap does not bite.
    pub fn of(plan: &Plan, t_scaled: i128, v_units: i128) -> Option<PayoutFactor> {
        let limit = i128::from(plan.payout_cap_ppm) * v_units;
        (t_scaled > limit).then_some(PayoutFactor { numerator: limit, denominator: t_scaled })
    }
}

/// What the plan would pay a partner on its lines before any cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gross {
    /// Retail and level lines.
    pub lines: Vec<Line>,
    /// Their sum.
    pub gross_scaled: i128,
    /// `min(gross, partner_cap)`.
    pub capped_scaled: i128,
}

/// The retail and level lines of a partner of rank code `rank` (0: none,
/// which is paid nothing), before caps. `levels` holds LV_1..LV_L.
pub fn gross(plan: &Plan, rank: u8, rv_units: i64, levels: &[i64]) -> Gross {
    let mut lines = Vec::new();
    if rank > 0 {
        lines.push(line(LineKind::Retail, rv_units, plan.retail_rate_ppm));
        let rule = plan.min_retail_for_levels_units;
        if rule == 0 || rv_units >= rule {
            let paid = plan.paid_levels(usize::from(rank) - 1);
            for (k, &lv) in levels.iter().enumerate().take(paid) {
                lines.push(line(LineKind::Level(k + 1), lv, plan.level_rates_ppm[k]));
            }
        }
    }
    let gross_scaled: i128 = lines.iter().map(|l| l.amount_scaled).sum();
    let cap = i128::from(plan.partner_cap_units) * SCALED_PER_UNIT;
    debug_assert_eq!(amounts(plan, rank, rv_units, levels).gross_scaled, gross_scaled);
    Gross { lines, gross_scaled, capped_scaled: gross_scaled.min(cap) }
}

/// The sums of [`gross`] without building lines (the hot path of a run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amounts {
    /// Retail plus paid levels.
    pub gross_scaled: i128,
    /// `min(gross, partner_cap)`.
    pub capped_scaled: i128,
    /// Whether some level line pays more than 0.
    pub pays_levels: bool,
}

/// [`gross`]'s sums, allocation-free.
pub fn amounts(plan: &Plan, rank: u8, rv_units: i64, levels: &[i64]) -> Amounts {
    let mut gross_scaled = 0i128;
    let mut pays_levels = false;
    if rank > 0 {
        gross_scaled += i128::from(rv_units.max(0)) * i128::from(plan.retail_rate_ppm);
        let rule = plan.min_retail_for_levels_units;
        if rule == 0 || rv_units >= rule {
            let paid = plan.paid_levels(usize::from(rank) - 1);
            for (&lv, &rate) in levels.iter().zip(&plan.level_rates_ppm).take(paid) {
                let amount = i128::from(lv.max(0)) * i128::from(rate);
                pays_levels |= amount > 0;
                gross_scaled += amount;
            }
        }
    }
    let cap = i128::from(plan.partner_cap_units) * SCALED_PER_UNIT;
    Amounts { gross_scaled, capped_scaled: gross_scaled.min(cap), pays_levels }
}

fn line(kind: LineKind, base_units: i64, rate_ppm: i64) -> Line {
    let amount_scaled = i128::from(base_units.max(0)) * i128::from(rate_ppm);
    Line { kind, base_units, rate_ppm, amount_scaled }
}

/// What the rates would pay a partner on every line if it were qualified
/// and nothing were capped (retail plus all L levels): breakage's base.
pub fn unrestricted_scaled(plan: &Plan, rv_units: i64, levels: &[i64]) -> i128 {
    let retail = i128::from(rv_units.max(0)) * i128::from(plan.retail_rate_ppm);
    let lines = levels.iter().zip(&plan.level_rates_ppm).map(|(&lv, &r)| i128::from(lv.max(0)) * i128::from(r));
    retail + lines.sum::<i128>()
}

/// The payable amount in cents of a capped amount under a factor.
pub fn payable_cents(capped_scaled: i128, factor: Option<PayoutFactor>) -> i64 {
    debug_assert!(capped_scaled >= 0);
    let cents = match factor {
        None => div_half_even(U256::from(capped_scaled as u128), U256::from(SCALED_PER_CENT as u128)),
        Some(f) => {
            let product = U256::from(capped_scaled as u128) * U256::from(f.numerator as u128);
            div_half_even(product, U256::from(f.denominator as u128) * U256::from(SCALED_PER_CENT as u128))
        }
    };
    i64::try_from(cents.as_u128()).expect("a payable amount fits in i64 cents")
}

/// The capped amount under a factor, exact to a scaled unit (half-even):
/// what the payout-cap line reduces to.
fn scaled_after_factor(capped_scaled: i128, factor: PayoutFactor) -> i128 {
    let product = U256::from(capped_scaled as u128) * U256::from(factor.numerator as u128);
    div_half_even(product, U256::from(factor.denominator as u128)).as_i128()
}

/// `a / b` rounded half to even.
fn div_half_even(a: U256, b: U256) -> U256 {
    debug_assert!(b > U256::ZERO);
    let (q, r) = (a / b, a % b);
    let twice = r * 2;
    if twice > b || (twice == b && q % 2 == U256::ONE) {
        q + 1
    } else {
        q
    }
}

/// A partner's whole statement: lines that add up to the payable amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Paid-as rank code.
    pub rank: u8,
    /// Whether the partner was active.
    pub active: bool,
    /// Retail and level lines, then the reductions and the rounding.
    pub lines: Vec<Line>,
    /// What is paid, in cents.
    pub payable_cents: i64,
}

/// Builds a partner's statement.
pub fn statement(
    plan: &Plan,
    rank: u8,
    active: bool,
    rv_units: i64,
    levels: &[i64],
    factor: Option<PayoutFactor>,
) -> Statement {
    let Gross { mut lines, gross_scaled, capped_scaled } = gross(plan, rank, rv_units, levels);
    let reduction = |kind, amount_scaled| Line { kind, base_units: 0, rate_ppm: 0, amount_scaled };
    if capped_scaled < gross_scaled {
        lines.push(reduction(LineKind::PartnerCap, capped_scaled - gross_scaled));
    }
    let after = match factor {
        Some(f) if capped_scaled > 0 => {
            let after = scaled_after_factor(capped_scaled, f);
            lines.push(reduction(LineKind::PayoutCap, after - capped_scaled));
            after
        }
        _ => capped_scaled,
    };
    let payable_cents = payable_cents(capped_scaled, factor);
    let rounding = i128::from(payable_cents) * SCALED_PER_CENT - after;
    if rounding != 0 {
        lines.push(reduction(LineKind::Rounding, rounding));
    }
    debug_assert_eq!(lines.iter().map(|l| l.amount_scaled).sum::<i128>(), i128::from(payable_cents) * SCALED_PER_CENT);
    Statement { rank, active, lines, payable_cents }
}

/// Formats scaled units as a decimal with 2 to 10 places (`113.70`, `0.0000000001`).
pub fn format_scaled(scaled: i128) -> String {
    let negative = scaled < 0;
    let abs = scaled.unsigned_abs();
    let per_one = (SCALED_PER_CENT * 100) as u128;
    let mut frac = format!("{:010}", abs % per_one);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}{}.{frac}", if negative { "-" } else { "" }, abs / per_one)
}

/// Formats cents (`11370` → `113.70`).
pub fn format_cents(cents: i128) -> String {
    format_scaled(cents * SCALED_PER_CENT)
}

#[cfg(test)]
#[path = "commission_tests.rs"]
mod tests;
