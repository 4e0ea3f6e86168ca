//! The compensation RPCs of `downline loadtest`: GetRankProgress, the
//! mobile app's rank report card.

use super::Bearer;
use crate::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use tonic::transport::Channel;
use tonic::Status;

/// GetRankProgress of a partner in a period.
pub async fn get_rank_progress(
    channel: Channel,
    bearer: &Bearer,
    partner_id: String,
    period: String,
) -> Result<(), Status> {
    let request = pb::GetRankProgressRequest { partner_id, period };
    let mut client = CompensationServiceClient::with_interceptor(channel, bearer.clone());
    client.get_rank_progress(request).await.map(drop)
}
