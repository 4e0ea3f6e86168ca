//! Authentication: no credentials, a wrong or malformed key, and expired,
//! forged, tampered, algorithm-confused or otherwise invalid JWTs are
//! UNAUTHENTICATED; a valid JWT whose subject is unknown or terminated is
//! PERMISSION_DENIED; health needs no credentials; RS256 keys work and
//! refuse HS256 tokens signed with the public key.

use crate::auth_support::*;
use crate::genealogy_support::JOINED;
use base64::Engine as _;
use downline::auth::keys::new_key;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use serde_json::json;
use tonic::transport::Channel;
use tonic::{Code, Status};

async fn get_partner(channel: &Channel, id: &str, authorization: Option<&str>) -> Result<pb::Partner, Status> {
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    let mut request = tonic::Request::new(pb::GetPartnerRequest { partner_id: id.into() });
    if let Some(value) = authorization {
        request.metadata_mut().insert("authorization", value.parse().expect("ascii"));
    }
    g.get_partner(request).await.map(tonic::Response::into_inner)
}

async fn create(channel: &Channel, id: &str, sponsor: &str, token: &str) {
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    let request = pb::CreatePartnerRequest {
        partner_id: id.into(),
        sponsor_id: sponsor.into(),
        joined_on: JOINED.into(),
        display_name: String::new(),
    };
    g.create_partner(authed(request, token)).await.expect("a creation");
}

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[track_caller]
fn refused(answer: Result<pb::Partner, Status>, code: Code, needle: &str) {
    let status = answer.expect_err("a refusal");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(status.message().contains(needle), "{:?} does not contain {needle:?}", status.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_unauthenticated() {
    let s = Secured::start(Limits::default()).await;
    let channel = s.channel().await;
    create(&channel, "p", "", &s.backend).await;
    create(&channel, "q", "p", &s.backend).await;
    let bearer = |token: &str| format!("Bearer {token}");
    let with = |mut claims: serde_json::Value, change: serde_json::Value| {
        for (k, v) in change.as_object().expect("an object") {
            if v.is_null() {
                claims.as_object_mut().expect("an object").remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        hs256(&claims, SECRET)
    };
    get_partner(&channel, "p", Some(&bearer(&s.backend))).await.expect("the backend key");
    get_partner(&channel, "p", Some(&bearer(&partner_token("p")))).await.expect("a partner token");
    refused(get_partner(&channel, "p", None).await, Code::Unauthenticated, "missing credentials");
    for malformed in ["Basic abc", "Bearer", "Bearer a b", &s.backend] {
        refused(get_partner(&channel, "p", Some(malformed)).await, Code::Unauthenticated, "Bearer");
    }
    refused(get_partner(&channel, "p", Some(&bearer(&new_key()))).await, Code::Unauthenticated, "unknown API key");
    let expired = with(claims("p"), json!({ "exp": now() - 600 }));
    refused(get_partner(&channel, "p", Some(&bearer(&expired))).await, Code::Unauthenticated, "expired");
    let forged = hs256(&claims("p"), b"another-secret-of-the-same-length-0123456789!");
    refused(get_partner(&channel, "p", Some(&bearer(&forged))).await, Code::Unauthenticated, "signature");
    let valid = partner_token("q");
    let (head, rest) = valid.split_once('.').expect("a JWT");
    let signature = rest.rsplit_once('.').expect("a JWT").1;
    let tampered = format!("{head}.{}.{signature}", b64(&claims("p")));
    refused(get_partner(&channel, "p", Some(&bearer(&tampered))).await, Code::Unauthenticated, "signature");
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&claims("p")));
    refused(get_partner(&channel, "p", Some(&bearer(&none))).await, Code::Unauthenticated, "JWT");
    let cases = [
        (json!({ "aud": "another-app" }), "audience"),
        (json!({ "iss": "https://evil.example.test" }), "issuer"),
        (json!({ "exp": null }), "exp"),
        (json!({ "sub": null }), "sub"),
        (json!({ "aud": null }), "aud"),
        (json!({ "exp": "99999999999" }), "exp"),
        (json!({ "nbf": now() + 3600 }), "not valid yet"),
    ];
    for (change, needle) in cases {
        let token = with(claims("p"), change.clone());
        refused(get_partner(&channel, "p", Some(&bearer(&token))).await, Code::Unauthenticated, needle);
    }
    refused(get_partner(&channel, "p", Some(&bearer("a.b.c"))).await, Code::Unauthenticated, "malformed");
    // A genuine token of someone this network does not know, or no longer has.
    let stranger = partner_token("stranger");
    refused(get_partner(&channel, "p", Some(&bearer(&stranger))).await, Code::PermissionDenied, "stranger");
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    let terminate = pb::SetPartnerStatusRequest {
        partner_id: "q".into(),
        status: pb::PartnerStatus::Terminated as i32,
        reason: String::new(),
    };
    g.set_partner_status(authed(terminate, &s.admin)).await.expect("a termination");
    refused(get_partner(&channel, "q", Some(&bearer(&valid))).await, Code::PermissionDenied, "'q'");
    // Health needs nothing.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let check = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.expect("health");
    assert_eq!(check.into_inner().status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_tokens_work_and_refuse_algorithm_confusion() {
    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key");
    let private_pem = private.to_pkcs8_pem(LineEnding::LF).expect("a PEM").to_string();
    let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).expect("a PEM");
    let s = Secured::start_with(Limits::default(), JwtSetup::Rs256(public_pem.clone()), None).await;
    let channel = s.channel().await;
    create(&channel, "p", "", &s.backend).await;
    let sign = |alg, key: &jsonwebtoken::EncodingKey| {
        jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims("p"), key).expect("a token")
    };
    let rsa_key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("a key");
    let good = format!("Bearer {}", sign(jsonwebtoken::Algorithm::RS256, &rsa_key));
    get_partner(&channel, "p", Some(&good)).await.expect("an RS256 token");
    get_partner(&channel, "p", Some(&good)).await.expect("the same token again, from the cache");
    let confused = jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes());
    let confused = format!("Bearer {}", sign(jsonwebtoken::Algorithm::HS256, &confused));
    refused(get_partner(&channel, "p", Some(&confused)).await, Code::Unauthenticated, "algorithm");
    let hs = format!("Bearer {}", partner_token("p"));
    refused(get_partner(&channel, "p", Some(&hs)).await, Code::Unauthenticated, "algorithm");
    s.stop().await;
}
