//! The access matrix through a real server with credentials.
//!
//! A partner token reads every partner-readable RPC about {itself, its
//! downline, its upline, a sibling and the sibling's recruit, another
//! branch, an unknown id, a terminated former recruit}: itself and its
//! downline answer (GetUpline stops at the caller, events hide what lies
//! outside); everything else is NOT_FOUND with the very message of an
//! unknown id, so no id can be probed. Every method a role may not call is
//! PERMISSION_DENIED for it, found from the access table itself, and
//! UNAUTHENTICATED without a token, with a wrong key or a forged JWT; the
//! allowed ones pass the guard; writes by backends work and are audited
//! under the key's name.

use crate::auth_support::*;
use crate::genealogy_support::JOINED;
use crate::harness::connect;
use crate::volume_support::volume_client;
use downline::auth::keys::new_key;
use downline::auth::Role;
use downline::proto::v1 as pb;
use downline::service::access::{self, ACCESS};
use downline::service::limits::Limits;
use tonic::transport::Channel;
use tonic::{Code, Status};

pub use crate::auth_matrix_reads::PARTNER_READS;
use crate::auth_matrix_reads::{prepare_reads, read, PERIOD};

/// (id, sponsor), sponsors first. The caller is `me`.
const TREE: [(&str, &str); 9] = [
    ("root", ""),
    ("up", "root"),
    ("me", "up"),
    ("kid", "me"),
    ("grandkid", "kid"),
    ("gone", "me"),
    ("sib", "up"),
    ("sibkid", "sib"),
    ("other", ""),
];
const VISIBLE: [&str; 3] = ["me", "kid", "grandkid"];
const HIDDEN: [&str; 6] = ["up", "root", "sib", "sibkid", "other", "gone"];
const UNKNOWN: &str = "nobody";

async fn build(s: &Secured) {
    let mut g = connect(s.addr).await;
    let mut v = volume_client(s.addr).await;
    for (id, sponsor) in TREE {
        let create = pb::CreatePartnerRequest {
            partner_id: id.into(),
            sponsor_id: sponsor.into(),
            joined_on: JOINED.into(),
            display_name: String::new(),
        };
        g.create_partner(authed(create, &s.backend)).await.expect("a creation by the backend key");
        let order = pb::Order {
            order_id: format!("o-{id}"),
            partner_id: id.into(),
            period: PERIOD.into(),
            volume: "60".into(),
            kind: pb::OrderKind::Retail as i32,
            ..pb::Order::default()
        };
        v.record_order(authed(pb::RecordOrderRequest { order: Some(order) }, &s.backend)).await.expect("an order");
    }
    let terminate = pb::SetPartnerStatusRequest {
        partner_id: "gone".into(),
        status: pb::PartnerStatus::Terminated as i32,
        reason: "left".into(),
    };
    g.set_partner_status(authed(terminate, &s.backend)).await.expect("a termination");
    let mv = pb::MovePartnerRequest { partner_id: "grandkid".into(), new_sponsor_id: "sib".into(), reason: "x".into() };
    g.move_partner(authed(mv, &s.backend)).await.expect("a move");
    let back =
        pb::MovePartnerRequest { partner_id: "grandkid".into(), new_sponsor_id: "kid".into(), reason: "y".into() };
    g.move_partner(authed(back, &s.backend)).await.expect("a move back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_reads_see_only_self_and_downline_and_cannot_probe() {
    let s = Secured::start(Limits::default()).await;
    build(&s).await;
    let channel = s.channel().await;
    prepare_reads(&channel, &s.admin, "kid").await;
    let me = partner_token("me");
    for rpc in PARTNER_READS {
        for id in VISIBLE {
            let shown = read(&channel, rpc, id, &me).await.unwrap_or_else(|e| panic!("{rpc} of {id}: {e:?}"));
            for seen in &shown {
                assert!(VISIBLE.contains(&seen.as_str()), "{rpc} of {id} showed {seen}, outside the caller's downline");
            }
        }
        let unknown = read(&channel, rpc, UNKNOWN, &me).await.expect_err("an unknown id");
        assert_eq!(unknown.code(), Code::NotFound, "{rpc}: {unknown:?}");
        for id in HIDDEN {
            let hidden = read(&channel, rpc, id, &me).await.expect_err("a hidden id");
            assert_eq!(hidden.code(), unknown.code(), "{rpc} of {id}: {hidden:?}");
            assert_eq!(hidden.message().replace(id, "?"), unknown.message().replace(UNKNOWN, "?"), "{rpc} of {id}");
            // The backend sees them all (a terminated one may be refused as
            // such, or be missing from the run made after it left).
            let backend = read(&channel, rpc, id, &s.backend).await;
            let not_in_run = rpc.ends_with("/GetStatement") && id == "gone";
            assert!(
                not_in_run || !matches!(&backend, Err(e) if e.code() == Code::NotFound),
                "{rpc} of {id} for the backend: {backend:?}"
            );
        }
    }
    // What the visible answers hold, exactly.
    let upline = |id| read(&channel, "/x/GetUpline", id, &me);
    assert_eq!(upline("grandkid").await.expect("upline"), ["kid", "me"], "stops at the caller");
    assert!(upline("me").await.expect("own upline").is_empty(), "nothing above the caller");
    assert_eq!(
        read(&channel, "/x/GetUpline", "grandkid", &s.backend).await.expect("full"),
        ["kid", "me", "up", "root"]
    );
    assert_eq!(read(&channel, "/x/ListDownline", "me", &me).await.expect("downline"), ["kid", "grandkid"]);
    // grandkid was moved out to sib and back: the events name sib for the backend only.
    let events = read(&channel, "/x/ListGenealogyEvents", "grandkid", &s.backend).await.expect("events");
    assert!(events.iter().any(|e| e == "sib"), "{events:?}");
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    let all = pb::ListGenealogyEventsRequest::default();
    let status = g.list_genealogy_events(authed(all, &me)).await.expect_err("every event");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    s.stop().await;
}

/// The raw call of a method with an empty (all-default) request.
async fn call_empty(channel: &Channel, path: &str, token: &str) -> Result<Vec<u8>, Status> {
    let streaming = path.ends_with("/ImportPartners") || path.ends_with("/RecordOrders") || path.contains("Reflection");
    raw_call(channel, path, if streaming { vec![] } else { vec![Vec::new()] }, streaming, Some(token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_a_role_may_not_call_is_permission_denied() {
    let s = Secured::start(Limits::default()).await;
    build(&s).await;
    let channel = s.channel().await;
    let tokens =
        [(Role::Partner, partner_token("me")), (Role::Backend, s.backend.clone()), (Role::Admin, s.admin.clone())];
    for (path, allow) in ACCESS {
        if path.ends_with("/Watch") {
            continue; // a public server stream: it would never end
        }
        if *allow != access::PUBLIC {
            let forged = hs256(&claims("me"), b"a-forged-secret-0123456789abcdef!!");
            for bad in [None, Some(new_key()), Some(forged)] {
                let streaming = path.ends_with("/ImportPartners") || path.ends_with("/RecordOrders");
                let answer = raw_call(&channel, path, vec![Vec::new()], streaming, bad.as_deref()).await;
                let code = answer.as_ref().err().map(Status::code);
                assert_eq!(code, Some(Code::Unauthenticated), "{path} with {bad:?}: {answer:?}");
            }
        }
        for (role, token) in &tokens {
            let answer = call_empty(&channel, path, token).await;
            let denied = matches!(&answer, Err(e) if e.code() == Code::PermissionDenied);
            let unauthenticated = matches!(&answer, Err(e) if e.code() == Code::Unauthenticated);
            assert!(!unauthenticated, "{path} as {role:?}: {answer:?}");
            if allow.admits(*role) {
                // Allowed ones get past the guard; an empty request may still be refused for its content.
                let why = answer.as_ref().err().map(|e| e.message().to_owned()).unwrap_or_default();
                assert!(!denied || why.contains("a partner token"), "{path} as {role:?}: {answer:?}");
            } else {
                assert!(denied, "{path} as {role:?} must be PERMISSION_DENIED, got {answer:?}");
            }
        }
    }
    // Real writes: the backend creates and moves, only the admin closes a period.
    let mut v = pb::volume_service_client::VolumeServiceClient::new(channel.clone());
    let close = pb::ClosePeriodRequest { period: PERIOD.into() };
    let status = v.close_period(authed(close.clone(), &s.backend)).await.expect_err("a backend close");
    assert_eq!(status.code(), Code::PermissionDenied);
    v.close_period(authed(close, &s.admin)).await.expect("an admin close");
    let mut g = pb::genealogy_service_client::GenealogyServiceClient::new(channel.clone());
    let mut create = authed(
        pb::CreatePartnerRequest {
            partner_id: "new".into(),
            sponsor_id: "me".into(),
            joined_on: JOINED.into(),
            ..Default::default()
        },
        &s.backend,
    );
    create.metadata_mut().insert("x-downline-actor", "alice".parse().expect("ascii"));
    g.create_partner(create).await.expect("a creation");
    let events = pb::ListGenealogyEventsRequest { partner_id: "new".into(), ..Default::default() };
    let events = g.list_genealogy_events(authed(events, &s.admin)).await.expect("events").into_inner().events;
    assert_eq!(events[0].actor, "back-office/alice", "the key's name, then the person it acts for");
    s.stop().await;
}
