//! Bulk exports (issue #17): every partner's volumes of a period and every
//! statement of a run, in partner id order (byte order), handed out in
//! batches to a producer thread that the service paces by its client.
//!
//! Nothing is materialised whole: an export keeps a snapshot of the ids
//! (shared chunks, O(chunks)) and their order (4 bytes a partner), and
//! reads each batch under a short read lock (an open period's live
//! figures), from a finished run's immutable result, or from a closed
//! period's frozen figures (in memory or one sled read a partner). An open
//! period's batches see the network as it is when they are read: an export
//! is not one snapshot in time (a run is, and its statements export it).
//! Partners created after the export started are left out.

use super::runs::{RunRef, RunStatement};
use super::{App, AppError, AppResult};
use crate::engine::id_index::IdIndex;
use crate::engine::{EngineError, Network, PartnerIx, PartnerStatus, Period, Plan, VolumePlan, VolumeView};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Partners read under one hold of the read lock: about half a
/// millisecond of an open period's views, so writers barely wait.
pub const EXPORT_BATCH: usize = 512;
/// Exports running at once. Each holds a blocking thread while its client
/// reads, so a few slow clients must not take them all.
pub const MAX_EXPORTS: usize = 4;

/// The turns of the exports (see [`MAX_EXPORTS`]).
pub struct ExportSlots(Arc<Semaphore>);

impl Default for ExportSlots {
    fn default() -> ExportSlots {
        ExportSlots(Arc::new(Semaphore::new(MAX_EXPORTS)))
    }
}

impl ExportSlots {
    /// Exports running now (a test watches a dropped one end).
    pub fn running(&self) -> usize {
        MAX_EXPORTS.saturating_sub(self.0.available_permits())
    }

    /// A turn, or RESOURCE_EXHAUSTED naming `field` when all are taken.
    fn take(&self, field: &'static str) -> AppResult<OwnedSemaphorePermit> {
        Arc::clone(&self.0).try_acquire_owned().map_err(|_| AppError::Busy {
            field,
            message: format!("{MAX_EXPORTS} exports are running, the server's limit: retry when one ends"),
        })
    }
}

/// The partners of an export in id order, read a batch at a time.
struct IdOrder {
    ids: IdIndex,
    /// Sorted on the producer's first batch, off every lock.
    order: Option<Vec<u32>>,
    next: usize,
}

impl IdOrder {
    fn new(ids: IdIndex) -> IdOrder {
        IdOrder { ids, order: None, next: 0 }
    }

    /// The next batch of partner indexes, empty at the end.
    fn batch(&mut self) -> Vec<u32> {
        let ids = &self.ids;
        let order = self.order.get_or_insert_with(|| {
            let len = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            let mut order: Vec<u32> = (0..len).collect();
            // str's order is byte order: the documented order of exports.
            order.sort_unstable_by(|&a, &b| ids.get(a).cmp(ids.get(b)));
            order
        });
        let end = (self.next + EXPORT_BATCH).min(order.len());
        let batch = order[self.next..end].to_vec();
        self.next = end;
        batch
    }

    fn id(&self, x: u32) -> &str {
        self.ids.get(x)
    }
}

/// Where an export's volumes come from.
enum VolumeSource {
    /// An open period: the live figures and ranks.
    Open,
    /// A closed period: the frozen figures and the official run's ranks
    /// (by that run's plan, `None` when it closed without a run).
    Closed(Option<Arc<Plan>>),
}

/// One partner's row of a volume export.
pub struct VolumeRow {
    /// The partner.
    pub partner_id: String,
    /// Its figures, as GetVolumes answers them.
    pub view: VolumeView,
    /// Its paid-as rank code (0: none; `i + 1`: `plan.ranks[i]`).
    pub rank_code: u8,
}

/// A batch of a volume export, with the plans its rows are read by.
pub struct VolumeBatch {
    /// The volume settings (levels, compression) at the export's start.
    pub volume_plan: VolumePlan,
    /// The plan the rank codes name.
    pub rank_plan: Arc<Plan>,
    /// The rows, in id order.
    pub rows: Vec<VolumeRow>,
}

/// A running export of a period's volumes.
pub struct VolumeExport {
    _slot: OwnedSemaphorePermit,
    period: Period,
    volume_plan: VolumePlan,
    source: VolumeSource,
    order: IdOrder,
}

/// A running export of a run's statements.
pub struct StatementExport {
    _slot: OwnedSemaphorePermit,
    run: RunRef,
    order: IdOrder,
}

impl App {
    /// Exports running now: their producers still hold their turns.
    pub fn exports_running(&self) -> usize {
        self.exports.running()
    }

    /// Starts an export of `period`'s volumes: NOT_FOUND (`period`) when
    /// it has no orders, RESOURCE_EXHAUSTED when too many exports run.
    pub fn export_volumes(&self, period: Period) -> AppResult<VolumeExport> {
        let slot = self.exports.take("period")?;
        let net = self.network.read();
        let source = if net.is_closed(period) {
            let plan = match net.official_run(period) {
                Some(run) => Some(Arc::clone(net.plan_version(run.plan_version)?)),
                None => None,
            };
            VolumeSource::Closed(plan)
        } else {
            net.period(period)?;
            VolumeSource::Open
        };
        let order = IdOrder::new(net.genealogy.ids_snapshot());
        Ok(VolumeExport { _slot: slot, period, volume_plan: net.plan, source, order })
    }

    /// Starts an export of a run's statements: NOT_FOUND (`run_id`) for
    /// an unknown run, FAILED_PRECONDITION while it runs or once it failed.
    pub fn export_statements(&self, run_id: &str) -> AppResult<StatementExport> {
        let run = RunRef::find(self, run_id)?;
        run.totals()?;
        let slot = self.exports.take("run_id")?;
        let order = IdOrder::new(self.network.read().genealogy.ids_snapshot());
        Ok(StatementExport { _slot: slot, run, order })
    }
}

impl VolumeExport {
    /// The next batch, `None` at the end.
    pub fn next_batch(&mut self, app: &App) -> AppResult<Option<VolumeBatch>> {
        let batch = self.order.batch();
        if batch.is_empty() {
            return Ok(None);
        }
        let (rank_plan, rows) = match &self.source {
            VolumeSource::Open => {
                let net = app.network.read();
                let ranks = net.period(self.period)?.ranks();
                (Arc::clone(ranks.plan()), self.open_rows(&net, &batch)?)
            }
            VolumeSource::Closed(plan) => {
                let plan = match plan {
                    Some(plan) => Arc::clone(plan),
                    None => Arc::clone(app.network.read().current_plan()),
                };
                (plan, self.closed_rows(app, &batch)?)
            }
        };
        Ok(Some(VolumeBatch { volume_plan: self.volume_plan, rank_plan, rows }))
    }

    /// Live rows; terminated partners are left out (GetVolumes refuses them).
    fn open_rows(&self, net: &Network, batch: &[u32]) -> AppResult<Vec<VolumeRow>> {
        let volumes = net.period(self.period)?;
        let g = &net.genealogy;
        let mut rows = Vec::with_capacity(batch.len());
        for &x in batch {
            debug_assert!((x as usize) < g.len(), "the id snapshot is a prefix of the live ids");
            if g.status_of(PartnerIx::new(x)) == PartnerStatus::Terminated {
                continue;
            }
            let view = volumes.view(g, &net.plan, x);
            let rank_code = volumes.ranks().rank_of(x);
            rows.push(VolumeRow { partner_id: self.order.id(x).to_owned(), view, rank_code });
        }
        Ok(rows)
    }

    /// Frozen rows of the partners that existed at the close.
    fn closed_rows(&self, app: &App, batch: &[u32]) -> AppResult<Vec<VolumeRow>> {
        let mut rows = Vec::with_capacity(batch.len());
        for &x in batch {
            let ix = PartnerIx::new(x);
            let inputs = app.network.read().official_inputs(self.period, ix);
            let found = match inputs {
                Ok(Some(found)) => Some(found),
                Ok(None) => app.store.read_frozen_ranked(self.period, ix)?,
                // Created after the close: not in its figures.
                Err(EngineError::NotFound { .. }) => None,
                Err(err) => return Err(err.into()),
            };
            if let Some((view, entry)) = found {
                let rank_code = entry.saturating_sub(1);
                rows.push(VolumeRow { partner_id: self.order.id(x).to_owned(), view, rank_code });
            }
        }
        Ok(rows)
    }
}

impl StatementExport {
    /// The next batch of statements with their partner ids, `None` at the
    /// end. Partners not in the run are left out.
    pub fn next_batch(&mut self, app: &App) -> AppResult<Option<Vec<(String, RunStatement)>>> {
        let batch = self.order.batch();
        if batch.is_empty() {
            return Ok(None);
        }
        let mut rows = Vec::with_capacity(batch.len());
        for x in batch {
            let partner_id = self.order.id(x);
            match self.run.statement(app, PartnerIx::new(x), partner_id) {
                Ok(statement) => rows.push((partner_id.to_owned(), statement)),
                // Not in the run (GetStatement answers NOT_FOUND too).
                Err(AppError::NotFound(_) | AppError::Engine(EngineError::NotFound { .. })) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(Some(rows))
    }
}
