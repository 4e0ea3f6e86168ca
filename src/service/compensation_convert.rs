//! Conversions between the compensation protos and engine types.

use crate::engine::format_rate;
use crate::engine::money::format_units;
use crate::engine::{format_cents, format_scaled, Line, LineKind, Statement};
use crate::engine::{Phase, RunTotals};
use crate::engine::{Plan, PlanDraft, RankDraft};
use crate::engine::{RankProgress, Requirement, RequirementKind};
use crate::proto::v1 as pb;
use rust_decimal::{Decimal, RoundingStrategy};

/// Places of the ratios of the compliance report.
const RATIO_PLACES: u32 = 6;
/// Places of the payout factor.
const FACTOR_PLACES: u32 = 10;

/// The proto of a plan.
pub fn plan_to_proto(plan: &Plan) -> pb::Plan {
    let d = plan.to_draft();
    pb::Plan {
        version: plan.version,
        levels: d.levels,
        level_rates: d.level_rates,
        compression: d.compression,
        min_active_pv: d.min_active_pv,
        retail_rate: d.retail_rate,
        min_retail_for_levels: d.min_retail_for_levels,
        partner_cap: d.partner_cap,
        payout_cap: d.payout_cap,
        ranks: d
            .ranks
            .into_iter()
            .map(|r| pb::Rank {
                name: r.name,
                min_pv: r.min_pv,
                min_gv: r.min_gv,
                max_leg_share: r.max_leg_share,
                min_legs: r.min_legs,
                leg_min_rank: r.leg_min_rank,
                paid_levels: r.paid_levels,
            })
            .collect(),
    }
}

/// The engine draft of a proto plan (validated by the engine).
pub fn plan_from_proto(p: pb::Plan) -> PlanDraft {
    PlanDraft {
        levels: p.levels,
        level_rates: p.level_rates,
        compression: p.compression,
        min_active_pv: p.min_active_pv,
        retail_rate: p.retail_rate,
        min_retail_for_levels: p.min_retail_for_levels,
        partner_cap: p.partner_cap,
        payout_cap: p.payout_cap,
        ranks: p
            .ranks
            .into_iter()
            .map(|r| RankDraft {
                name: r.name,
                min_pv: r.min_pv,
                min_gv: r.min_gv,
                max_leg_share: r.max_leg_share,
                min_legs: r.min_legs,
                leg_min_rank: r.leg_min_rank,
                paid_levels: r.paid_levels,
            })
            .collect(),
    }
}

/// A rank code's name (empty for 0: no rank).
pub fn rank_name(plan: &Plan, code: u8) -> String {
    match code {
        0 => String::new(),
        c => plan.ranks.get(usize::from(c) - 1).map_or_else(String::new, |r| r.name.clone()),
    }
}

/// The proto phase of an engine phase.
pub fn phase_to_proto(phase: Phase) -> pb::RunPhase {
    match phase {
        Phase::Queued => pb::RunPhase::Queued,
        Phase::Rollup => pb::RunPhase::Rollup,
        Phase::Ranks => pb::RunPhase::Ranks,
        Phase::Commissions => pb::RunPhase::Commissions,
        Phase::Done => pb::RunPhase::Done,
    }
}

/// Fills a run's totals into its proto.
pub fn fill_totals(run: &mut pb::CommissionRun, plan: &Plan, t: &RunTotals) {
    run.partners_total = t.partners;
    run.total_volume = format_units(t.v_units);
    run.total_capped = format_scaled(t.t_scaled);
    run.payout_factor = match t.factor {
        None => "1".to_owned(),
        Some(f) => ratio(f.numerator, f.denominator, FACTOR_PLACES),
    };
    run.payable_total = format_cents(t.payable_cents);
    run.breakage = format_scaled(t.breakage_scaled);
    let mut ranks: Vec<pb::RankCount> = (1..t.per_rank.len())
        .map(|code| pb::RankCount { rank: rank_name(plan, code as u8), partners: t.per_rank[code] })
        .collect();
    ranks.push(pb::RankCount { rank: String::new(), partners: t.per_rank.first().copied().unwrap_or(0) });
    run.ranks = ranks;
}

/// `numerator / denominator` rounded half-even to `places`; "0" when the
/// denominator is 0.
pub fn ratio(numerator: i128, denominator: i128, places: u32) -> String {
    let (mut n, mut d) = (numerator, denominator);
    // Beyond Decimal's 28 digits, scale both down first: a ratio of 6 or 10
    // places needs no more (at most 3 rounds: i128 has 39 digits).
    loop {
        if d == 0 {
            return "0".to_owned();
        }
        match (Decimal::try_from_i128_with_scale(n, 0), Decimal::try_from_i128_with_scale(d, 0)) {
            (Ok(n), Ok(d)) => {
                return n.checked_div(d).map_or_else(
                    || "0".to_owned(),
                    |q| q.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven).normalize().to_string(),
                )
            }
            _ => (n, d) = (n / 1_000_000_000, d / 1_000_000_000),
        }
    }
}

/// The compliance report's ratio places.
pub fn compliance_ratio(numerator: i128, denominator: i128) -> String {
    ratio(numerator, denominator, RATIO_PLACES)
}

/// The proto of a statement line.
fn line_to_proto(line: &Line) -> pb::StatementLine {
    let (kind, level) = match line.kind {
        LineKind::Retail => (pb::LineKind::Retail, 0),
        LineKind::Level(k) => (pb::LineKind::Level, k as u32),
        LineKind::PartnerCap => (pb::LineKind::PartnerCap, 0),
        LineKind::PayoutCap => (pb::LineKind::PayoutCap, 0),
        LineKind::Rounding => (pb::LineKind::Rounding, 0),
    };
    let computed = matches!(line.kind, LineKind::Retail | LineKind::Level(_));
    pb::StatementLine {
        kind: kind as i32,
        level,
        volume: if computed { format_units(i128::from(line.base_units)) } else { String::new() },
        rate: if computed { format_rate(line.rate_ppm) } else { String::new() },
        amount: format_scaled(line.amount_scaled),
    }
}

/// The proto of a statement.
pub fn statement_to_proto(
    plan: &Plan,
    run_id: &str,
    partner_id: &str,
    period: &str,
    rv_units: i64,
    statement: &Statement,
) -> pb::Statement {
    let rule = plan.min_retail_for_levels_units;
    pb::Statement {
        run_id: run_id.to_owned(),
        partner_id: partner_id.to_owned(),
        period: period.to_owned(),
        paid_as_rank: rank_name(plan, statement.rank),
        active: statement.active,
        lines: statement.lines.iter().map(line_to_proto).collect(),
        payable: format_cents(i128::from(statement.payable_cents)),
        levels_allowed: statement.rank > 0 && (rule == 0 || rv_units >= rule),
    }
}

/// The proto of a partner's rank progress.
pub fn rank_progress_to_proto(
    plan: &Plan,
    request: &pb::GetRankProgressRequest,
    progress: &RankProgress,
) -> pb::RankProgress {
    let (next_rank, requirements) = match &progress.next {
        None => (String::new(), Vec::new()),
        Some(target) => (
            rank_name(plan, target.rank as u8 + 1),
            target.requirements.iter().map(|r| requirement_to_proto(plan, r)).collect(),
        ),
    };
    pb::RankProgress {
        partner_id: request.partner_id.clone(),
        period: request.period.clone(),
        active: progress.active,
        paid_as_rank: rank_name(plan, progress.paid_as),
        next_rank,
        requirements,
        pv: format_units(i128::from(progress.pv_units)),
        gv: format_units(i128::from(progress.gv_units)),
    }
}

fn requirement_to_proto(plan: &Plan, r: &Requirement) -> pb::Requirement {
    let (kind, leg_rank, text): (pb::RequirementKind, String, fn(i128) -> String) = match r.kind {
        RequirementKind::Active => (pb::RequirementKind::Active, String::new(), |v| v.to_string()),
        RequirementKind::MinPv => (pb::RequirementKind::MinPv, String::new(), format_units),
        RequirementKind::MinQualifyingGv => (pb::RequirementKind::MinGv, String::new(), format_scaled),
        RequirementKind::Legs { leg_min_rank } => {
            (pb::RequirementKind::Legs, rank_name(plan, leg_min_rank as u8 + 1), |v| v.to_string())
        }
    };
    pb::Requirement {
        kind: kind as i32,
        leg_rank,
        current: text(r.current),
        required: text(r.required),
        missing: text(r.missing()),
        met: r.met,
    }
}

/// The compliance report's adjustment lines, one per origin period (the
/// map keeps them oldest first).
pub fn adjustment_lines(
    totals: std::collections::BTreeMap<crate::engine::Period, crate::engine::AdjustmentTotals>,
) -> Vec<pb::AdjustmentLine> {
    totals
        .into_iter()
        .map(|(origin, t)| pb::AdjustmentLine {
            origin_period: origin.to_string(),
            order_count: t.order_count,
            volume: format_units(t.volume_units),
            fee_volume: format_units(t.fee_units),
        })
        .collect()
}
