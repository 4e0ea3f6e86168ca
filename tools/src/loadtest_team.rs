//! The training RPCs of `downline-tools loadtest`: the modules a completion
//! load needs, and the completion request itself.

use crate::bearer::Bearer;
use downline::proto::v1 as pb;
use pb::team_service_client::TeamServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// A TeamService client that sends the load generator's credential.
fn client(channel: Channel, bearer: &Bearer) -> TeamServiceClient<InterceptedService<Channel, Bearer>> {
    TeamServiceClient::with_interceptor(channel, bearer.clone())
}

/// The id of the `k`-th training module the load generator uses.
fn module_id(k: usize) -> String {
    format!("lt-m{k}")
}

/// Creates the modules `lt-m0`.. before a completion load. A repeat answers
/// the stored module, so every run may do it.
pub async fn prepare_modules(channel: Channel, bearer: &Bearer, count: usize) -> Result<(), String> {
    let mut client = client(channel, bearer);
    for k in 0..count {
        let module = pb::TrainingModule {
            module_id: module_id(k),
            title: format!("Load test module {k}"),
            link: format!("https://learn.example/lt-m{k}"),
            prepares_for_rank: String::new(),
        };
        client
            .create_training_module(pb::CreateTrainingModuleRequest { module: Some(module) })
            .await
            .map_err(|s| format!("creating training module {}: {:?}: {}", module_id(k), s.code(), s.message()))?;
    }
    Ok(())
}

/// The RecordTrainingCompletion of request `n`'s module (spread over
/// `modules` by a multiplicative hash of `n`) by a partner, on `completed_on`.
pub fn completion_request(
    partner_id: String,
    n: u64,
    modules: usize,
    completed_on: &str,
) -> pb::RecordTrainingCompletionRequest {
    let k = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % modules.max(1);
    pb::RecordTrainingCompletionRequest { partner_id, module_id: module_id(k), completed_on: completed_on.to_owned() }
}
