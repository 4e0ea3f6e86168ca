//! The access table against the served descriptors: every method of every
//! service the server registers (the API, health, reflection v1 and
//! v1alpha) has exactly one line, every line is a real method, and the
//! methods partner tokens may call are exactly those the access matrix and
//! the mobile-app tests call with a partner token. A method missing from the
//! table is unknown to everyone (UNIMPLEMENTED), open development mode
//! included, and the answer does not depend on the credentials.

use crate::auth_matrix::PARTNER_READS;
use crate::auth_support::*;
use crate::harness::Harness;
use crate::mobile_app::PARTNER_APP_CALLS;
use downline::auth::Role;
use downline::service::access::{self, ACCESS};
use downline::service::limits::Limits;
use std::collections::BTreeSet;
use tonic::Code;

#[test]
fn every_served_method_has_one_line_and_every_line_is_a_method() {
    let methods = access::methods(&access::served_descriptor_sets()).expect("the descriptors decode");
    let served: BTreeSet<&str> = methods.iter().map(|m| m.path.as_str()).collect();
    assert!(served.len() >= 19, "the descriptors list {} methods", served.len());
    let missing: Vec<&str> = served.iter().copied().filter(|p| access::rule(p).is_none()).collect();
    assert!(
        missing.is_empty(),
        "methods without a line in src/service/access.rs (deny-by-default refuses them to everyone): {missing:#?}"
    );
    let stale: Vec<&str> = ACCESS.iter().map(|(p, _)| *p).filter(|p| !served.contains(p)).collect();
    assert!(stale.is_empty(), "lines of the access table that name no served method: {stale:#?}");
    let lines: BTreeSet<&str> = ACCESS.iter().map(|(p, _)| *p).collect();
    assert_eq!(lines.len(), ACCESS.len(), "a method has two lines");
}

#[test]
fn the_partner_methods_are_exactly_those_of_the_matrix() {
    let table: BTreeSet<&str> = ACCESS.iter().filter(|(_, a)| a.admits(Role::Partner)).map(|(p, _)| *p).collect();
    let public: BTreeSet<&str> = ACCESS.iter().filter(|(_, a)| *a == access::PUBLIC).map(|(p, _)| *p).collect();
    let matrix: BTreeSet<&str> = PARTNER_READS.into_iter().chain(PARTNER_APP_CALLS).collect();
    assert_eq!(matrix.len(), PARTNER_READS.len() + PARTNER_APP_CALLS.len(), "a method in both lists");
    assert_eq!(
        table.difference(&public).copied().collect::<BTreeSet<_>>(),
        matrix,
        "a method partner tokens may call must be in auth_matrix::PARTNER_READS (its handler checks objects) or mobile_app::PARTNER_APP_CALLS"
    );
    assert!(public.iter().all(|p| p.starts_with("/grpc.health.v1.Health/")), "only health is public: {public:?}");
}

const NOT_IN_TABLE: &str = "/downline.v1.GenealogyService/DropEverything";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_not_in_the_table_is_unimplemented_for_everyone() {
    let open = Harness::new().await;
    let channel = crate::harness::channel(open.addr).await;
    let answer = raw_call(&channel, NOT_IN_TABLE, vec![vec![]], false, None).await;
    assert_eq!(answer.expect_err("unknown").code(), Code::Unimplemented, "open mode is an admin, and still refused");
    open.stop().await;

    let s = Secured::start(Limits::default()).await;
    let channel = s.channel().await;
    for token in [Some(s.admin.as_str()), None] {
        let answer = raw_call(&channel, NOT_IN_TABLE, vec![vec![]], false, token).await;
        let status = answer.expect_err("unknown");
        assert_eq!(status.code(), Code::Unimplemented, "before any credential check: {status:?}");
    }
    s.stop().await;
}
