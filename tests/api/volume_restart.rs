//! Volumes across status changes, recalculations and restarts, through the
//! real server: terminations (own volume out, recruits' volume kept by the
//! sponsor, no new orders), suspensions (inactive, levels re-compress,
//! volume still counts), RecalculateVolumes after a whole history (also
//! while orders keep arriving), and a restart over the same directory that
//! must show every volume, period and closed state exactly as before.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::OrderKind::{Fee, Retail, Self_};
use pb::PartnerStatus::{Enrolled, Suspended, Terminated};
use tonic::Code;

const P: &str = EXAMPLE_PERIOD;

/// The example table without some partners, plus others.
fn table<'a>(changes: &[Want<'a>], gone: &[&str], extra: &[Want<'a>]) -> Vec<Want<'a>> {
    let mut wants: Vec<Want<'a>> = example_with(changes).into_iter().filter(|w| !gone.contains(&w.id)).collect();
    wants.extend_from_slice(extra);
    wants
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn termination_takes_own_volume_out_and_leaves_recruits_with_the_sponsor() {
    let (mut h, mut v) = example_with_orders().await;
    set_status(&mut h.client, "B", Terminated, "left").await.expect("terminate B");
    // E and F (with K) now sit directly under A; B's 200.00 is gone.
    let a = Want { gv: "1985.00", levels: &[("790.00", 6, 4), ("1095.00", 4, 3)], frontline: 4, ..EXAMPLE_WANT[0] };
    assert_volumes(&mut v, P, &table(&[a], &["B"], &[])).await;
    expect_err(volumes(&mut v, "B", P).await, Code::FailedPrecondition, &["partner_id", "terminated"]);

    // No new orders for B, alone or in a stream; its recorded orders stay, and their retries answer them.
    for o in [
        order("b-new", "B", P, "1", Retail),
        order("b-fee", "B", P, "1", Fee),
        order("b-dec", "B", "2026-12", "1", Self_),
    ] {
        expect_err(record(&mut v, o).await, Code::FailedPrecondition, &["partner_id", "terminated"]);
    }
    let ex2 = order("ex-2", "B", P, "150.00", Retail);
    assert_eq!(record_ok(&mut v, ex2.clone()).await, ex2);
    expect_err(record(&mut v, order("ex-2", "B", P, "151", Retail)).await, Code::AlreadyExists, &["order_id"]);
    let answer = record_stream(&mut v, vec![vec![order("b-new", "B", P, "1", Retail), ex2]]).await.unwrap();
    assert_eq!((answer.recorded_count, answer.repeated_count, answer.refused_count), (0, 1, 1));
    assert_eq!((answer.refused[0].position, answer.refused[0].code), (1, Code::FailedPrecondition as i32));
    assert!(answer.refused[0].message.starts_with("partner_id"), "{:?}", answer.refused[0]);
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 15)], "B's orders stay recorded");
    assert_volumes(&mut v, P, &table(&[a], &["B"], &[])).await;

    // A leaf with volume: K's 55.00 leaves E and A.
    set_status(&mut h.client, "K", Terminated, "left").await.expect("terminate K");
    let a = Want { gv: "1930.00", levels: &[("790.00", 6, 4), ("1040.00", 3, 2)], ..a };
    let e = Want { gv: "500.00", levels: &[], frontline: 0, active_frontline: 0, ..EXAMPLE_WANT[4] };
    assert_volumes(&mut v, P, &table(&[a, e], &["B", "K"], &[])).await;

    // A new recruit of E counts at once, first with no volume, then active.
    create(&mut h.client, "M", "E").await;
    let m = Want {
        id: "M",
        pv: "0.00",
        rv: "0.00",
        gv: "0.00",
        levels: &[],
        active: false,
        frontline: 0,
        active_frontline: 0,
    };
    let a = Want { levels: &[("790.00", 6, 4), ("1040.00", 4, 2)], ..a };
    let e = Want { levels: &[("0.00", 1, 0)], frontline: 1, ..e };
    assert_volumes(&mut v, P, &table(&[a, e], &["B", "K"], &[m])).await;
    record_ok(&mut v, order("m-1", "M", P, "70", Self_)).await;
    let m = Want { pv: "70.00", gv: "70.00", active: true, ..m };
    let a = Want { gv: "2000.00", levels: &[("790.00", 6, 4), ("1110.00", 4, 3)], ..a };
    let e = Want { gv: "570.00", levels: &[("70.00", 1, 1)], active_frontline: 1, ..e };
    assert_volumes(&mut v, P, &table(&[a, e], &["B", "K"], &[m])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_makes_a_partner_inactive_and_its_volume_still_counts() {
    let (mut h, mut v) = example_with_orders().await;
    // I (PV 40) is inactive already: suspending it changes no figure.
    set_status(&mut h.client, "I", Suspended, "check").await.expect("suspend I");
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
    set_status(&mut h.client, "I", Enrolled, "ok").await.expect("reinstate I");

    // G (PV 80) suspended: C, G, I all inactive, so G, I and J join A's and C's level 1.
    set_status(&mut h.client, "G", Suspended, "check").await.expect("suspend G");
    let a = Want { levels: &[("830.00", 7, 4), ("1200.00", 3, 2), ("55.00", 1, 1)], ..EXAMPLE_WANT[0] };
    let c = Want { levels: &[("540.00", 4, 2)], active_frontline: 1, ..EXAMPLE_WANT[2] };
    let g = Want { active: false, ..EXAMPLE_WANT[6] };
    assert_volumes(&mut v, P, &example_with(&[a, c, g])).await;

    // A suspended partner still takes orders; they count for its upline, it stays inactive.
    record_ok(&mut v, order("g-more", "G", P, "100", Retail)).await;
    let a = Want { gv: "2285.00", levels: &[("930.00", 7, 4), ("1200.00", 3, 2), ("55.00", 1, 1)], ..a };
    let c = Want { gv: "670.00", levels: &[("640.00", 4, 2)], ..c };
    let g = Want { pv: "180.00", rv: "180.00", gv: "520.00", ..g };
    assert_volumes(&mut v, P, &example_with(&[a, c, g])).await;

    // Reinstated: active again, the example's levels plus G's order.
    set_status(&mut h.client, "G", Enrolled, "cleared").await.expect("reinstate G");
    let a = Want { gv: "2285.00", levels: &[("590.00", 5, 4), ("1540.00", 5, 3), ("55.00", 1, 1)], ..EXAMPLE_WANT[0] };
    let c = Want { gv: "670.00", levels: &[("300.00", 2, 2), ("340.00", 2, 1)], ..EXAMPLE_WANT[2] };
    let g = Want { active: true, ..g };
    let reinstated = example_with(&[a, c, g]);
    assert_volumes(&mut v, P, &reinstated).await;

    // The root suspended: only its own flag changes.
    set_status(&mut h.client, "A", Suspended, "check").await.expect("suspend A");
    assert_volumes(&mut v, P, &example_with(&[Want { active: false, ..a }, c, g])).await;
    set_status(&mut h.client, "A", Enrolled, "ok").await.expect("reinstate A");
    assert_volumes(&mut v, P, &reinstated).await;
}

/// Orders, moves, suspensions, creations and terminations over two periods.
async fn history(h: &mut Harness, v: &mut VolumeClient) {
    let c = &mut h.client;
    let dec = |id: &str, p: &str, vol: &str, k| order(id, p, "2026-12", vol, k);
    for o in [
        dec("d1", "A", "10", Retail),
        dec("d2", "E", "60", Self_),
        dec("d3", "J", "100", Retail),
        dec("d4", "K", "49.9999", Self_),
    ] {
        record_ok(v, o).await;
    }
    record_ok(v, order("c-up", "C", P, "20", Self_)).await;
    move_partner(c, "G", "D", "history").await.expect("move G");
    set_status(c, "H", Suspended, "history").await.expect("suspend H");
    set_status(c, "A", Suspended, "history").await.expect("suspend A");
    create(c, "M", "E").await;
    record_ok(v, order("m-1", "M", P, "70", Self_)).await;
    record_ok(v, dec("m-2", "M", "0.0001", Retail)).await;
    set_status(c, "B", Terminated, "history").await.expect("terminate B");
    set_status(c, "K", Terminated, "history").await.expect("terminate K");
    move_partner(c, "E", "D", "history").await.expect("move E");
    set_status(c, "H", Enrolled, "history").await.expect("reinstate H");
    record_ok(v, order("j-ret", "J", P, "-250", Retail)).await;
    create(c, "N", "J").await;
    move_partner(c, "I", "L", "history").await.expect("move I");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recalculation_after_a_history_finds_no_difference() {
    let (mut h, mut v) = example_with_orders().await;
    let mut o = operations_client(h.addr).await;
    history(&mut h, &mut v).await;
    // 14 partners created, B and K terminated.
    for period in [P, "2026-12"] {
        let r = recalculate(&mut v, &mut o, period).await;
        assert_eq!((r.period.as_str(), r.partner_count, r.difference_count), (period, 12, 0), "{r:?}");
        assert_eq!(r.first_difference, "");
    }
    // Spot values: J's return, M under E under D.
    let d = volumes_ok(&mut v, "D", P).await;
    assert_eq!((d.gv.as_str(), d.frontline_count, d.active_frontline_count), ("1500.00", 3, 3));
    let j = volumes_ok(&mut v, "J", P).await;
    assert_eq!((j.pv.as_str(), j.active), ("50.00", true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recalculation_while_orders_arrive_finds_no_difference() {
    let (h, mut v) = example_with_orders().await;
    let mut o = operations_client(h.addr).await;
    let mut writer = volume_client(h.addr).await;
    let writes = tokio::spawn(async move {
        for i in 0..300 {
            let partner = EXAMPLE_IDS[i % 12];
            let volume = if i % 3 == 0 { "-20.5" } else { "17.25" };
            record_ok(&mut writer, order(&format!("w-{i}"), partner, P, volume, Self_)).await;
        }
    });
    let mut runs = 0;
    while !writes.is_finished() || runs < 3 {
        let r = recalculate(&mut v, &mut o, P).await;
        assert_eq!((r.partner_count, r.difference_count), (12, 0), "{r:?}");
        runs += 1;
    }
    writes.await.expect("writer");
    let r = recalculate(&mut v, &mut o, P).await;
    assert_eq!((r.partner_count, r.difference_count), (12, 0), "{r:?}");
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 315)]);
    // 300 orders: 100 returns of 20.50 and 200 sales of 17.25 = 1400.00 more.
    assert_eq!(volumes_ok(&mut v, "A", P).await.gv, "3585.00");
}

/// Every volume of every partner in every period, and the periods.
async fn observe(
    v: &mut VolumeClient,
    ids: &[&str],
) -> (Vec<pb::PeriodSummary>, Vec<Vec<Result<pb::Volumes, (Code, String)>>>) {
    let listed = periods(v).await;
    let mut all = Vec::new();
    for p in &listed {
        all.push(volumes_of(v, ids, &p.period).await);
    }
    (listed, all)
}

const ALL_IDS: [&str; 14] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_volumes_periods_and_closed_state() {
    let (mut h, mut v) = example_with_orders().await;
    let mut o = operations_client(h.addr).await;
    let oct = |id: &str, p: &str, vol: &str| order(id, p, "2026-10", vol, Retail);
    let answer = record_stream(
        &mut v,
        vec![vec![oct("o1", "A", "5.00"), oct("o2", "F", "55.00")], vec![oct("o3", "L", "1.50")]],
    )
    .await
    .expect("stream");
    assert_eq!(answer.recorded_count, 3);
    history(&mut h, &mut v).await;
    close(&mut v, "2026-10").await.expect("close October");
    let op = recalculate(&mut v, &mut o, P).await;
    assert_eq!(op.difference_count, 0);
    let before = observe(&mut v, &ALL_IDS).await;
    let want_periods = vec![summary("2026-10", true, 3), summary(P, false, 18), summary("2026-12", false, 5)];
    assert_eq!(before.0, want_periods);

    assert_eq!(h.restart().await, 14, "partners recovered");
    let mut v = volume_client(h.addr).await;
    let mut o = operations_client(h.addr).await;
    assert_eq!(observe(&mut v, &ALL_IDS).await, before, "the restart changed what a client reads");

    // Retries are no-ops (also of a terminated partner's order); October still refuses orders.
    for retry in
        [order("ex-14", "L", P, "900.00", Retail), order("ex-2", "B", P, "150.00", Retail), oct("o1", "A", "5.00")]
    {
        assert_eq!(record_ok(&mut v, retry.clone()).await, retry);
    }
    expect_err(record(&mut v, oct("o4", "A", "1")).await, Code::FailedPrecondition, &["period"]);
    expect_err(record(&mut v, order("ex-14", "L", P, "9", Retail)).await, Code::AlreadyExists, &["order_id"]);
    assert_eq!(observe(&mut v, &ALL_IDS).await, before);
    assert_eq!(close(&mut v, "2026-10").await.expect("close again"), summary("2026-10", true, 3));

    // Operations are forgotten; a new recalculation agrees with the recovered volumes.
    let name = format!("operations/recalculate-{P}-1");
    expect_err(o.get_operation(pb::GetOperationRequest { name }).await, Code::NotFound, &["name"]);
    for period in [P, "2026-12"] {
        let r = recalculate(&mut v, &mut o, period).await;
        assert_eq!((r.partner_count, r.difference_count), (12, 0), "{r:?}");
    }

    // New orders after the restart, then a second restart.
    record_ok(&mut v, order("after", "N", P, "50", Self_)).await;
    let n = volumes_ok(&mut v, "N", P).await;
    assert_eq!((n.pv.as_str(), n.active), ("50.00", true));
    let before = observe(&mut v, &ALL_IDS).await;
    h.restart().await;
    let mut v = volume_client(h.addr).await;
    assert_eq!(observe(&mut v, &ALL_IDS).await, before, "the second restart changed what a client reads");
}

/// Asserts partner by partner (short failure messages) that volumes did not change.
#[track_caller]
fn assert_unchanged(
    got: &[Result<pb::Volumes, (Code, String)>],
    want: &[Result<pb::Volumes, (Code, String)>],
    what: &str,
) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "{what}");
    }
}

/// The example's November closed, then G moved to D, H suspended, K
/// terminated and M created under E.
async fn closed_then_changed() -> (Harness, VolumeClient, Vec<Result<pb::Volumes, (Code, String)>>) {
    let (mut h, mut v) = example_with_orders().await;
    close(&mut v, P).await.expect("close");
    let frozen = volumes_of(&mut v, &FROZEN_IDS, P).await;
    move_partner(&mut h.client, "G", "D", "after close").await.expect("move G");
    set_status(&mut h.client, "H", Suspended, "after close").await.expect("suspend H");
    set_status(&mut h.client, "K", Terminated, "after close").await.expect("terminate K");
    create(&mut h.client, "M", "E").await;
    (h, v, frozen)
}

/// The partners of the closed period; K is terminated after the close and
/// keeps its figures there.
const FROZEN_IDS: [&str; 12] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_period_stays_frozen_after_genealogy_changes() {
    let (_h, mut v, frozen) = closed_then_changed().await;
    assert!(frozen.iter().all(Result::is_ok), "every partner of the period has figures: {frozen:?}");
    assert_unchanged(&volumes_of(&mut v, &FROZEN_IDS, P).await, &frozen, "a closed period followed the genealogy");
    let created_later = volumes(&mut v, "M", P).await.expect_err("M did not exist when the period closed");
    assert_eq!(created_later.code(), Code::NotFound, "{created_later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_period_stays_frozen_across_a_restart() {
    let (mut h, mut v, _) = closed_then_changed().await;
    let before = volumes_of(&mut v, &FROZEN_IDS, P).await;
    h.restart().await;
    let mut v = volume_client(h.addr).await;
    assert_unchanged(&volumes_of(&mut v, &FROZEN_IDS, P).await, &before, "a restart recomputed a closed period");
}
