//! `scripts/sign-partner-jwt.py`, the README's example for the identity
//! service, run with python3: a token it signs with the HS256 secret file
//! (written with a trailing newline, as editors do) lets that partner read
//! itself through a real server started with the same file, and not
//! another partner: NOT_FOUND, the very answer of an id never created (no
//! id probing, `auth_matrix.rs`); a token signed with another secret is
//! UNAUTHENTICATED.

use crate::auth_support::{authed, Secured, AUDIENCE, ISSUER, SECRET};
use crate::genealogy_support::row;
use downline::proto::v1 as pb;
use downline::service::limits::Limits;
use pb::genealogy_service_client::GenealogyServiceClient;
use std::process::Command;
use tonic::Code;

/// The script's token for `sub`, signed with the secret in `secret_file`.
fn script_token(secret_file: &std::path::Path, sub: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/sign-partner-jwt.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("--secret-file")
        .arg(secret_file)
        .args(["--sub", sub, "--aud", AUDIENCE, "--iss", ISSUER])
        .output()
        .expect("python3 runs (it is needed by the tests)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripts_token_reads_its_own_partner_and_no_other() {
    // The server reads SECRET from its own file; the script gets the same
    // bytes with a trailing newline, which both remove.
    let s = Secured::start(Limits::default()).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let secret_file = dir.path().join("jwt.secret");
    std::fs::write(&secret_file, [SECRET, b"\n"].concat()).expect("a secret file");
    let mut c = GenealogyServiceClient::new(s.channel().await);
    for (id, sponsor) in [("boss", ""), ("p1", "boss"), ("p2", "boss")] {
        c.create_partner(authed(row(id, sponsor), &s.backend)).await.expect("created");
    }
    let token = script_token(&secret_file, "p1");
    let own = c.get_partner(authed(pb::GetPartnerRequest { partner_id: "p1".into() }, &token)).await;
    assert_eq!(own.expect("a partner reads itself").into_inner().partner_id, "p1");
    let other = c.get_partner(authed(pb::GetPartnerRequest { partner_id: "p2".into() }, &token)).await;
    let other = other.expect_err("not its downline");
    assert_eq!(other.code(), Code::NotFound, "{other:?}");
    assert!(other.message().contains("'p2' not found"), "{other:?}");
    let forged_file = dir.path().join("other.secret");
    std::fs::write(&forged_file, [SECRET, b"-but-another"].concat()).expect("another secret");
    let forged = script_token(&forged_file, "p1");
    let refused = c.get_partner(authed(pb::GetPartnerRequest { partner_id: "p1".into() }, &forged)).await;
    assert_eq!(refused.expect_err("another secret").code(), Code::Unauthenticated);
    s.stop().await;
}

#[test]
fn the_script_refuses_a_short_secret_as_the_server_does() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let secret_file = dir.path().join("short.secret");
    std::fs::write(&secret_file, b"0123456789abcdef0123456789abcde\n").expect("31 bytes and a newline");
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/sign-partner-jwt.py"))
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--sub", "p1", "--aud", AUDIENCE])
        .output()
        .expect("python3 runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter than 32 bytes"));
}
