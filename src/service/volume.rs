//! `downline.v1.VolumeService`: orders, live volumes, periods and the
//! recalculation from scratch.

use super::caller::Caller;
use super::convert::{kind_from_proto, order_to_proto, volumes_to_proto};
use super::export::ExportStream;
use super::operations::operation_to_proto;
use super::status::from_engine;
use super::App;
use crate::engine::not_in_closed;
use crate::engine::{ChangeSet, EngineError, OrderRequest, Period, Recorded, VolumeAnswer};
use crate::proto::v1 as pb;
use pb::volume_service_server::VolumeService;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

/// The refused orders listed in a RecordOrders answer (the count is exact).
const MAX_LISTED_REFUSALS: usize = 1000;
/// Orders recorded under one hold of the write lock: bounds how long a bulk
/// stream can keep real-time queries waiting (about 1 ms).
const ORDERS_PER_LOCK: usize = 1024;

/// The service over the shared [`App`].
pub struct VolumeApi {
    app: Arc<App>,
}

impl VolumeApi {
    /// The service of a server.
    pub fn new(app: Arc<App>) -> VolumeApi {
        VolumeApi { app }
    }
}

/// Checks the shape of a proto order; the engine checks the rest.
fn order_request(order: Option<pb::Order>) -> Result<OrderRequest, EngineError> {
    let o = order.ok_or_else(|| EngineError::invalid("order", "is missing"))?;
    let kind = kind_from_proto(o.kind)
        .ok_or_else(|| EngineError::invalid("kind", format!("{} is not RETAIL, SELF or FEE", o.kind)))?;
    let book_into_period = match (o.adjusts_closed_period, o.book_into_period.is_empty()) {
        (true, false) => Some(o.book_into_period),
        (true, true) => {
            return Err(EngineError::invalid("book_into_period", "is required with adjusts_closed_period"));
        }
        (false, true) => None,
        (false, false) => {
            return Err(EngineError::invalid("book_into_period", "is only allowed with adjusts_closed_period"));
        }
    };
    Ok(OrderRequest {
        order_id: o.order_id,
        partner_id: o.partner_id,
        period: o.period,
        volume: o.volume,
        kind,
        book_into_period,
    })
}

/// An error about a field of RecordOrder's `order`, named by its request
/// path (`order.volume`); a missing order is `order` itself.
fn in_order(err: EngineError) -> EngineError {
    if err.field() == Some("order") {
        err
    } else {
        err.within("order")
    }
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
        let order = order_request(request.into_inner().order).map_err(in_order)?;
        let stored = self
            .app
            .write(move |net| {
                let (order, recorded) = net.record_order(&order).map_err(in_order)?;
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
            self.app.wait_durable(ticket).await?;
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
            Ok::<_, Status>((net.volume_answer(&r.partner_id, &r.period)?, net.plan))
        })?;
        let view = match answer {
            VolumeAnswer::Live(view) | VolumeAnswer::Frozen(view) => view,
            VolumeAnswer::OnDisk { period, ix } => {
                // A closed period's figures are one small sled read away.
                let frozen = self.app.read_frozen(period, ix).await?;
                frozen.ok_or_else(|| from_engine(not_in_closed(&r.partner_id, period)))?
            }
        };
        Ok(Response::new(volumes_to_proto(&r.partner_id, &r.period, &plan, &view)))
    }

    async fn list_periods(
        &self,
        _: Request<pb::ListPeriodsRequest>,
    ) -> Result<Response<pb::ListPeriodsResponse>, Status> {
        let periods = self.app.read(|net| {
            Ok::<_, Status>(
                net.periods()
                    .into_iter()
                    .map(|(period, closed, order_count)| pb::PeriodSummary {
                        period: period.to_string(),
                        closed,
                        order_count,
                    })
                    .collect(),
            )
        })?;
        Ok(Response::new(pb::ListPeriodsResponse { periods }))
    }

    async fn close_period(
        &self,
        request: Request<pb::ClosePeriodRequest>,
    ) -> Result<Response<pb::PeriodSummary>, Status> {
        let period = Period::parse("period", &request.into_inner().period)?;
        // The application runs the close to its end in a task of its own.
        let order_count = self.app.close_period(period).await?;
        Ok(Response::new(pb::PeriodSummary { period: period.to_string(), closed: true, order_count }))
    }

    async fn recalculate_volumes(
        &self,
        request: Request<pb::RecalculateVolumesRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let period = Period::parse("period", &request.into_inner().period)?;
        let job = self.app.start_recalculation(period)?;
        Ok(Response::new(operation_to_proto(&job)))
    }

    type ExportVolumesStream = ExportStream<pb::ExportVolumesResponse>;

    async fn export_volumes(
        &self,
        request: Request<pb::ExportVolumesRequest>,
    ) -> Result<Response<Self::ExportVolumesStream>, Status> {
        let period = Period::parse("period", &request.into_inner().period)?;
        let export = self.app.export_volumes(period)?;
        Ok(Response::new(super::export::volumes(&self.app, export, period.to_string())))
    }
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
