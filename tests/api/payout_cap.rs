//! A payout cap below the sum of the rates is a valid plan (issue #17):
//! example.md's variant through the API, partner cap 20 and payout cap 5 %,
//! scales the seven capped partners pro rata to 15.61 each, 109.27 in all.

use crate::compensation_api::{comp, plan_in_force, run, statement, PAYABLE};
use crate::volume_support::*;
use downline::proto::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn a_payout_cap_below_the_rates_scales_everyone_pro_rata() {
    let (h, _v) = example_with_orders().await;
    let mut c = comp(h.addr).await;
    let reference = plan_in_force(&mut c).await;
    let mut capped = reference.clone();
    capped.partner_cap = "20".into();
    capped.payout_cap = "0.05".into();
    let update = pb::UpdatePlanRequest { plan: Some(capped), base_version: 1, update_mask: None };
    assert_eq!(c.update_plan(update).await.expect("a valid plan").into_inner().version, 2);
    let done = run(&mut c, EXAMPLE_PERIOD, true).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:?}");
    // T = 7 × 20.00 = 140.00 > 5 % × 2185.00 = 109.25: everyone is scaled by
    // 109.25 / 140 and rounded half-even, a cent above the cap in all.
    assert_eq!((done.total_capped.as_str(), done.payable_total.as_str()), ("140.00", "109.27"));
    for (id, _, reference_payable) in PAYABLE {
        let s = statement(&mut c, id, &done.run_id, "").await.unwrap();
        let above_cap = reference_payable.parse::<f64>().unwrap() > 20.0;
        let want = if above_cap { "15.61" } else { "0.00" };
        assert_eq!(s.payable, want, "{id} (paid {reference_payable} under the reference plan)");
    }
    // A cap outside 0..1 is still refused, naming the field.
    let mut bad = reference;
    bad.payout_cap = "1.5".into();
    let status =
        c.update_plan(pb::UpdatePlanRequest { plan: Some(bad), base_version: 2, update_mask: None }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> =
        status.get_details_bad_request().expect("BadRequest").field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["plan.payout_cap"]);
    assert_eq!(plan_in_force(&mut c).await.version, 2);
    h.stop().await;
}
