//! TLS and mutual TLS from PEM files, with certificates made at test time:
//! a TLS server answers a client that trusts its CA and refuses plaintext;
//! with a client CA it also refuses clients without a certificate of that
//! CA, and RPC credentials are still required on top.

use crate::auth_support::*;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use std::net::SocketAddr;
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::Code;

async fn tls_channel(addr: SocketAddr, pki: &Pki, client_cert: bool) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pki.ca)).domain_name("localhost");
    if client_cert {
        tls = tls.identity(Identity::from_pem(&pki.client.0, &pki.client.1));
    }
    Endpoint::from_shared(format!("https://{addr}"))
        .expect("an endpoint")
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// ListPeriods (any key may read it) over a channel.
async fn periods(channel: Channel, token: Option<&str>) -> Result<(), tonic::Status> {
    let mut v = pb::volume_service_client::VolumeServiceClient::new(channel);
    v.list_periods(maybe_authed(pb::ListPeriodsRequest {}, token)).await.map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_trusting_clients_and_refuses_plaintext() {
    let pki = Pki::new();
    let s = Secured::start_with(Limits::default(), JwtSetup::Hs256, Some((&pki, false))).await;
    let channel = tls_channel(s.addr, &pki, false).await.expect("a TLS connection");
    periods(channel.clone(), Some(&s.backend)).await.expect("a call over TLS");
    let status = periods(channel, None).await.expect_err("no key");
    assert_eq!(status.code(), Code::Unauthenticated);
    let plain = Endpoint::from_shared(format!("http://{}", s.addr)).expect("an endpoint").connect().await;
    if let Ok(plain) = plain {
        assert!(periods(plain, Some(&s.backend)).await.is_err(), "plaintext HTTP/2 must not be served");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate_and_still_a_key() {
    let pki = Pki::new();
    let s = Secured::start_with(Limits::default(), JwtSetup::Hs256, Some((&pki, true))).await;
    let with_cert = tls_channel(s.addr, &pki, true).await.expect("a mutual TLS connection");
    periods(with_cert.clone(), Some(&s.backend)).await.expect("a call over mutual TLS");
    let status = periods(with_cert, None).await.expect_err("a certificate is no RPC credential");
    assert_eq!(status.code(), Code::Unauthenticated);
    // rustls may fail the handshake at connect or on the first call.
    if let Ok(without) = tls_channel(s.addr, &pki, false).await {
        assert!(periods(without, Some(&s.backend)).await.is_err(), "a client without a certificate must be refused");
    }
    let stranger = Pki::new();
    let mut forged = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pki.ca)).domain_name("localhost");
    forged = forged.identity(Identity::from_pem(&stranger.client.0, &stranger.client.1));
    let endpoint = Endpoint::from_shared(format!("https://{}", s.addr)).expect("an endpoint").tls_config(forged);
    if let Ok(channel) = endpoint.expect("a config").connect().await {
        assert!(periods(channel, Some(&s.backend)).await.is_err(), "a certificate of another CA must be refused");
    }
    s.stop().await;
}
