//! `downline.v1.VolumeService`: orders, live volumes, periods and the
//! recalculation from scratch.

use super::caller::Caller;
use super::convert::{kind_from_proto, order_to_proto, volumes_to_proto};
use super::status;
use super::status::from_engine;
use super::App;
use crate::engine::not_in_closed;
use crate::engine::RunResult;
use crate::engine::{ChangeSet, EngineError, OrderRequest, Period, Recorded, SnapshotMemory, VolumeAnswer};
use crate::proto::v1 as pb;
use pb::volume_service_server::VolumeService;
use std::sync::Arc;
use std::time::Instant;
use tonic::{Request, Response, Status, Streaming};

/// The refused orders listed in a RecordOrders answer (the count is exact).
const MAX_LISTED_REFUSALS: usize = 1000;
/// Orders recorded under one hold of the write lock: bounds how long a bulk
/// stream can keep real-time queries waiting (about 1 ms).
const ORDERS_PER_LOCK: usize = 1024;
/// Recalculations allowed to run at once (each holds a copy of a period).
const MAX_RUNNING_RECALCULATIONS: usize = 2;

/// The service over the shared [`App`].
pub struct VolumeApi {
    app: Arc<App>,
    closing: Arc<tokio::sync::Mutex<()>>,
}

impl VolumeApi {
    /// The service of a server.
    pub fn new(app: Arc<App>) -> VolumeApi {
        VolumeApi { app, closing: Arc::default() }
    }
}

/// Checks the shape of a proto order; the engine checks the rest.
fn order_request(order: Option<pb::Order>) -> Result<OrderRequest, EngineError> {
    let o = order.ok_or_else(|| EngineError::invalid("order", "is missing"))?;
    let kind = kind_from_proto(o.kind)
        .ok_or_else(|| EngineError::invalid("kind", format!("{} is not RETAIL, SELF or FEE", o.kind)))?;
    Ok(OrderRequest { order_id: o.order_id, partner_id: o.partner_id, period: o.period, volume: o.volume, kind })
}

fn order_change(recorded: Recorded) -> Option<ChangeSet> {
    match recorded {
        Recorded::New(ix) => Some(ChangeSet { orders: ix..ix + 1, ..ChangeSet::default() }),
        Recorded::Repeated(_) => None,
    }
}

#[tonic::async_trait]
impl VolumeService for VolumeApi {
    async fn record_order(&self, request: Request<pb::RecordOrderRequest>) -> Result<Response<pb::Order>, Status> {
        let order = order_request(request.into_inner().order)?;
        let stored = self
            .app
            .write(move |net| {
                let (order, recorded) = net.record_order(&order)?;
                Ok((order_to_proto(&net.genealogy, &order), order_change(recorded)))
            })
            .await?;
        Ok(Response::new(stored))
    }

    async fn record_orders(
        &self,
        request: Request<Streaming<pb::RecordOrdersRequest>>,
    ) -> Result<Response<pb::RecordOrdersResponse>, Status> {
        let mut stream = request.into_inner();
        let mut answer = pb::RecordOrdersResponse::default();
        let mut position = 0u64;
        let mut last_ticket = None;
        while let Some(chunk) = stream.message().await? {
            let mut orders = chunk.orders;
            while !orders.is_empty() {
                let rest = orders.split_off(orders.len().min(ORDERS_PER_LOCK));
                let part = std::mem::replace(&mut orders, rest);
                let first_position = position + 1;
                position += part.len() as u64;
                let (tally, ticket) =
                    self.app.write_staged(move |net| Ok(record_chunk(net, part, first_position))).await?;
                // Even a chunk of repeats waits for the newest ticket: a retry
                // is never acknowledged before its original is durable.
                tally.record(&mut answer);
                last_ticket = Some(ticket);
            }
        }
        if let Some(ticket) = last_ticket {
            self.app.store.wait_durable(ticket).await.map_err(super::status::from_store)?;
        }
        tracing::info!(
            recorded = answer.recorded_count,
            repeated = answer.repeated_count,
            refused = answer.refused_count,
            "orders recorded"
        );
        Ok(Response::new(answer))
    }

    async fn get_volumes(&self, request: Request<pb::GetVolumesRequest>) -> Result<Response<pb::Volumes>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let (answer, plan) = self.app.read(|net| {
            caller.check(&net.genealogy, "partner_id", &r.partner_id)?;
            Ok((net.volume_answer(&r.partner_id, &r.period)?, net.plan))
        })?;
        let view = match answer {
            VolumeAnswer::Live(view) | VolumeAnswer::Frozen(view) => view,
            VolumeAnswer::OnDisk { period, partner } => {
                // A closed period's figures are one small sled read away.
                let app = Arc::clone(&self.app);
                tokio::task::spawn_blocking(move || app.store.read_frozen(period, partner))
                    .await
                    .map_err(super::status::from_join)?
                    .map_err(super::status::from_store)?
                    .ok_or_else(|| from_engine(not_in_closed(&r.partner_id, period)))?
            }
        };
        Ok(Response::new(volumes_to_proto(&r.partner_id, &r.period, &plan, &view)))
    }

    async fn list_periods(
        &self,
        _: Request<pb::ListPeriodsRequest>,
    ) -> Result<Response<pb::ListPeriodsResponse>, Status> {
        let periods = self.app.read(|net| {
            Ok(net
                .periods()
                .into_iter()
                .map(|(period, closed, order_count)| pb::PeriodSummary {
                    period: period.to_string(),
                    closed,
                    order_count,
                })
                .collect())
        })?;
        Ok(Response::new(pb::ListPeriodsResponse { periods }))
    }

    async fn close_period(
        &self,
        request: Request<pb::ClosePeriodRequest>,
    ) -> Result<Response<pb::PeriodSummary>, Status> {
        let period = Period::parse("period", &request.into_inner().period)?;
        let (app, closing) = (Arc::clone(&self.app), Arc::clone(&self.closing));
        // A task of its own runs the close to its end even when the caller
        // goes away or the request times out: cut between the freeze in
        // memory and the durable summary, the period would be closed in
        // memory but open on disk, and a retry would answer OK at once.
        let task = async move { close_period(&app, &closing, period).await };
        let summary =
            tokio::spawn(tracing::Instrument::in_current_span(task)).await.map_err(super::status::from_join)??;
        Ok(Response::new(summary))
    }

    async fn recalculate_volumes(
        &self,
        request: Request<pb::RecalculateVolumesRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let period = Period::parse("period", &request.into_inner().period)?;
        self.app.read(|net| Ok(net.period(period).map(|_| ())?))?;
        let op = self
            .app
            .operations
            .start_limited("recalculate", &period.to_string(), MAX_RUNNING_RECALCULATIONS)
            .ok_or_else(|| {
                status::exhausted(
                    "period",
                    format!("{MAX_RUNNING_RECALCULATIONS} recalculations are running; wait for one to finish"),
                )
            })?;
        let (app, state) = (Arc::clone(&self.app), Arc::clone(&op));
        rayon::spawn(move || run_recalculation(&app, &state, period));
        Ok(Response::new(op.to_proto()))
    }
}

/// The run a period would close with: its latest successful run that is
/// not a dry run. FAILED_PRECONDITION while such a run still computes.
fn official_candidate(app: &App, period: Period) -> Result<Option<(String, Arc<RunResult>)>, Status> {
    if let Some(running) = app.runs.latest(period, |r| !r.dry_run && r.is_running()) {
        return Err(status::failed_precondition(
            "period",
            format!("commission run '{}' of {period} is still running; close when it is done", running.id),
        ));
    }
    let latest = app.runs.latest(period, |r| !r.dry_run && r.result().is_some());
    Ok(latest.and_then(|r| r.result().map(|result| (r.id.clone(), result))))
}

/// What one chunk of a stream did.
struct ChunkTally {
    recorded: u64,
    repeated: u64,
    refused: Vec<pb::RefusedOrder>,
}

impl ChunkTally {
    /// Adds the chunk to the answer.
    fn record(self, answer: &mut pb::RecordOrdersResponse) {
        answer.recorded_count += self.recorded;
        answer.repeated_count += self.repeated;
        answer.refused_count += self.refused.len() as u64;
        let room = MAX_LISTED_REFUSALS.saturating_sub(answer.refused.len());
        answer.refused.extend(self.refused.into_iter().take(room));
    }
}

/// Records one chunk of a stream under one lock; refusals keep their position.
fn record_chunk(
    net: &mut crate::engine::Network,
    orders: Vec<pb::Order>,
    first_position: u64,
) -> (ChunkTally, Option<ChangeSet>) {
    let (mut recorded, mut repeated, mut refused) = (0u64, 0u64, Vec::new());
    let start = net.orders.len() as u32;
    for (i, order) in orders.into_iter().enumerate() {
        let order_id = order.order_id.clone();
        match order_request(Some(order)).and_then(|r| net.record_order(&r)) {
            Ok((_, Recorded::New(_))) => recorded += 1,
            Ok((_, Recorded::Repeated(_))) => repeated += 1,
            Err(err) => {
                let status = from_engine(err);
                refused.push(pb::RefusedOrder {
                    position: first_position + i as u64,
                    order_id,
                    code: status.code() as i32,
                    message: status.message().to_owned(),
                });
            }
        }
    }
    let end = net.orders.len() as u32;
    let change = (end > start).then(|| ChangeSet { orders: start..end, ..ChangeSet::default() });
    (ChunkTally { recorded, repeated, refused }, change)
}

/// The body of a recalculation operation, on a rayon thread.
fn run_recalculation(app: &App, op: &super::operations::OperationState, period: Period) {
    op.set_phase("snapshot");
    // The snapshot's memory is faulted in before the lock: writes wait only
    // for the snapshot itself (engine/snapshot_memory.rs says why).
    let started = Instant::now();
    let size = app.network.read().recalc_memory_size(period);
    let memory = size.map(|(partners, levels)| SnapshotMemory::prefaulted(partners, levels));
    let prepare_ms = started.elapsed().as_millis() as u64;
    let reserved_mib = memory.as_ref().map_or(0, |m| m.reserved_bytes() >> 20);
    let locked = Instant::now();
    let snapshot = memory.and_then(|memory| app.network.read().recalc_snapshot_with(period, memory));
    let snapshot_ms = locked.elapsed().as_millis() as u64;
    let result = match snapshot {
        Err(err) => {
            let status = from_engine(err);
            pb::operation::Result::Error(pb::OperationError {
                code: status.code() as i32,
                message: status.message().to_owned(),
            })
        }
        Ok(snapshot) => {
            op.total.store(snapshot.partners() as u64, std::sync::atomic::Ordering::Release);
            op.set_phase("rollup");
            let report = snapshot.run(&op.done);
            let [rollup_ms, ranks_ms, compare_ms] =
                [report.rollup, report.ranks, report.compare].map(|elapsed| elapsed.as_millis() as u64);
            if report.differences > 0 {
                tracing::error!(%period, differences = report.differences, first = ?report.first_difference, "live volumes differ from the recalculation");
            }
            tracing::info!(%period, partners = report.partners, reserved_mib, prepare_ms, snapshot_ms, rollup_ms, ranks_ms, compare_ms, differences = report.differences, "recalculation done");
            pb::operation::Result::Recalculation(pb::RecalculationResult {
                period: period.to_string(),
                partner_count: report.partners,
                difference_count: report.differences,
                first_difference: report.first_difference.unwrap_or_default(),
                rollup_ms,
                snapshot_ms,
                compare_ms,
                ranks_ms,
                prepare_ms,
            })
        }
    };
    op.finish(result);
}

/// Closes a period and answers once the close is durable. One close at a
/// time: a second close of the same period waits until the first is
/// durable before it answers.
async fn close_period(
    app: &Arc<App>,
    closing: &tokio::sync::Mutex<()>,
    period: Period,
) -> Result<pb::PeriodSummary, Status> {
    let _closing = closing.lock().await;
    let official = official_candidate(app, period)?;
    let closed = app
        .write(move |net| {
            let official = official.as_ref().map(|(id, run)| (id.as_str(), run.as_ref()));
            Ok((net.close_period(period, official)?, None))
        })
        .await?;
    if let Some((frozen, official)) = closed {
        let store_app = Arc::clone(app);
        let (count, fees) = app.read(|net| Ok(net.closed_totals(period)))?;
        let ticket = tokio::task::spawn_blocking(move || {
            store_app.store.write_frozen(&frozen)?;
            store_app.store.stage_closed(period, count, fees, official.as_deref())
        })
        .await
        .map_err(super::status::from_join)?
        .map_err(super::status::from_store)?;
        app.store.wait_durable(ticket).await.map_err(super::status::from_store)?;
        app.network.write().frozen_on_disk(period);
        tracing::info!(%period, orders = count, "period closed");
    }
    let order_count = app.read(|net| Ok(net.closed_totals(period).0))?;
    Ok(pb::PeriodSummary { period: period.to_string(), closed: true, order_count })
}
