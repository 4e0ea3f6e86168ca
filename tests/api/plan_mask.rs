//! UpdatePlan with an `update_mask` (AIP-134) through the real API: only
//! the named plan fields change, the rest is the plan in force; an unknown
//! path is INVALID_ARGUMENT naming `update_mask` and changes nothing; no
//! mask is still a full replacement.

use crate::compensation_api::{comp, plan_in_force};
use crate::details_support::expect_field;
use crate::volume_support::example_with_orders;
use downline::proto::v1 as pb;
use prost_types::FieldMask;

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_update_changes_one_level_rate_and_nothing_else() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let reference = plan_in_force(&mut c).await;
    // Only the rates are sent: every other field is left empty (invalid
    // on its own), and the mask keeps them as they are in force.
    let mut rates = reference.level_rates.clone();
    rates[3] = "0.025".into();
    let sparse = pb::Plan { level_rates: rates.clone(), ..pb::Plan::default() };
    let request =
        pb::UpdatePlanRequest { plan: Some(sparse.clone()), base_version: 0, update_mask: mask(&["level_rates"]) };
    let updated = c.update_plan(request).await.expect("a masked update").into_inner();
    assert_eq!(updated.version, reference.version + 1);
    let want = pb::Plan { version: updated.version, level_rates: rates, ..reference.clone() };
    assert_eq!(updated, want, "only level_rates[3] changed");
    assert_eq!(plan_in_force(&mut c).await, want);

    // Unknown paths (an index is not a field path), or version: refused, nothing changes.
    for bad in ["level_rates[3]", "nope", "version"] {
        let request = pb::UpdatePlanRequest { plan: Some(sparse.clone()), base_version: 0, update_mask: mask(&[bad]) };
        let status = expect_field(c.update_plan(request).await, "update_mask");
        assert!(status.message().starts_with("update_mask: "), "{bad}: {}", status.message());
    }
    assert_eq!(plan_in_force(&mut c).await, want, "a refused mask changed the plan");

    // A stale base_version with a mask is refused as without one (a
    // change, not a retry of the update just made, which answers it).
    let mut other = sparse.clone();
    other.level_rates[3] = "0.02".into();
    let stale = pb::UpdatePlanRequest {
        plan: Some(other),
        base_version: reference.version,
        update_mask: mask(&["level_rates"]),
    };
    let status = c.update_plan(stale).await.expect_err("a stale base");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");

    // No mask: the sparse plan replaces the whole plan, so it is refused
    // for its empty fields, as before.
    let whole = pb::UpdatePlanRequest { plan: Some(sparse), base_version: 0, update_mask: None };
    let status = c.update_plan(whole).await.expect_err("an incomplete whole plan");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    // "*" is the whole plan too: the reference comes back whole.
    let star = pb::UpdatePlanRequest { plan: Some(reference.clone()), base_version: 0, update_mask: mask(&["*"]) };
    let back = c.update_plan(star).await.expect("a * update").into_inner();
    assert_eq!(back, pb::Plan { version: back.version, ..reference });
    h.stop().await;
}
