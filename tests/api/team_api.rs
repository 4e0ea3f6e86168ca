//! `downline.v1.TeamService` through a real server: every RPC's answers.
//!
//! What it proves: mentors default to the sponsor (roots have none),
//! AssignMentor records who, when and why, a repeat changes nothing and
//! assigning the sponsor removes the assignment; ListMentees merges
//! recruits without an assignment and assigned partners in creation order,
//! page after page; modules are created idempotently, listed in creation
//! order and updated through a field mask; completions are idempotent and
//! listed page after page; GetTeamProgress matches a hand-worked network
//! level by level (active as GetVolumes, joining days in the month,
//! completions up to the period's last day, a period without orders, a
//! shallower max_level, a small team) and follows a new order at once; and
//! health and reflection serve TeamService (with field_mask.proto).

use crate::genealogy_support::*;
use crate::harness::*;
use crate::team_support::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::MentorSource::{Assigned, None as NoMentor, Sponsor};
use prost::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentors_default_to_the_sponsor_and_follow_assignments() {
    let mut h = Harness::new().await;
    sample_tree(&mut h.client).await;
    let mut t = team_client(h.addr).await;
    assert_eq!(mentor_of(&mut t, "root").await, (String::new(), NoMentor));
    assert_eq!(mentor_of(&mut t, "a1x").await, ("a1".into(), Sponsor));

    let request = pb::AssignMentorRequest { partner_id: "a1x".into(), mentor_id: "root".into(), reason: "r1".into() };
    let first = t.assign_mentor(as_actor(request, "coach")).await.expect("assign").into_inner();
    assert!(first.assigned_at_unix_ms > 1_700_000_000_000, "{first:?}");
    let want = pb::Mentorship {
        partner_id: "a1x".into(),
        mentor_id: "root".into(),
        source: Assigned as i32,
        assigned_by: "coach".into(),
        assigned_at_unix_ms: first.assigned_at_unix_ms,
        reason: "r1".into(),
    };
    assert_eq!(first, want);
    // A repeat answers the stored assignment: who, when and why stay those of the first call.
    assert_eq!(assign(&mut t, "a1x", "root", "again").await.expect("repeat"), want);
    assert_eq!(mentor(&mut t, "a1x").await.expect("get"), want);
    assign(&mut t, "b1y", "b", "").await.expect("assign b1y");
    assign(&mut t, "b1x", "root", "").await.expect("assign b1x");
    // An assigned mentor may be suspended: it stays in the tree.
    set_status(&mut h.client, "a", pb::PartnerStatus::Suspended, "").await.expect("suspend a");
    assign(&mut t, "a2", "root", "").await.expect("assign a2");
    assign(&mut t, "a1x", "a", "").await.expect("reassign a1x to a suspended mentor");

    // Creation order: root b a a1 b1 c a2 b1x a1x b1y.
    for size in [0, 1, 2, 1000] {
        assert_eq!(mentee_ids(&mut t, "root", size).await, ["b", "a", "c", "a2", "b1x"], "page size {size}");
    }
    assert_eq!(mentee_ids(&mut t, "b", 1).await, ["b1", "b1y"]);
    assert_eq!(mentee_ids(&mut t, "a", 1).await, ["a1", "a1x"]);
    assert!(mentee_ids(&mut t, "a1", 1).await.is_empty(), "a1x has another mentor");
    assert!(mentee_ids(&mut t, "b1", 3).await.is_empty(), "both recruits of b1 have other mentors");
    let page = mentees_page(&mut t, "b", 0, "").await.expect("mentees of b");
    assert_eq!(page.mentees[1], mentor(&mut t, "b1y").await.expect("b1y"), "a mentee shows its whole mentorship");

    // Assigning the sponsor removes the assignment: the mentor follows the sponsor again.
    let back = assign(&mut t, "a1x", "a1", "back").await.expect("assign the sponsor");
    let sponsor = pb::Mentorship {
        partner_id: "a1x".into(),
        mentor_id: "a1".into(),
        source: Sponsor as i32,
        ..Default::default()
    };
    assert_eq!(back, sponsor);
    assert_eq!(assign(&mut t, "a1x", "a1", "").await.expect("repeat"), sponsor);
    assert_eq!(mentee_ids(&mut t, "a1", 10).await, ["a1x"]);
    assert_eq!(mentee_ids(&mut t, "a", 10).await, ["a1"]);
    // A partner created later is its sponsor's mentee, also in a listing that began before.
    let first_page = mentees_page(&mut t, "root", 4, "").await.expect("page 1");
    create(&mut h.client, "late", "root").await;
    let rest = mentees_page(&mut t, "root", 4, &first_page.next_page_token).await.expect("page 2");
    let ids: Vec<&str> = first_page.mentees.iter().chain(&rest.mentees).map(|m| m.partner_id.as_str()).collect();
    assert_eq!(ids, ["b", "a", "c", "a2", "b1x", "late"]);
    assert!(rest.next_page_token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_and_completions_are_idempotent_and_listed_in_order() {
    let mut h = Harness::new().await;
    create(&mut h.client, "A", "").await;
    create(&mut h.client, "B", "A").await;
    let mut t = team_client(h.addr).await;
    let m1 = module("m1", "Welcome", "https://learn.example/welcome", "");
    let m2 = module("m2", "Retail basics", "http://intranet.example/retail?x=1", "Bronze");
    let m3 = module("m3", "Leading a team: the first month", "HTTPS://learn.example/lead#top", "Silver Director");
    for m in [&m1, &m2, &m3] {
        assert_eq!(create_module(&mut t, m.clone()).await.expect("create"), *m);
        assert_eq!(create_module(&mut t, m.clone()).await.expect("repeat"), *m, "a repeat answers the module");
    }
    for size in [0, 1, 2] {
        assert_eq!(all_modules(&mut t, size).await, [m1.clone(), m2.clone(), m3.clone()], "page size {size}");
    }

    // A mask replaces its fields only; no mask or "*" replaces all three.
    let request = module("m2", "Retail, revised", "https://ignored.example", "ignored");
    let m2b = pb::TrainingModule { title: "Retail, revised".into(), ..m2.clone() };
    assert_eq!(update_module(&mut t, request.clone(), Some(&["title"])).await.expect("title"), m2b);
    let m2c = pb::TrainingModule { prepares_for_rank: String::new(), ..m2b.clone() };
    let request = module("m2", "ignored", "https://ignored.example", "");
    assert_eq!(update_module(&mut t, request, Some(&["prepares_for_rank"])).await.expect("rank"), m2c);
    let m3b = module("m3", "Leading", "https://learn.example/lead-2", "");
    assert_eq!(update_module(&mut t, m3b.clone(), None).await.expect("all"), m3b);
    let m1b = module("m1", "Welcome!", "https://learn.example/welcome", "Bronze");
    assert_eq!(update_module(&mut t, m1b.clone(), Some(&["*"])).await.expect("star"), m1b);
    assert_eq!(update_module(&mut t, m1b.clone(), Some(&[])).await.expect("no change"), m1b);
    assert_eq!(all_modules(&mut t, 2).await, [m1b, m2c, m3b.clone()]);
    // Creating with the old content is now other content.
    expect_err(create_module(&mut t, m3.clone()).await, tonic::Code::AlreadyExists, &["module_id", "m3"]);

    assert_eq!(complete(&mut t, "B", "m3", "2026-02-03").await.expect("m3"), completion("B", "m3", "2026-02-03"));
    assert_eq!(complete(&mut t, "B", "m3", "2026-02-03").await.expect("repeat"), completion("B", "m3", "2026-02-03"));
    complete(&mut t, "B", "m1", "2026-01-15").await.expect("m1, on the joining day");
    complete(&mut t, "A", "m2", "2026-03-01").await.expect("m2");
    let b = [completion("B", "m1", "2026-01-15"), completion("B", "m3", "2026-02-03")];
    for size in [0, 1, 2, 3] {
        assert_eq!(all_completions(&mut t, "B", size).await, b, "page size {size}");
    }
    // A later completion of an earlier module still appears when listing resumes after it.
    let page = completions_page(&mut t, "B", 1, "").await.expect("page 1");
    complete(&mut t, "B", "m2", "2026-03-02").await.expect("m2 of B");
    let rest = completions_page(&mut t, "B", 5, &page.next_page_token).await.expect("page 2");
    assert_eq!(rest.completions, [completion("B", "m2", "2026-03-02"), completion("B", "m3", "2026-02-03")]);
    // A terminated partner's completions stay listed, and their repeats answer them.
    set_status(&mut h.client, "B", pb::PartnerStatus::Terminated, "left").await.expect("terminate B");
    assert_eq!(all_completions(&mut t, "B", 0).await.len(), 3);
    assert_eq!(complete(&mut t, "B", "m1", "2026-01-15").await.expect("repeat"), completion("B", "m1", "2026-01-15"));
    assert_eq!(all_completions(&mut t, "A", 0).await, [completion("A", "m2", "2026-03-01")]);
}

/// The hand-worked levels of A in 2026-09 (see team_support: TEAM_TREE,
/// example.md's activity, TEAM_COMPLETIONS).
fn a_in_september() -> Vec<pb::TeamLevel> {
    vec![
        // B C D: C inactive (PV 30); C and D joined in September; B and C did intro (B's retail is October's).
        level(1, 3, 2, 2, [2, 0, 0]),
        // E F G H L: F inactive; E and G joined; intro E L, retail E, lead E G.
        level(2, 5, 4, 2, [2, 1, 2]),
        // K I: I inactive (PV 40); K joined and did intro.
        level(3, 2, 1, 1, [1, 0, 0]),
        // J: active, joined; its retail is October's.
        level(4, 1, 1, 1, [0, 0, 0]),
        level(5, 0, 0, 0, [0; 3]),
        level(6, 0, 0, 0, [0; 3]),
        level(7, 0, 0, 0, [0; 3]),
    ]
}

fn team(
    partner: &str,
    period: &str,
    max_level: u32,
    orders: bool,
    levels: Vec<pb::TeamLevel>,
    total: pb::TeamLevel,
) -> pb::TeamProgress {
    pb::TeamProgress {
        partner_id: partner.into(),
        period: period.into(),
        max_level,
        plan_levels: 7,
        period_has_orders: orders,
        levels,
        totals: Some(total),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_progress_matches_the_hand_worked_network() {
    let (_h, mut t, mut v) = team_network().await;
    let september = team("A", TEAM_PERIOD, 7, true, a_in_september(), level(0, 11, 8, 6, [5, 1, 2]));
    assert_eq!(progress(&mut t, "A", TEAM_PERIOD, 0).await.expect("A"), september);
    assert_eq!(progress(&mut t, "A", TEAM_PERIOD, 7).await.expect("A to 7"), september);
    let two = team("A", TEAM_PERIOD, 2, true, a_in_september()[..2].to_vec(), level(0, 8, 6, 4, [4, 1, 2]));
    assert_eq!(progress(&mut t, "A", TEAM_PERIOD, 2).await.expect("A to 2"), two);

    // October has no orders: nobody is active, nobody joined, October's completions count.
    let october = vec![
        level(1, 3, 0, 0, [2, 1, 0]),
        level(2, 5, 0, 0, [2, 1, 2]),
        level(3, 2, 0, 0, [1, 0, 0]),
        level(4, 1, 0, 0, [0, 1, 0]),
        level(5, 0, 0, 0, [0; 3]),
        level(6, 0, 0, 0, [0; 3]),
        level(7, 0, 0, 0, [0; 3]),
    ];
    let want = team("A", "2026-10", 7, false, october, level(0, 11, 0, 0, [5, 3, 2]));
    assert_eq!(progress(&mut t, "A", "2026-10", 0).await.expect("A in October"), want);

    // G's team: I (inactive, joined in August) and J (active, joined in September).
    let mut g_levels = vec![level(1, 1, 0, 0, [0; 3]), level(2, 1, 1, 1, [0; 3])];
    g_levels.extend((3..=7).map(|l| level(l, 0, 0, 0, [0; 3])));
    let want = team("G", TEAM_PERIOD, 7, true, g_levels, level(0, 2, 1, 1, [0; 3]));
    assert_eq!(progress(&mut t, "G", TEAM_PERIOD, 0).await.expect("G"), want);
    let leaf = progress(&mut t, "F", TEAM_PERIOD, 3).await.expect("F");
    assert_eq!(leaf.levels, (1..=3).map(|l| level(l, 0, 0, 0, [0; 3])).collect::<Vec<_>>());

    // Live: C's order of 20.00 makes it active at once.
    record_ok(&mut v, order("c-more", "C", TEAM_PERIOD, "20.00", pb::OrderKind::Self_)).await;
    let mut levels = a_in_september();
    levels[0] = level(1, 3, 3, 2, [2, 0, 0]);
    let want = team("A", TEAM_PERIOD, 7, true, levels, level(0, 11, 9, 6, [5, 1, 2]));
    assert_eq!(progress(&mut t, "A", TEAM_PERIOD, 0).await.expect("A after C's order"), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_serve_the_team_service() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let h = Harness::new().await;
    let mut health = HealthClient::new(channel(h.addr).await);
    let check = health.check(HealthCheckRequest { service: "downline.v1.TeamService".into() }).await.expect("check");
    assert_eq!(check.into_inner().status(), ServingStatus::Serving);

    let mut client = ServerReflectionClient::new(channel(h.addr).await);
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol("downline.v1.TeamService".into()),
        // What grpcurl asks next, for the dependency of UpdateTrainingModule.
        MessageRequest::FileByFilename("google/protobuf/field_mask.proto".into()),
    ]
    .map(|r| ServerReflectionRequest { host: String::new(), message_request: Some(r) });
    let mut responses =
        client.server_reflection_info(tokio_stream::iter(requests)).await.expect("reflection").into_inner();
    let (mut services, mut files) = (Vec::new(), Vec::new());
    while let Some(response) = responses.message().await.expect("reflection response") {
        match response.message_response.expect("a response") {
            MessageResponse::ListServicesResponse(list) => services.extend(list.service.into_iter().map(|s| s.name)),
            MessageResponse::FileDescriptorResponse(f) => files.extend(
                f.file_descriptor_proto
                    .iter()
                    .map(|raw| prost_types::FileDescriptorProto::decode(raw.as_slice()).expect("a file")),
            ),
            other => panic!("unexpected reflection answer {other:?}"),
        }
    }
    assert!(services.iter().any(|s| s == "downline.v1.TeamService"), "{services:?}");
    let names: Vec<&str> = files.iter().map(|f| f.name()).collect();
    assert!(names.contains(&"google/protobuf/field_mask.proto"), "UpdateTrainingModule's mask must resolve: {names:?}");
    let file = files.iter().find(|f| f.name() == "downline/v1/team.proto").expect("team.proto");
    let methods: Vec<&str> = file.service[0].method.iter().map(|m| m.name()).collect();
    assert_eq!(
        methods,
        [
            "AssignMentor",
            "GetMentor",
            "ListMentees",
            "CreateTrainingModule",
            "UpdateTrainingModule",
            "ListTrainingModules",
            "RecordTrainingCompletion",
            "ListTrainingCompletions",
            "GetTeamProgress"
        ]
    );
    h.stop().await;
}
