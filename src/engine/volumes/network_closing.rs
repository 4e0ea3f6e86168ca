//! Closing a period on the whole [`Network`], and the closed periods'
//! figures: the totals, the official run, and the frozen figures until the
//! store has them on disk.

use super::closed_period::{ClosedPeriod, FrozenPeriod, OfficialRun};
use crate::engine::compensation::commission_run::RunResult;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::network::Network;
use crate::engine::period::Period;
use std::sync::Arc;

/// What a close hands to the store: the frozen figures and the official run.
pub type Closing = (Arc<FrozenPeriod>, Option<Arc<OfficialRun>>);

impl Network {
    /// Closes a period: it takes no more orders and its figures freeze,
    /// with `official` (the latest run that was not a dry run, with its id)
    /// as the official run. A stale official run is FAILED_PRECONDITION:
    /// its figures would not be the frozen ones. Returns the frozen figures
    /// and the official run for the store, or `None` when the period was
    /// already closed (nothing changes).
    pub fn close_period(
        &mut self,
        period: Period,
        official: Option<(&str, &RunResult)>,
    ) -> EngineResult<Option<Closing>> {
        if self.closed.contains_key(&period) {
            return Ok(None);
        }
        if !self.periods.contains_key(&period) {
            return Err(EngineError::not_found_what("period", "period with orders", period.to_string()));
        }
        if let Some((run_id, run)) = official {
            if run.freshness != self.freshness(period) {
                return Err(EngineError::precondition(
                    "period",
                    format!(
                        "run '{run_id}' of {period} is stale (orders, moves, status changes or the plan changed \
                         since): start a new run, then close"
                    ),
                ));
            }
        }
        let volumes = self.periods.remove(&period).expect("checked above");
        let (order_count, fee_units) = volumes.totals();
        let ranks = official.map(|(_, run)| run.ranks_by_partner()).unwrap_or_default();
        let frozen = Arc::new(FrozenPeriod::freeze(volumes, &self.genealogy, &self.plan, ranks));
        let official = official.map(|(run_id, run)| {
            Arc::new(OfficialRun {
                run_id: run_id.to_owned(),
                plan_version: run.plan.version,
                totals: run.totals.clone(),
                duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
            })
        });
        let closed =
            ClosedPeriod { order_count, fee_units, frozen: Some(Arc::clone(&frozen)), official: official.clone() };
        self.closed.insert(period, closed);
        Ok(Some((frozen, official)))
    }

    /// The closed period whose official run has an id.
    pub fn official_by_id(&self, run_id: &str) -> Option<(Period, &Arc<OfficialRun>)> {
        self.closed.iter().find_map(|(&p, c)| c.official.as_ref().filter(|o| o.run_id == run_id).map(|o| (p, o)))
    }

    /// The official run of a closed period, if it closed with one.
    pub fn official_run(&self, period: Period) -> Option<&Arc<OfficialRun>> {
        self.closed.get(&period).and_then(|c| c.official.as_ref())
    }

    /// Orders and fee total of a closed period ((0, 0) when it is not closed).
    pub fn closed_totals(&self, period: Period) -> (u64, i128) {
        self.closed.get(&period).map_or((0, 0), |c| (c.order_count, c.fee_units))
    }

    /// Forgets the in-memory figures of a closed period once the store has
    /// them on disk.
    pub fn frozen_on_disk(&mut self, period: Period) {
        if let Some(closed) = self.closed.get_mut(&period) {
            closed.frozen = None;
        }
    }

    /// Registers a closed period loaded from the store.
    pub fn add_closed(&mut self, period: Period, order_count: u64, fee_units: i128, official: Option<OfficialRun>) {
        self.periods.remove(&period);
        let official = official.map(Arc::new);
        self.closed.insert(period, ClosedPeriod { order_count, fee_units, frozen: None, official });
    }
}
