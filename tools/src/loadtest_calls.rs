//! The requests of `downline-tools loadtest`: what request `n` asks for, built
//! once and sent by either client (tonic's typed stubs, or the lean h2
//! client as gRPC frames).

use crate::bearer::Bearer;
use crate::loadtest::Rpc;
use crate::loadtest_h2::frame;
use bytes::Bytes;
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use pb::genealogy_service_client::GenealogyServiceClient;
use pb::team_service_client::TeamServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use tonic::transport::Channel;
use tonic::Status;

/// The actor the load generator names on its writes.
pub const ACTOR: &str = "downline-loadtest";

/// One request's message.
pub enum Call {
    /// GetPartner.
    GetPartner(pb::GetPartnerRequest),
    /// GetUpline.
    GetUpline(pb::GetUplineRequest),
    /// ListDownline.
    ListDownline(pb::ListDownlineRequest),
    /// CreatePartner (sent with the actor header).
    CreatePartner(pb::CreatePartnerRequest),
    /// GetVolumes.
    GetVolumes(pb::GetVolumesRequest),
    /// RecordOrder.
    RecordOrder(pb::RecordOrderRequest),
    /// RecordOrders: the chunks of one stream.
    RecordOrders(Vec<pb::RecordOrdersRequest>),
    /// GetTeamProgress.
    GetTeamProgress(pb::GetTeamProgressRequest),
    /// GetRankProgress.
    GetRankProgress(pb::GetRankProgressRequest),
    /// RecordTrainingCompletion.
    RecordTrainingCompletion(pb::RecordTrainingCompletionRequest),
}

/// What a call needs besides its partner: the settings of the run.
pub struct CallSettings {
    /// The period of volume, team and rank requests, and of orders.
    pub period: String,
    /// The page size of ListDownline.
    pub page_size: i32,
    /// Orders per RecordOrders stream.
    pub batch: usize,
    /// Training modules completions spread over.
    pub modules: usize,
    /// The day completions record.
    pub completed_on: String,
    /// Makes created ids unique across runs.
    pub run_tag: String,
}

impl CallSettings {
    /// Request `n` of `rpc` for `partner_id` (and `sponsor_id`, for
    /// creations); `ids` supplies the partners of RecordOrders batches.
    pub fn call(&self, rpc: Rpc, n: u64, partner_id: String, sponsor_id: String, ids: &[String]) -> Call {
        let period = self.period.clone();
        match rpc {
            Rpc::GetPartner => Call::GetPartner(pb::GetPartnerRequest { partner_id }),
            Rpc::GetUpline => Call::GetUpline(pb::GetUplineRequest { partner_id, max_levels: 0 }),
            Rpc::ListDownline => Call::ListDownline(pb::ListDownlineRequest {
                partner_id,
                max_depth: 0,
                page_size: self.page_size,
                page_token: String::new(),
            }),
            Rpc::CreatePartner => Call::CreatePartner(pb::CreatePartnerRequest {
                partner_id,
                sponsor_id,
                joined_on: "2026-11-28".into(),
                display_name: String::new(),
            }),
            Rpc::GetVolumes => Call::GetVolumes(pb::GetVolumesRequest { partner_id, period }),
            Rpc::RecordOrder => {
                let order = self.order(format!("lt-{}-{n}", self.run_tag), partner_id);
                Call::RecordOrder(pb::RecordOrderRequest { order: Some(order) })
            }
            Rpc::RecordOrders => {
                let orders: Vec<pb::Order> = (0..self.batch)
                    .map(|i| {
                        let partner = ids[(n as usize * 7919 + i * 104_729) % ids.len()].clone();
                        self.order(format!("lt-{}-{n}-{i}", self.run_tag), partner)
                    })
                    .collect();
                Call::RecordOrders(
                    orders.chunks(1000).map(|c| pb::RecordOrdersRequest { orders: c.to_vec() }).collect(),
                )
            }
            Rpc::GetTeamProgress => {
                Call::GetTeamProgress(pb::GetTeamProgressRequest { partner_id, period, max_level: 0 })
            }
            Rpc::GetRankProgress => Call::GetRankProgress(pb::GetRankProgressRequest { partner_id, period }),
            Rpc::RecordTrainingCompletion => Call::RecordTrainingCompletion(crate::loadtest_team::completion_request(
                partner_id,
                n,
                self.modules,
                &self.completed_on,
            )),
        }
    }

    /// A new 12.34 RETAIL order.
    fn order(&self, order_id: String, partner_id: String) -> pb::Order {
        pb::Order {
            order_id,
            partner_id,
            period: self.period.clone(),
            volume: "12.34".into(),
            kind: pb::OrderKind::Retail as i32,
            ..pb::Order::default()
        }
    }
}

impl Call {
    /// The request as one gRPC frame and the actor header it needs, for
    /// the lean client; `None` for a streaming call.
    pub fn frame(&self) -> Option<(Bytes, Option<&'static str>)> {
        Some(match self {
            Call::GetPartner(m) => (frame(m), None),
            Call::GetUpline(m) => (frame(m), None),
            Call::ListDownline(m) => (frame(m), None),
            Call::CreatePartner(m) => (frame(m), Some(ACTOR)),
            Call::GetVolumes(m) => (frame(m), None),
            Call::RecordOrder(m) => (frame(m), None),
            Call::RecordOrders(_) => return None,
            Call::GetTeamProgress(m) => (frame(m), None),
            Call::GetRankProgress(m) => (frame(m), None),
            Call::RecordTrainingCompletion(m) => (frame(m), None),
        })
    }

    /// Sends the call with tonic's typed client and waits for the answer.
    pub async fn send_tonic(self, channel: Channel, bearer: &Bearer) -> Result<(), Status> {
        let b = bearer.clone();
        match self {
            Call::GetPartner(m) => GenealogyServiceClient::with_interceptor(channel, b).get_partner(m).await.map(drop),
            Call::GetUpline(m) => GenealogyServiceClient::with_interceptor(channel, b).get_upline(m).await.map(drop),
            Call::ListDownline(m) => {
                GenealogyServiceClient::with_interceptor(channel, b).list_downline(m).await.map(drop)
            }
            Call::CreatePartner(m) => {
                let mut request = tonic::Request::new(m);
                request.metadata_mut().insert(downline::service::ACTOR_HEADER, ACTOR.parse().expect("ascii"));
                GenealogyServiceClient::with_interceptor(channel, b).create_partner(request).await.map(drop)
            }
            Call::GetVolumes(m) => VolumeServiceClient::with_interceptor(channel, b).get_volumes(m).await.map(drop),
            Call::RecordOrder(m) => VolumeServiceClient::with_interceptor(channel, b).record_order(m).await.map(drop),
            Call::RecordOrders(chunks) => VolumeServiceClient::with_interceptor(channel, b)
                .record_orders(tokio_stream::iter(chunks))
                .await
                .map(drop),
            Call::GetTeamProgress(m) => {
                TeamServiceClient::with_interceptor(channel, b).get_team_progress(m).await.map(drop)
            }
            Call::GetRankProgress(m) => {
                CompensationServiceClient::with_interceptor(channel, b).get_rank_progress(m).await.map(drop)
            }
            Call::RecordTrainingCompletion(m) => {
                TeamServiceClient::with_interceptor(channel, b).record_training_completion(m).await.map(drop)
            }
        }
    }
}
