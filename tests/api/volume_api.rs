//! `downline.v1.VolumeService` through the real server: the worked example
//! of example.md (order by order and through one RecordOrders stream),
//! idempotent orders, returns and fees, dynamic compression following PV
//! at once, and moves carrying group volume from the old upline to the new.
//!
//! Every expectation is a whole GetVolumes message (PV, RV, GV, the seven
//! levels with their partner and active counts, the level-capped volume,
//! the active flag and the frontline counts), worked out by hand from
//! domain.md.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::OrderKind::{Fee, Retail, Self_};
use tonic::Code;

const P: &str = EXAMPLE_PERIOD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_order_by_order() {
    let (_h, mut v) = example_network().await;
    assert!(periods(&mut v).await.is_empty());
    // A known partner before any order of the period: zeros, not NOT_FOUND.
    let before = volumes(&mut v, "A", P).await.expect("zeros before the first order");
    assert_eq!((before.pv.as_str(), before.gv.as_str(), before.active), ("0.00", "0.00", false), "{before:?}");
    assert!(before.levels.iter().all(|l| l.volume == "0.00"), "{before:?}");
    assert!(before.frontline_count > 0, "A's recruits count before any order: {before:?}");
    // An unknown partner stays NOT_FOUND, naming the partner.
    expect_err(volumes(&mut v, "ZZ", P).await, Code::NotFound, &["partner_id", "ZZ"]);
    assert!(periods(&mut v).await.is_empty(), "a read opens no period");
    for o in example_orders(P) {
        let stored = record_ok(&mut v, o.clone()).await;
        assert_eq!(stored, o, "RecordOrder answers the stored order");
    }
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 15)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_through_one_stream_in_three_chunks() {
    let (_h, mut v) = example_network().await;
    let orders = example_orders(P);
    let chunks: Vec<Vec<pb::Order>> = orders.chunks(5).map(<[pb::Order]>::to_vec).collect();
    let answer = record_stream(&mut v, chunks.clone()).await.expect("RecordOrders");
    let want = pb::RecordOrdersResponse { recorded_count: 15, repeated_count: 0, refused_count: 0, refused: vec![] };
    assert_eq!(answer, want);
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 15)]);

    // The same stream again repeats every order and changes nothing.
    let again = record_stream(&mut v, chunks).await.expect("RecordOrders again");
    let want = pb::RecordOrdersResponse { recorded_count: 0, repeated_count: 15, refused_count: 0, refused: vec![] };
    assert_eq!(again, want);
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 15)]);

    // The same orders one by one are repeats too.
    for o in orders {
        assert_eq!(record_ok(&mut v, o.clone()).await, o);
    }
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 15)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_order_is_a_no_op_and_other_content_is_already_exists() {
    let (_h, mut v) = example_with_orders().await;
    let original = order("ex-6", "E", P, "400.00", Retail);
    assert_eq!(record_ok(&mut v, original.clone()).await, original);
    // The same volume written differently is the same order; the answer is the stored one.
    assert_eq!(record_ok(&mut v, order("ex-6", "E", P, "400", Retail)).await, original);
    assert_eq!(record_ok(&mut v, order("ex-6", "E", P, "400.0000", Retail)).await, original);

    let others = [
        order("ex-6", "E", P, "400.01", Retail),
        order("ex-6", "E", P, "-400.00", Retail),
        order("ex-6", "E", P, "400.00", Self_),
        order("ex-6", "E", P, "400.00", Fee),
        order("ex-6", "B", P, "400.00", Retail),
        order("ex-6", "E", "2026-12", "400.00", Retail),
    ];
    for other in others {
        let status = expect_err(record(&mut v, other.clone()).await, Code::AlreadyExists, &["order_id", "ex-6"]);
        assert!(status.message().starts_with("order.order_id"), "{other:?}: {}", status.message());
    }
    // Nothing changed: no new period (2026-12 was never opened), the same volumes.
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 15)]);
    assert_eq!(volumes(&mut v, "E", "2026-12").await.expect("zeros").gv, "0.00", "no orders in 2026-12");
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
    assert_eq!(record_ok(&mut v, original.clone()).await, original, "the original is still OK");

    // A conflicting repeat inside a stream is refused alone.
    let answer = record_stream(&mut v, vec![vec![order("ex-1", "A", P, "1.00", Retail), original]]).await.unwrap();
    assert_eq!((answer.recorded_count, answer.repeated_count, answer.refused_count), (0, 1, 1));
    assert_eq!((answer.refused[0].position, answer.refused[0].code), (1, Code::AlreadyExists as i32));
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_reduce_volume_and_fees_are_never_volume() {
    let (_h, mut v) = example_with_orders().await;
    // Fees: a big one for A and a refund of F's fee. Nobody's volume moves.
    record_ok(&mut v, order("fee-A", "A", P, "1000.00", Fee)).await;
    record_ok(&mut v, order("fee-F-back", "F", P, "-49.00", Fee)).await;
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 17)], "fees count as orders");

    // A return of K: its PV, and the GV and level of its whole upline, go down.
    record_ok(&mut v, order("ret-K", "K", P, "-5.00", Self_)).await;
    let a = Want { gv: "2180.00", levels: &[("490.00", 5, 4), ("1540.00", 5, 3), ("50.00", 1, 1)], ..EXAMPLE_WANT[0] };
    let b = Want { gv: "750.00", levels: &[("500.00", 2, 1), ("50.00", 1, 1)], ..EXAMPLE_WANT[1] };
    let e = Want { gv: "550.00", levels: &[("50.00", 1, 1)], ..EXAMPLE_WANT[4] };
    let k = Want { pv: "50.00", gv: "50.00", ..EXAMPLE_WANT[10] };
    assert_volumes(&mut v, P, &example_with(&[a, b, e, k])).await;

    // Returns beyond the sales: F's PV goes negative (RETAIL: RV too), four places shown.
    record_ok(&mut v, order("ret-F", "F", P, "-12.3456", Retail)).await;
    let a = Want { gv: "2167.6544", levels: &[("490.00", 5, 4), ("1527.6544", 5, 3), ("50.00", 1, 1)], ..a };
    let b = Want { gv: "737.6544", levels: &[("487.6544", 2, 1), ("50.00", 1, 1)], ..b };
    let f = Want { pv: "-12.3456", rv: "-12.3456", gv: "-12.3456", ..EXAMPLE_WANT[5] };
    assert_volumes(&mut v, P, &example_with(&[a, b, e, f, k])).await;

    // The largest order allowed, then its return: back to the same figures.
    record_ok(&mut v, order("big-F", "F", P, "1000000000", Self_)).await;
    let fb = Want { pv: "999999987.6544", gv: "999999987.6544", active: true, ..f };
    let bb =
        Want { gv: "1000000737.6544", levels: &[("1000000487.6544", 2, 2), ("50.00", 1, 1)], active_frontline: 2, ..b };
    let ab =
        Want { gv: "1000002167.6544", levels: &[("490.00", 5, 4), ("1000001527.6544", 5, 4), ("50.00", 1, 1)], ..a };
    assert_volumes(&mut v, P, &example_with(&[ab, bb, e, fb, k])).await;
    record_ok(&mut v, order("big-F-back", "F", P, "-1000000000.0000", Self_)).await;
    assert_volumes(&mut v, P, &example_with(&[a, b, e, f, k])).await;
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 21)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_follows_pv_after_every_order() {
    let (_h, mut v) = example_with_orders().await;
    // C reaches exactly 50.00: active, so G and H drop to A's level 2, I and J to level 3.
    record_ok(&mut v, order("c-up", "C", P, "20", Self_)).await;
    let a_up = Want {
        gv: "2205.00",
        levels: &[("310.00", 3, 3), ("1400.00", 5, 4), ("395.00", 3, 2)],
        active_frontline: 3,
        ..EXAMPLE_WANT[0]
    };
    let c_up = Want { pv: "50.00", gv: "590.00", active: true, ..EXAMPLE_WANT[2] };
    assert_volumes(&mut v, P, &example_with(&[a_up, c_up])).await;

    // One ten-thousandth less: inactive again, the levels of A re-compress.
    record_ok(&mut v, order("c-down", "C", P, "-0.0001", Self_)).await;
    let a_down =
        Want { gv: "2204.9999", levels: &[("509.9999", 5, 4), ("1540.00", 5, 3), ("55.00", 1, 1)], ..EXAMPLE_WANT[0] };
    let c_down = Want { pv: "49.9999", gv: "589.9999", ..EXAMPLE_WANT[2] };
    assert_volumes(&mut v, P, &example_with(&[a_down, c_down])).await;

    // And back up.
    record_ok(&mut v, order("c-up-again", "C", P, "0.0001", Retail)).await;
    let c_up = Want { rv: "0.0001", ..c_up };
    assert_volumes(&mut v, P, &example_with(&[a_up, c_up])).await;

    // I reaches 50.00: J moves one level further from everyone above I.
    record_ok(&mut v, order("i-up", "I", P, "10", Retail)).await;
    let a = Want {
        gv: "2215.00",
        levels: &[("310.00", 3, 3), ("1400.00", 5, 4), ("105.00", 2, 2), ("300.00", 1, 1)],
        active_frontline: 3,
        ..EXAMPLE_WANT[0]
    };
    let c = Want { gv: "600.00", levels: &[("200.00", 2, 2), ("50.00", 1, 1), ("300.00", 1, 1)], ..c_up };
    let g = Want { gv: "430.00", levels: &[("50.00", 1, 1), ("300.00", 1, 1)], active_frontline: 1, ..EXAMPLE_WANT[6] };
    let i = Want { pv: "50.00", rv: "50.00", gv: "350.00", active: true, ..EXAMPLE_WANT[8] };
    assert_volumes(&mut v, P, &example_with(&[a, c, g, i])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_carry_group_volume_from_the_old_upline_to_the_new() {
    let (mut h, mut v) = example_with_orders().await;
    // G (with I and J) from C to D.
    move_partner(&mut h.client, "G", "D", "to D").await.expect("move G");
    let a = Want { levels: &[("410.00", 4, 3), ("1280.00", 4, 3), ("395.00", 3, 2)], ..EXAMPLE_WANT[0] };
    let c = Want { gv: "150.00", levels: &[("120.00", 1, 1)], frontline: 1, active_frontline: 1, ..EXAMPLE_WANT[2] };
    let d = Want {
        gv: "1180.00",
        levels: &[("780.00", 2, 2), ("340.00", 2, 1)],
        frontline: 2,
        active_frontline: 2,
        ..EXAMPLE_WANT[3]
    };
    assert_volumes(&mut v, P, &example_with(&[a, c, d])).await;

    // An order of J after the move reaches its new upline only.
    record_ok(&mut v, order("j-more", "J", P, "1.50", Self_)).await;
    let a = Want { gv: "2186.50", levels: &[("410.00", 4, 3), ("1280.00", 4, 3), ("396.50", 3, 2)], ..a };
    let d = Want { gv: "1181.50", levels: &[("780.00", 2, 2), ("341.50", 2, 1)], ..d };
    let g = Want { gv: "421.50", levels: &[("341.50", 2, 1)], ..EXAMPLE_WANT[6] };
    let i = Want { gv: "341.50", levels: &[("301.50", 1, 1)], ..EXAMPLE_WANT[8] };
    let j = Want { pv: "301.50", gv: "301.50", ..EXAMPLE_WANT[9] };
    assert_volumes(&mut v, P, &example_with(&[a, c, d, g, i, j])).await;

    // And back: the example again, plus J's order.
    move_partner(&mut h.client, "G", "C", "back").await.expect("move G back");
    let a = Want { gv: "2186.50", levels: &[("490.00", 5, 4), ("1541.50", 5, 3), ("55.00", 1, 1)], ..EXAMPLE_WANT[0] };
    let c = Want { gv: "571.50", levels: &[("200.00", 2, 2), ("341.50", 2, 1)], ..EXAMPLE_WANT[2] };
    assert_volumes(&mut v, P, &example_with(&[a, c, g, i, j])).await;

    // E (active, with K) under F (inactive): F does not occupy a level, so
    // nothing changes for B and A but the frontline counts.
    move_partner(&mut h.client, "E", "F", "under F").await.expect("move E");
    let b = Want { frontline: 1, active_frontline: 0, ..EXAMPLE_WANT[1] };
    let f = Want {
        gv: "555.00",
        levels: &[("500.00", 1, 1), ("55.00", 1, 1)],
        frontline: 1,
        active_frontline: 1,
        ..EXAMPLE_WANT[5]
    };
    assert_volumes(&mut v, P, &example_with(&[a, b, c, f, g, i, j])).await;

    // A move that would make a cycle is refused and changes nothing.
    expect_err(move_partner(&mut h.client, "B", "K", "cycle").await, Code::FailedPrecondition, &["new_sponsor_id"]);
    assert_volumes(&mut v, P, &example_with(&[a, b, c, f, g, i, j])).await;
}
