//! The partner-readable RPCs of the access matrix, one call each about a
//! partner id, answering the partner ids the answer shows; and the data
//! those reads need beyond the tree (a training completion, a real
//! commission run of the period).

use crate::auth_support::authed;
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use pb::genealogy_service_client::GenealogyServiceClient;
use pb::team_service_client::TeamServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use tonic::transport::Channel;
use tonic::Status;

/// Every method a partner token may call: `auth_table` checks that this is
/// exactly the table's list, so a new one cannot miss the matrix.
pub const PARTNER_READS: [&str; 11] = [
    "/downline.v1.GenealogyService/GetPartner",
    "/downline.v1.GenealogyService/ListDownline",
    "/downline.v1.GenealogyService/GetUpline",
    "/downline.v1.GenealogyService/ListGenealogyEvents",
    "/downline.v1.VolumeService/GetVolumes",
    "/downline.v1.CompensationService/GetRankProgress",
    "/downline.v1.CompensationService/GetStatement",
    "/downline.v1.CompensationService/ExplainLevel",
    "/downline.v1.TeamService/ListMentees",
    "/downline.v1.TeamService/ListTrainingCompletions",
    "/downline.v1.TeamService/GetTeamProgress",
];

/// The period the matrix's orders, run and progress are of.
pub const PERIOD: &str = "2026-11";

/// Records a completion of a module by `partner` and runs the period's
/// commissions (not a dry run), as the admin.
pub async fn prepare_reads(channel: &Channel, admin: &str, partner: &str) {
    let mut t = TeamServiceClient::new(channel.clone());
    let module = pb::TrainingModule {
        module_id: "intro".into(),
        title: "Welcome".into(),
        link: "https://learn.example/intro".into(),
        prepares_for_rank: String::new(),
    };
    t.create_training_module(authed(pb::CreateTrainingModuleRequest { module: Some(module) }, admin))
        .await
        .expect("a module");
    let done = pb::RecordTrainingCompletionRequest {
        partner_id: partner.into(),
        module_id: "intro".into(),
        completed_on: "2026-11-20".into(),
    };
    t.record_training_completion(authed(done, admin)).await.expect("a completion");
    let mut c = CompensationServiceClient::new(channel.clone());
    let start = pb::StartCommissionRunRequest { period: PERIOD.into(), dry_run: false };
    let run_id = c.start_commission_run(authed(start, admin)).await.expect("a run").into_inner().run_id;
    for _ in 0..2000 {
        let get = pb::GetCommissionRunRequest { run_id: run_id.clone() };
        let run = c.get_commission_run(authed(get, admin)).await.expect("the run").into_inner();
        if run.state != pb::RunState::Running as i32 {
            assert_eq!(run.state, pb::RunState::Succeeded as i32, "{run:?}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("run {run_id} does not finish");
}

/// Calls one partner-readable RPC about `id`; answers the ids it shows.
pub async fn read(channel: &Channel, rpc: &str, id: &str, token: &str) -> Result<Vec<String>, Status> {
    let partner_id = id.to_owned();
    let name = rpc.rsplit('/').next().expect("a method");
    match name {
        "GetPartner" | "ListDownline" | "GetUpline" | "ListGenealogyEvents" => {
            genealogy_read(channel, name, partner_id, token).await
        }
        "GetVolumes" => {
            let mut v = VolumeServiceClient::new(channel.clone());
            let request = pb::GetVolumesRequest { partner_id, period: PERIOD.into() };
            Ok(vec![v.get_volumes(authed(request, token)).await?.into_inner().partner_id])
        }
        "GetRankProgress" | "GetStatement" | "ExplainLevel" => {
            compensation_read(channel, name, partner_id, token).await
        }
        _ => team_read(channel, name, partner_id, token).await,
    }
}

async fn genealogy_read(channel: &Channel, name: &str, partner_id: String, token: &str) -> Result<Vec<String>, Status> {
    let mut g = GenealogyServiceClient::new(channel.clone());
    Ok(match name {
        "GetPartner" => {
            vec![g.get_partner(authed(pb::GetPartnerRequest { partner_id }, token)).await?.into_inner().partner_id]
        }
        "ListDownline" => {
            let request = pb::ListDownlineRequest { partner_id, max_depth: 0, page_size: 0, page_token: String::new() };
            let page = g.list_downline(authed(request, token)).await?.into_inner();
            page.members.into_iter().map(|m| m.partner.expect("a partner").partner_id).collect()
        }
        "GetUpline" => {
            let page = g.get_upline(authed(pb::GetUplineRequest { partner_id, max_levels: 0 }, token)).await?;
            page.into_inner().members.into_iter().map(|m| m.partner.expect("a partner").partner_id).collect()
        }
        _ => {
            let request = pb::ListGenealogyEventsRequest { partner_id, page_size: 0, page_token: String::new() };
            let page = g.list_genealogy_events(authed(request, token)).await?.into_inner();
            let mut shown = Vec::new();
            for e in page.events {
                // The actor counts as shown: a partner must see none.
                let fields = [e.partner_id, e.old_sponsor_id, e.new_sponsor_id, e.actor];
                shown.extend(fields.into_iter().filter(|s| !s.is_empty()));
            }
            shown
        }
    })
}

async fn compensation_read(
    channel: &Channel,
    name: &str,
    partner_id: String,
    token: &str,
) -> Result<Vec<String>, Status> {
    let mut c = CompensationServiceClient::new(channel.clone());
    let period = PERIOD.to_owned();
    Ok(match name {
        "GetRankProgress" => {
            let request = pb::GetRankProgressRequest { partner_id, period };
            vec![c.get_rank_progress(authed(request, token)).await?.into_inner().partner_id]
        }
        "GetStatement" => {
            let request = pb::GetStatementRequest { partner_id, run_id: String::new(), period };
            vec![c.get_statement(authed(request, token)).await?.into_inner().partner_id]
        }
        _ => {
            let mut shown = Vec::new();
            for level in 1..=3 {
                let request = pb::ExplainLevelRequest {
                    partner_id: partner_id.clone(),
                    period: period.clone(),
                    level,
                    ..Default::default()
                };
                let page = c.explain_level(authed(request, token)).await?.into_inner();
                shown.extend(page.entries.into_iter().map(|e| e.partner_id));
            }
            shown
        }
    })
}

async fn team_read(channel: &Channel, name: &str, partner_id: String, token: &str) -> Result<Vec<String>, Status> {
    let mut t = TeamServiceClient::new(channel.clone());
    Ok(match name {
        "ListMentees" => {
            let request = pb::ListMenteesRequest { mentor_id: partner_id, page_size: 0, page_token: String::new() };
            let page = t.list_mentees(authed(request, token)).await?.into_inner();
            let mut shown = Vec::new();
            for m in page.mentees {
                // Who assigned counts as shown: a partner must see no actor.
                shown.extend([m.partner_id, m.mentor_id, m.assigned_by].into_iter().filter(|s| !s.is_empty()));
            }
            shown
        }
        "ListTrainingCompletions" => {
            let request = pb::ListTrainingCompletionsRequest { partner_id, page_size: 0, page_token: String::new() };
            let page = t.list_training_completions(authed(request, token)).await?.into_inner();
            page.completions.into_iter().map(|c| c.partner_id).collect()
        }
        "GetTeamProgress" => {
            let request = pb::GetTeamProgressRequest { partner_id, period: PERIOD.into(), max_level: 0 };
            vec![t.get_team_progress(authed(request, token)).await?.into_inner().partner_id]
        }
        other => panic!("{other} is partner-readable but not in the matrix"),
    })
}
