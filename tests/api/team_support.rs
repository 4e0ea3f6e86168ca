//! Helpers of the team tests (`team_*`): the generated TeamService client,
//! calls that fail loudly, and the hand-worked network of the team-progress
//! tests (example.md's tree with joining days, orders of 2026-09, three
//! modules and their completions).

use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use std::net::SocketAddr;
use tonic::transport::Channel;
use tonic::{Response, Status};

/// The generated team client.
pub type TeamClient = pb::team_service_client::TeamServiceClient<Channel>;

/// A connected team client.
pub async fn team_client(addr: SocketAddr) -> TeamClient {
    TeamClient::new(channel(addr).await)
}

/// The period of the hand-worked network.
pub const TEAM_PERIOD: &str = "2026-09";

/// AssignMentor with a reason.
pub async fn assign(t: &mut TeamClient, partner: &str, mentor: &str, reason: &str) -> Result<pb::Mentorship, Status> {
    let request =
        pb::AssignMentorRequest { partner_id: partner.into(), mentor_id: mentor.into(), reason: reason.into() };
    t.assign_mentor(request).await.map(Response::into_inner)
}

/// GetMentor.
pub async fn mentor(t: &mut TeamClient, partner: &str) -> Result<pb::Mentorship, Status> {
    t.get_mentor(pb::GetMentorRequest { partner_id: partner.into() }).await.map(Response::into_inner)
}

/// GetMentor as (mentor id, source), or panic.
pub async fn mentor_of(t: &mut TeamClient, partner: &str) -> (String, pb::MentorSource) {
    let m = mentor(t, partner).await.unwrap_or_else(|s| panic!("mentor of {partner}: {s:?}"));
    assert_eq!(m.partner_id, partner);
    (m.mentor_id.clone(), m.source())
}

/// One ListMentees call.
pub async fn mentees_page(
    t: &mut TeamClient,
    id: &str,
    size: i32,
    token: &str,
) -> Result<pb::ListMenteesResponse, Status> {
    let request = pb::ListMenteesRequest { mentor_id: id.into(), page_size: size, page_token: token.into() };
    t.list_mentees(request).await.map(Response::into_inner)
}

/// Every mentee id of a mentor, page after page.
pub async fn mentee_ids(t: &mut TeamClient, id: &str, size: i32) -> Vec<String> {
    let (mut out, mut token) = (Vec::new(), String::new());
    loop {
        let page = mentees_page(t, id, size, &token).await.unwrap_or_else(|s| panic!("mentees of {id}: {s:?}"));
        assert!(size <= 0 || page.mentees.len() <= size as usize);
        out.extend(page.mentees.into_iter().map(|m| {
            assert_eq!(m.mentor_id, id, "a mentee of {id} names another mentor");
            m.partner_id
        }));
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// A training module.
pub fn module(id: &str, title: &str, link: &str, rank: &str) -> pb::TrainingModule {
    pb::TrainingModule { module_id: id.into(), title: title.into(), link: link.into(), prepares_for_rank: rank.into() }
}

/// CreateTrainingModule.
pub async fn create_module(t: &mut TeamClient, m: pb::TrainingModule) -> Result<pb::TrainingModule, Status> {
    t.create_training_module(pb::CreateTrainingModuleRequest { module: Some(m) }).await.map(Response::into_inner)
}

/// UpdateTrainingModule with the mask's paths (none: no mask).
pub async fn update_module(
    t: &mut TeamClient,
    m: pb::TrainingModule,
    paths: Option<&[&str]>,
) -> Result<pb::TrainingModule, Status> {
    let update_mask = paths.map(|p| prost_types::FieldMask { paths: p.iter().map(|s| (*s).to_owned()).collect() });
    let request = pb::UpdateTrainingModuleRequest { module: Some(m), update_mask };
    t.update_training_module(request).await.map(Response::into_inner)
}

/// One ListTrainingModules call.
pub async fn modules_page(
    t: &mut TeamClient,
    size: i32,
    token: &str,
) -> Result<pb::ListTrainingModulesResponse, Status> {
    let request = pb::ListTrainingModulesRequest { page_size: size, page_token: token.into() };
    t.list_training_modules(request).await.map(Response::into_inner)
}

/// Every module, page after page.
pub async fn all_modules(t: &mut TeamClient, size: i32) -> Vec<pb::TrainingModule> {
    let (mut out, mut token) = (Vec::new(), String::new());
    loop {
        let page = modules_page(t, size, &token).await.expect("ListTrainingModules");
        out.extend(page.modules);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// RecordTrainingCompletion.
pub async fn complete(
    t: &mut TeamClient,
    partner: &str,
    module: &str,
    on: &str,
) -> Result<pb::TrainingCompletion, Status> {
    let request = pb::RecordTrainingCompletionRequest {
        partner_id: partner.into(),
        module_id: module.into(),
        completed_on: on.into(),
    };
    t.record_training_completion(request).await.map(Response::into_inner)
}

/// A completion message.
pub fn completion(partner: &str, module: &str, on: &str) -> pb::TrainingCompletion {
    pb::TrainingCompletion { partner_id: partner.into(), module_id: module.into(), completed_on: on.into() }
}

/// One ListTrainingCompletions call.
pub async fn completions_page(
    t: &mut TeamClient,
    partner: &str,
    size: i32,
    token: &str,
) -> Result<pb::ListTrainingCompletionsResponse, Status> {
    let request =
        pb::ListTrainingCompletionsRequest { partner_id: partner.into(), page_size: size, page_token: token.into() };
    t.list_training_completions(request).await.map(Response::into_inner)
}

/// Every completion of a partner, page after page.
pub async fn all_completions(t: &mut TeamClient, partner: &str, size: i32) -> Vec<pb::TrainingCompletion> {
    let (mut out, mut token) = (Vec::new(), String::new());
    loop {
        let page = completions_page(t, partner, size, &token).await.expect("ListTrainingCompletions");
        out.extend(page.completions);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// GetTeamProgress.
pub async fn progress(
    t: &mut TeamClient,
    partner: &str,
    period: &str,
    max_level: u32,
) -> Result<pb::TeamProgress, Status> {
    let request = pb::GetTeamProgressRequest { partner_id: partner.into(), period: period.into(), max_level };
    t.get_team_progress(request).await.map(Response::into_inner)
}

/// The module ids of the hand-worked network, in creation order.
pub const MODULE_IDS: [&str; 3] = ["intro", "retail", "lead"];

/// One level as the API must show it: (partners, active, joined, completions of each module).
pub fn level(number: u32, partners: u64, active: u64, joined: u64, done: [u64; 3]) -> pb::TeamLevel {
    pb::TeamLevel {
        level: number,
        partner_count: partners,
        active_count: active,
        joined_count: joined,
        completions: MODULE_IDS
            .iter()
            .zip(done)
            .map(|(m, c)| pb::ModuleCompletionCount { module_id: (*m).into(), completed_count: c })
            .collect(),
    }
}

/// example.md's tree with these joining days: in 2026-09 joined C, D (the
/// month's first and last day), E, G, J and K; H joined in 2025-09.
pub const TEAM_TREE: [(&str, &str, &str); 12] = [
    ("A", "", "2025-06-01"),
    ("B", "A", "2026-08-31"),
    ("C", "A", "2026-09-01"),
    ("D", "A", "2026-09-30"),
    ("E", "B", "2026-09-15"),
    ("F", "B", "2026-07-10"),
    ("G", "C", "2026-09-02"),
    ("H", "C", "2025-09-20"),
    ("I", "G", "2026-08-01"),
    ("J", "I", "2026-09-29"),
    ("K", "E", "2026-09-03"),
    ("L", "D", "2026-01-11"),
];

/// The completions of the hand-worked network: those after 2026-09-30 do
/// not count in 2026-09.
pub const TEAM_COMPLETIONS: [(&str, &str, &str); 11] = [
    ("B", "intro", "2026-09-05"),
    ("B", "retail", "2026-10-01"),
    ("C", "intro", "2026-09-30"),
    ("E", "intro", "2026-09-20"),
    ("E", "retail", "2026-09-21"),
    ("E", "lead", "2026-09-22"),
    ("G", "lead", "2026-09-10"),
    ("K", "intro", "2026-09-25"),
    ("J", "retail", "2026-10-15"),
    ("A", "intro", "2026-01-01"),
    ("L", "intro", "2026-02-01"),
];

/// A server with the hand-worked network: the tree, example.md's 15 orders
/// in 2026-09, the modules intro, retail and lead, and the completions.
pub async fn team_network() -> (Harness, TeamClient, VolumeClient) {
    let mut h = Harness::new().await;
    for (id, sponsor, joined) in TEAM_TREE {
        let request = pb::CreatePartnerRequest { joined_on: joined.into(), ..row(id, sponsor) };
        h.client.create_partner(request).await.unwrap_or_else(|s| panic!("create {id}: {s:?}"));
    }
    let mut v = volume_client(h.addr).await;
    for o in example_orders(TEAM_PERIOD) {
        record_ok(&mut v, o).await;
    }
    let mut t = team_client(h.addr).await;
    for (id, title) in [("intro", "Welcome"), ("retail", "Serving customers"), ("lead", "Leading a team")] {
        let rank = if id == "lead" { "Silver" } else { "" };
        create_module(&mut t, module(id, title, &format!("https://learn.example/{id}"), rank)).await.expect("module");
    }
    for (partner, module, on) in TEAM_COMPLETIONS {
        complete(&mut t, partner, module, on).await.unwrap_or_else(|s| panic!("{partner} {module}: {s:?}"));
    }
    (h, t, v)
}
