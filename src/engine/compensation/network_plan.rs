//! The versions of the compensation plan a network has used, and the
//! update that makes a new one (re-levelling the open periods when the
//! volume settings change).

use super::plan::{Plan, PlanDraft};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::network::Network;
use crate::engine::period::Period;
use crate::engine::volumes::period_volumes::PeriodVolumes;
use std::sync::Arc;

/// What a commission run's figures depend on besides the genealogy's
/// shape: when any part differs, the run is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Moves and status changes of the whole network.
    pub changes: u64,
    /// Orders recorded in the period.
    pub orders: u64,
    /// The plan version in force.
    pub plan_version: u32,
}

impl Network {
    /// The plan in force.
    pub fn current_plan(&self) -> &Arc<Plan> {
        self.plans.last().expect("a network always has a plan")
    }

    /// How many plan versions there are (the latest is the one in force).
    pub fn plan_count(&self) -> usize {
        self.plans.len()
    }

    /// One version of the plan (0 = the one in force).
    pub fn plan_version(&self, version: u32) -> EngineResult<&Arc<Plan>> {
        if version == 0 {
            return Ok(self.current_plan());
        }
        self.plans
            .get(version as usize - 1)
            .ok_or_else(|| EngineError::not_found_what("version", "plan version", version.to_string()))
    }

    /// Makes `draft` the plan in force as a new version, or refuses it with
    /// every violation. A draft equal to the plan in force changes nothing
    /// (`None`): a retried update never makes two versions. `base_version`,
    /// when not 0, must be the version in force (optimistic concurrency).
    /// Everything under the caller's lock; the app re-ranks off it instead
    /// when it can (`plan_change.rs`).
    pub fn update_plan(&mut self, draft: &PlanDraft, base_version: u32) -> EngineResult<Option<Arc<Plan>>> {
        let Some(next) = self.validate_update(draft, base_version)? else {
            return Ok(None);
        };
        let plan = Arc::new(next);
        self.install_plan(Arc::clone(&plan));
        Ok(Some(plan))
    }

    /// The checks of [`Network::update_plan`]: the next version, or `None`
    /// for a draft equal to the plan in force.
    pub(in crate::engine) fn validate_update(
        &self,
        draft: &PlanDraft,
        base_version: u32,
    ) -> EngineResult<Option<Plan>> {
        let current = self.current_plan();
        let next = draft.validate(current.version + 1).map_err(EngineError::InvalidPlan)?;
        if current.to_draft() == next.to_draft() {
            return Ok(None);
        }
        if base_version != 0 && base_version != current.version {
            return Err(EngineError::precondition(
                "base_version",
                format!("the plan in force is version {}, not {base_version}: read it again", current.version),
            ));
        }
        Ok(Some(next))
    }

    /// Appends a validated plan version (an update, or one loaded at
    /// start-up before the periods are rebuilt) and re-levels the open
    /// periods when levels, compression or min_active_pv changed. The live
    /// ranks of every open period are rebuilt from scratch when the ranks or
    /// the volume settings changed; otherwise (rates, caps) they stay valid.
    pub fn install_plan(&mut self, plan: Arc<Plan>) {
        assert_eq!(plan.version as usize, self.plans.len() + 1, "plan versions are consecutive");
        let relevel = plan.volume != self.plan;
        let rerank = plan.ranks != self.current_plan().ranks;
        self.plan = plan.volume;
        self.plans.push(Arc::clone(&plan));
        let periods: Vec<Period> = self.periods.keys().copied().collect();
        for period in periods {
            if relevel {
                let ranks_plan = Arc::clone(&plan);
                let fresh = PeriodVolumes::new(period, &self.plan, ranks_plan, self.genealogy.len());
                let old = self.periods.insert(period, fresh).expect("listed above");
                let volumes = self.periods.get_mut(&period).expect("inserted above");
                volumes.absolute_units = old.absolute_units;
                volumes.fee_units = old.fee_units;
                volumes.order_count = old.order_count;
                self.relevel_from_scratch(period);
            } else if rerank {
                self.rerank_from_scratch(period);
            } else if let Some(volumes) = self.periods.get_mut(&period) {
                volumes.ranks.keep_for(Arc::clone(&plan));
            }
        }
    }

    /// The moves and status changes so far: the part of a run's
    /// [`Freshness`] that no stored record holds, so the store keeps it
    /// with every write and gives it back at start-up.
    pub fn change_count(&self) -> u64 {
        self.changes
    }

    /// Restores the count of moves and status changes (start-up only).
    pub fn restore_change_count(&mut self, changes: u64) {
        self.changes = changes;
    }

    /// What a run of `period` would depend on now.
    pub fn freshness(&self, period: Period) -> Freshness {
        let orders = self.periods.get(&period).map_or(0, |v| v.order_count());
        Freshness { changes: self.changes, orders, plan_version: self.current_plan().version }
    }
}
