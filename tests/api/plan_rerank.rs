//! A change of the rank ladder re-ranks the open periods off the lock
//! (issue #16) while orders stream in through the real API: afterwards the
//! live ranks are a from-scratch ranking's (RecalculateVolumes compares
//! every partner's rank codes and finds no difference), the last version
//! is in force, and of two updates racing on one base
//! version one is refused with FAILED_PRECONDITION.

use crate::compensation_api::plan_in_force;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use tonic::Code;

const OTHER_PERIOD: &str = "2026-12";

/// The plan with every rank's leg share set to `share` (a new ladder).
fn ladder(plan: &pb::Plan, share: &str) -> pb::Plan {
    let mut plan = plan.clone();
    for rank in &mut plan.ranks {
        rank.max_leg_share = share.into();
    }
    plan
}

/// Records `count` orders (some of them returns) across both periods.
async fn stream_orders(mut v: VolumeClient, count: usize) {
    let partners = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];
    for i in 0..count {
        let period = if i % 3 == 0 { OTHER_PERIOD } else { EXAMPLE_PERIOD };
        let volume = if i % 5 == 4 { "-7.50" } else { "12.25" };
        let o = order(&format!("stream-{i}"), partners[i * 7 % partners.len()], period, volume, pb::OrderKind::Self_);
        record_ok(&mut v, o).await;
    }
}

#[tokio::test]
async fn a_rank_ladder_changed_while_orders_stream_in_ranks_as_a_recalculation_does() {
    let (h, mut v) = example_with_orders().await;
    record_ok(&mut v, order("first", "A", OTHER_PERIOD, "60", pb::OrderKind::Self_)).await;
    let mut c = CompensationServiceClient::new(channel(h.addr).await);
    let reference = plan_in_force(&mut c).await;
    let streaming = tokio::spawn(stream_orders(volume_client(h.addr).await, 600));
    let mut version = reference.version;
    for share in ["0.3", "0.8", "0.45", "1", "0.6", "0.35"] {
        let request =
            pb::UpdatePlanRequest { plan: Some(ladder(&reference, share)), base_version: version, update_mask: None };
        let updated = c.update_plan(request).await.unwrap().into_inner();
        assert_eq!(updated.version, version + 1, "share {share}");
        version = updated.version;
    }
    // Two updates on the same base: one wins, the other is stale.
    let mut c2 = CompensationServiceClient::new(channel(h.addr).await);
    let racing = |share: &str| pb::UpdatePlanRequest {
        plan: Some(ladder(&reference, share)),
        base_version: version,
        update_mask: None,
    };
    let (a, b) = tokio::join!(c.update_plan(racing("0.55")), c2.update_plan(racing("0.65")));
    let refused = match (a, b) {
        (Ok(_), Err(status)) | (Err(status), Ok(_)) => status,
        other => panic!("one of two racing updates must be refused: {other:?}"),
    };
    expect_err(Err::<(), _>(refused), Code::FailedPrecondition, &["base_version"]);
    version += 1;
    streaming.await.unwrap();
    let mut o = operations_client(h.addr).await;
    for period in [EXAMPLE_PERIOD, OTHER_PERIOD] {
        let result = recalculate(&mut v, &mut o, period).await;
        assert_eq!((result.difference_count, result.first_difference.as_str()), (0, ""), "{period}");
    }
    let in_force = plan_in_force(&mut c).await;
    assert_eq!(in_force.version, version);
    h.stop().await;
}
