//! Plan versions and official commission runs on disk.
//!
//! Every plan version is kept under `m:plan:` + version (a run records the
//! version it used, so old versions stay readable). An official run's
//! totals ride in its closed period's summary and every partner's rank in
//! the frozen figures, so a close stays one durable step.

use super::keys;
use super::records::{OfficialRunRecord, PlanRecord, RankRecord};
use super::tap::Batch;
use super::StoreError;
use crate::engine::PayoutFactor;
use crate::engine::{KindTotals, PartnerIx, RunTotals};
use crate::engine::{Network, OfficialRun, Plan, PlanDraft, RankDraft};
use prost::Message;
use std::sync::Arc;

/// Adds a new plan version to a change's batch (see [`Store::stage`]).
pub(super) fn add_plan(batch: &mut Batch, plan: &Plan) {
    batch.insert(keys::plan(plan.version), plan_record(&plan.to_draft()).encode_to_vec());
}

fn plan_record(d: &PlanDraft) -> PlanRecord {
    PlanRecord {
        levels: d.levels,
        level_rates: d.level_rates.clone(),
        compression: d.compression,
        min_active_pv: d.min_active_pv.clone(),
        retail_rate: d.retail_rate.clone(),
        min_retail_for_levels: d.min_retail_for_levels.clone(),
        partner_cap: d.partner_cap.clone(),
        payout_cap: d.payout_cap.clone(),
        ranks: d
            .ranks
            .iter()
            .map(|r| RankRecord {
                name: r.name.clone(),
                min_pv: r.min_pv.clone(),
                min_gv: r.min_gv.clone(),
                max_leg_share: r.max_leg_share.clone(),
                min_legs: r.min_legs,
                leg_min_rank: r.leg_min_rank.clone(),
                paid_levels: r.paid_levels,
            })
            .collect(),
    }
}

fn plan_draft(r: PlanRecord) -> PlanDraft {
    PlanDraft {
        levels: r.levels,
        level_rates: r.level_rates,
        compression: r.compression,
        min_active_pv: r.min_active_pv,
        retail_rate: r.retail_rate,
        min_retail_for_levels: r.min_retail_for_levels,
        partner_cap: r.partner_cap,
        payout_cap: r.payout_cap,
        ranks: r
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

/// Installs the stored plan versions, oldest first (before the periods
/// are rebuilt, so they are levelled by the plan in force); returns the
/// last stored version (0: none).
pub(super) fn load_plans(db: &sled::Db, net: &mut Network) -> Result<u64, StoreError> {
    let mut last = 0;
    for entry in db.scan_prefix(keys::META_PLAN) {
        let (key, value) = entry?;
        let version = keys::plan_version(&key).ok_or_else(|| StoreError::Corrupt("bad plan key".into()))?;
        let record =
            PlanRecord::decode(value.as_ref()).map_err(|e| StoreError::Corrupt(format!("plan {version}: {e}")))?;
        let plan = plan_draft(record)
            .validate_stored(version)
            .map_err(|v| StoreError::Corrupt(format!("plan {version} no longer validates: {v:?}")))?;
        if version as usize != net.plan_count() + 1 {
            return Err(StoreError::Corrupt(format!("plan {version} follows a gap")));
        }
        net.install_plan(Arc::new(plan));
        last = u64::from(version);
    }
    Ok(last)
}

/// The stored form of an official run.
pub(super) fn official_record(run: &OfficialRun) -> OfficialRunRecord {
    let t = &run.totals;
    let (numerator, denominator) =
        t.factor.map_or((String::new(), String::new()), |f| (f.numerator.to_string(), f.denominator.to_string()));
    OfficialRunRecord {
        run_id: run.run_id.clone(),
        plan_version: run.plan_version,
        partners: t.partners,
        v_units: t.v_units.to_string(),
        t_scaled: t.t_scaled.to_string(),
        factor_numerator: numerator,
        factor_denominator: denominator,
        payable_cents: t.payable_cents.to_string(),
        breakage_scaled: t.breakage_scaled.to_string(),
        per_rank: t.per_rank.clone(),
        levels_without_retail: t.levels_without_retail,
        levels_without_retail_listed: t.levels_without_retail_listed.iter().map(|ix| ix.get()).collect(),
        retail_units: t.kinds.retail_units.to_string(),
        self_units: t.kinds.self_units.to_string(),
        fee_units: t.kinds.fee_units.to_string(),
        duration_ms: run.duration_ms,
    }
}

/// An official run read back.
pub(super) fn official_run(r: OfficialRunRecord) -> Result<OfficialRun, StoreError> {
    let int = |field: &str, text: &str| -> Result<i128, StoreError> {
        text.parse().map_err(|_| StoreError::Corrupt(format!("official run {}: bad {field} '{text}'", r.run_id)))
    };
    let factor = if r.factor_numerator.is_empty() {
        None
    } else {
        Some(PayoutFactor {
            numerator: int("factor_numerator", &r.factor_numerator)?,
            denominator: int("factor_denominator", &r.factor_denominator)?,
        })
    };
    let totals = RunTotals {
        partners: r.partners,
        v_units: int("v_units", &r.v_units)?,
        t_scaled: int("t_scaled", &r.t_scaled)?,
        factor,
        payable_cents: int("payable_cents", &r.payable_cents)?,
        breakage_scaled: int("breakage_scaled", &r.breakage_scaled)?,
        per_rank: r.per_rank.clone(),
        levels_without_retail: r.levels_without_retail,
        levels_without_retail_listed: r.levels_without_retail_listed.iter().copied().map(PartnerIx::new).collect(),
        kinds: KindTotals {
            retail_units: int("retail_units", &r.retail_units)?,
            self_units: int("self_units", &r.self_units)?,
            fee_units: int("fee_units", &r.fee_units)?,
        },
    };
    Ok(OfficialRun { run_id: r.run_id, plan_version: r.plan_version, totals, duration_ms: r.duration_ms })
}
