//! What a partner's mobile app may do with a partner token, and the
//! answers every client gets for the unknown (issue #20), through a real
//! server with credentials.
//!
//! What it proves: a partner token reads its own mentor (and is refused
//! another's, even one of its downline), the training module catalogue and
//! the periods; it may use reflection, which lists the services and
//! resolves `google.rpc.BadRequest` and `google.rpc.RetryInfo` (so grpcurl
//! decodes error details); an unknown method of a known or an unknown
//! service is UNIMPLEMENTED whatever the token (none, a wrong one, a
//! partner's, an admin's).

use crate::auth_support::*;
use crate::genealogy_support::JOINED;
use crate::harness::connect;
use downline::auth::keys::new_key;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use pb::team_service_client::TeamServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use tonic::transport::Channel;
use tonic::Code;
use tonic_reflection::pb::v1;

/// The methods a partner token may call that are not reads of a partner's
/// downline (those are `auth_matrix::PARTNER_READS`): its own mentor only,
/// the catalogue, the periods and reflection. Every one is called with a
/// partner token by the tests of this file.
pub const PARTNER_APP_CALLS: [&str; 5] = [
    "/downline.v1.TeamService/GetMentor",
    "/downline.v1.TeamService/ListTrainingModules",
    "/downline.v1.VolumeService/ListPeriods",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// `me` under `up`, `kid` under `me`; `up` mentors `me`, `me` mentors `kid`.
async fn build(s: &Secured, channel: &Channel) {
    let mut g = connect(s.addr).await;
    for (id, sponsor) in [("up", ""), ("me", "up"), ("kid", "me")] {
        let create = pb::CreatePartnerRequest {
            partner_id: id.into(),
            sponsor_id: sponsor.into(),
            joined_on: JOINED.into(),
            display_name: String::new(),
        };
        g.create_partner(authed(create, &s.backend)).await.expect("a creation");
    }
    let mut t = TeamServiceClient::new(channel.clone());
    for (partner, mentor) in [("me", "up"), ("kid", "me")] {
        let assign =
            pb::AssignMentorRequest { partner_id: partner.into(), mentor_id: mentor.into(), ..Default::default() };
        t.assign_mentor(authed(assign, &s.backend)).await.expect("a mentor");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_token_reads_its_mentor_the_modules_and_the_periods() {
    let s = Secured::start(Limits::default()).await;
    let channel = s.channel().await;
    build(&s, &channel).await;
    let me = partner_token("me");
    let mut t = TeamServiceClient::new(channel.clone());
    let own = pb::GetMentorRequest { partner_id: "me".into() };
    let mentorship = t.get_mentor(authed(own, &me)).await.expect("its own mentor").into_inner();
    assert_eq!(mentorship.mentor_id, "up");
    for other in ["kid", "up", "nobody"] {
        let request = pb::GetMentorRequest { partner_id: other.into() };
        let status = t.get_mentor(authed(request, &me)).await.expect_err("another's mentor");
        assert_eq!(status.code(), Code::PermissionDenied, "{other}: {status:?}");
        assert!(status.message().starts_with("partner_id: "), "{status:?}");
    }
    let backend = pb::GetMentorRequest { partner_id: "kid".into() };
    assert_eq!(t.get_mentor(authed(backend, &s.backend)).await.expect("any").into_inner().mentor_id, "me");
    let modules = pb::ListTrainingModulesRequest::default();
    t.list_training_modules(authed(modules, &me)).await.expect("the module catalogue");
    let mut v = VolumeServiceClient::new(channel.clone());
    v.list_periods(authed(pb::ListPeriodsRequest::default(), &me)).await.expect("the periods");
    s.stop().await;
}

/// Lists the services and resolves `symbols` (or `file:` names) by v1
/// reflection as `token`: the service names and the files answered.
async fn reflect(channel: &Channel, token: &str, symbols: &[&str]) -> (Vec<String>, Vec<String>) {
    use v1::server_reflection_client::ServerReflectionClient;
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel.clone());
    let requests: Vec<_> = std::iter::once(MessageRequest::ListServices(String::new()))
        .chain(symbols.iter().map(|s| match s.strip_prefix("file:") {
            Some(file) => MessageRequest::FileByFilename(file.into()),
            None => MessageRequest::FileContainingSymbol((*s).into()),
        }))
        .map(|r| v1::ServerReflectionRequest { host: String::new(), message_request: Some(r) })
        .collect();
    let request = authed(tokio_stream::iter(requests), token);
    let mut responses = client.server_reflection_info(request).await.expect("reflection").into_inner();
    let (mut services, mut files) = (Vec::new(), Vec::new());
    while let Some(response) = responses.message().await.expect("a reflection answer") {
        match response.message_response.expect("a response") {
            MessageResponse::ListServicesResponse(list) => services.extend(list.service.into_iter().map(|s| s.name)),
            MessageResponse::FileDescriptorResponse(found) => {
                for raw in found.file_descriptor_proto {
                    let file = <prost_types::FileDescriptorProto as prost::Message>::decode(raw.as_slice())
                        .expect("a file descriptor");
                    files.push(file.name().to_owned());
                }
            }
            other => panic!("{symbols:?}: unexpected reflection answer {other:?}"),
        }
    }
    (services, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_serves_partner_tokens_and_describes_the_error_details() {
    let s = Secured::start(Limits::default()).await;
    let channel = s.channel().await;
    build(&s, &channel).await;
    let symbols = ["google.rpc.BadRequest", "google.rpc.RetryInfo", "file:google/protobuf/duration.proto"];
    for token in [partner_token("me"), s.backend.clone()] {
        let (services, files) = reflect(&channel, &token, &symbols).await;
        assert!(services.iter().any(|s| s == "downline.v1.VolumeService"), "{services:?}");
        assert!(files.iter().any(|f| f == "google/rpc/error_details.proto"), "{files:?}");
        assert!(files.iter().any(|f| f == "google/protobuf/duration.proto"), "its import too: {files:?}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_method_is_unimplemented_whatever_the_token() {
    let s = Secured::start(Limits::default()).await;
    let channel = s.channel().await;
    build(&s, &channel).await;
    let tokens = [None, Some(new_key()), Some(partner_token("me")), Some(s.admin.clone())];
    for path in ["/downline.v1.VolumeService/DeleteEverything", "/downline.v9.Nothing/Get"] {
        for token in &tokens {
            let answer = raw_call(&channel, path, vec![Vec::new()], false, token.as_deref()).await;
            let status = answer.expect_err("an unknown method");
            assert_eq!(status.code(), Code::Unimplemented, "{path} with {token:?}: {status:?}");
            assert!(status.message().contains(path), "{status:?}");
        }
    }
    s.stop().await;
}
