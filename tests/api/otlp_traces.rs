//! `downline serve --otlp-endpoint URL`: the real binary exports its `rpc`
//! spans (with the method path) to an OTLP/gRPC collector, here a mock one
//! in the test that records the export requests; SIGTERM flushes the last
//! batch. A bad endpoint is refused at start, naming the flag.

use crate::genealogy_support::create;
use crate::harness::connect;
use crate::serve_cli::{spawn_serve, stop};
use downline::proto::v1 as pb;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use tonic::{Code, Request, Response, Status};

/// A collector that keeps every export request it receives.
#[derive(Clone, Default)]
struct Collector {
    requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.requests.lock().expect("the lock").push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

/// Starts the collector on a free port of 127.0.0.1.
async fn start_collector() -> (Collector, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let collector = Collector::default();
    let service = TraceServiceServer::new(collector.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (collector, addr)
}

/// The `method` attribute of every received span named `rpc`.
fn rpc_methods(collector: &Collector) -> Vec<String> {
    let requests = collector.requests.lock().expect("the lock");
    let spans = requests.iter().flat_map(|r| &r.resource_spans).flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans);
    spans
        .filter(|span| span.name == "rpc")
        .flat_map(|span| span.attributes.iter().filter(|a| a.key == "method"))
        .filter_map(|a| match a.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(method)) => Some(method.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_rpc_spans_with_the_method_to_the_otlp_collector() {
    let (collector, collector_addr) = start_collector().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let endpoint = format!("http://{collector_addr}");
    let data_dir = dir.path().to_str().expect("a UTF-8 temp dir");
    let args = ["--listen", "127.0.0.1:0", "--data-dir", data_dir, "--otlp-endpoint", &endpoint];
    let (server, addr) = spawn_serve(&args, Stdio::null());
    let mut client = connect(addr).await;
    let missing = client.get_partner(pb::GetPartnerRequest { partner_id: "nobody".to_owned() }).await;
    assert_eq!(missing.expect_err("an unknown partner").code(), Code::NotFound);
    create(&mut client, "root", "").await;
    drop(client);
    tokio::task::spawn_blocking(move || stop(server, "-TERM")).await.expect("the stop ran");

    let methods = rpc_methods(&collector);
    for expected in ["/downline.v1.GenealogyService/GetPartner", "/downline.v1.GenealogyService/CreatePartner"] {
        assert!(methods.iter().any(|m| m == expected), "no rpc span for {expected}; got {methods:?}");
    }
}

#[test]
fn serve_refuses_an_endpoint_that_is_no_url() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data_dir = dir.path().to_str().expect("a UTF-8 temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_downline"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--otlp-endpoint", "collector:4317"])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "a bad endpoint must stop the start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--otlp-endpoint"), "the error must name the flag: {stderr}");
}
