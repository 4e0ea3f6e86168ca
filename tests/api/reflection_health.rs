//! The side services of a running server: gRPC health and server
//! reflection (v1 and v1alpha), through their generated clients.
//!
//! What it proves: `grpc.health.v1.Health/Check` answers SERVING for
//! "downline.v1.GenealogyService" and for the server as a whole, NOT_FOUND
//! for an unknown service; both reflection versions list
//! "downline.v1.GenealogyService" (and health and themselves), and serve
//! the genealogy.proto file with its eight RPCs, so grpcurl and buf curl
//! work without the proto files.

use crate::harness::*;
use prost::Message;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::{v1, v1alpha};

const SERVICE: &str = "downline.v1.GenealogyService";
const RPCS: [&str; 8] = [
    "CreatePartner",
    "GetPartner",
    "ListDownline",
    "GetUpline",
    "MovePartner",
    "SetPartnerStatus",
    "ListGenealogyEvents",
    "ImportPartners",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_genealogy_service_serving() {
    let h = Harness::new().await;
    let mut health = HealthClient::new(channel(h.addr).await);
    for service in [SERVICE, ""] {
        let response = health
            .check(HealthCheckRequest { service: service.into() })
            .await
            .unwrap_or_else(|s| panic!("check {service:?}: {s:?}"))
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "service {service:?}");
    }
    let unknown = health.check(HealthCheckRequest { service: "downline.v1.Nothing".into() }).await;
    expect_err(unknown, Code::NotFound, &[]);
    h.stop().await;
}

/// The service names and the methods of the genealogy service, by v1.
async fn reflect_v1(addr: std::net::SocketAddr) -> (Vec<String>, Vec<String>) {
    use v1::server_reflection_client::ServerReflectionClient;
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel(addr).await);
    let requests = [MessageRequest::ListServices(String::new()), MessageRequest::FileContainingSymbol(SERVICE.into())]
        .map(|r| v1::ServerReflectionRequest { host: String::new(), message_request: Some(r) });
    let mut responses =
        client.server_reflection_info(tokio_stream::iter(requests)).await.expect("reflection").into_inner();
    let mut services = Vec::new();
    let mut methods = Vec::new();
    while let Some(response) = responses.message().await.expect("reflection response") {
        match response.message_response.expect("a response") {
            MessageResponse::ListServicesResponse(list) => services.extend(list.service.into_iter().map(|s| s.name)),
            MessageResponse::FileDescriptorResponse(files) => {
                methods.extend(genealogy_methods(&files.file_descriptor_proto))
            }
            other => panic!("unexpected reflection answer {other:?}"),
        }
    }
    (services, methods)
}

/// The same through v1alpha.
async fn reflect_v1alpha(addr: std::net::SocketAddr) -> (Vec<String>, Vec<String>) {
    use v1alpha::server_reflection_client::ServerReflectionClient;
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel(addr).await);
    let requests = [MessageRequest::ListServices(String::new()), MessageRequest::FileContainingSymbol(SERVICE.into())]
        .map(|r| v1alpha::ServerReflectionRequest { host: String::new(), message_request: Some(r) });
    let mut responses =
        client.server_reflection_info(tokio_stream::iter(requests)).await.expect("reflection").into_inner();
    let mut services = Vec::new();
    let mut methods = Vec::new();
    while let Some(response) = responses.message().await.expect("reflection response") {
        match response.message_response.expect("a response") {
            MessageResponse::ListServicesResponse(list) => services.extend(list.service.into_iter().map(|s| s.name)),
            MessageResponse::FileDescriptorResponse(files) => {
                methods.extend(genealogy_methods(&files.file_descriptor_proto))
            }
            other => panic!("unexpected reflection answer {other:?}"),
        }
    }
    (services, methods)
}

/// The method names of GenealogyService in encoded file descriptors.
fn genealogy_methods(files: &[Vec<u8>]) -> Vec<String> {
    let mut methods = Vec::new();
    for raw in files {
        let file = prost_types::FileDescriptorProto::decode(raw.as_slice()).expect("a file descriptor");
        if file.name() != "downline/v1/genealogy.proto" {
            continue;
        }
        assert_eq!(file.package(), "downline.v1");
        let service = file.service.iter().find(|s| s.name() == "GenealogyService").expect("the service");
        methods.extend(service.method.iter().map(|m| m.name().to_owned()));
    }
    methods
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1_and_v1alpha_list_the_genealogy_service() {
    let h = Harness::new().await;
    let expected_methods: Vec<String> = RPCS.iter().map(|m| (*m).to_owned()).collect();
    for (version, (services, methods)) in [("v1", reflect_v1(h.addr).await), ("v1alpha", reflect_v1alpha(h.addr).await)]
    {
        let itself = format!("grpc.reflection.{version}.ServerReflection");
        for wanted in [SERVICE, "grpc.health.v1.Health", itself.as_str()] {
            assert!(services.iter().any(|s| s == wanted), "{version} lists {services:?}, not {wanted}");
        }
        assert_eq!(methods, expected_methods, "{version} methods");
    }
    h.stop().await;
}
