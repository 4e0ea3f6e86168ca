//! What `downline.v1.VolumeService` and `OperationsService` refuse, through
//! the real server: malformed orders (volume, kind, period, ids, a missing
//! order), unknown partners, refused orders inside a RecordOrders stream
//! (with their positions, the rest recorded), periods (listing, closing,
//! orders for a closed period, unknown and malformed periods), and the
//! errors of RecalculateVolumes and GetOperation.
//!
//! Every refusal has its exact code, a message that starts with the
//! offending field, and changes nothing: ListPeriods and every partner's
//! GetVolumes are compared before and after.

use crate::harness::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::OrderKind::{Fee, Retail, Self_};
use tonic::Code;

const P: &str = EXAMPLE_PERIOD;

/// Everything a client can read of the volumes.
async fn observe(v: &mut VolumeClient) -> (Vec<pb::PeriodSummary>, Vec<Result<pb::Volumes, (Code, String)>>) {
    (periods(v).await, volumes_of(v, &EXAMPLE_IDS, P).await)
}

/// Asserts a refusal: its code, and a message that starts with the field;
/// an INVALID_ARGUMENT's BadRequest names exactly that field path.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: Code, field: &str, what: &str) {
    let status = expect_err(result, code, &[]);
    assert!(
        status.message().starts_with(field),
        "{what}: message {:?} does not start with {field:?}",
        status.message()
    );
    if code == Code::InvalidArgument {
        assert_eq!(crate::details_support::bad_request_fields(&status), [field], "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_orders_are_refused_and_record_nothing() {
    let (_h, mut v) = example_with_orders().await;
    let before = observe(&mut v).await;
    let bad_volumes = [
        "1.23456",
        "abc",
        "1e3",
        "1000000000.01",
        "1000000000.0001",
        "-1000000000.01",
        "",
        "+5",
        " 5",
        "5 ",
        "1,5",
        "1.2.3",
        "--1",
        "-",
        ".",
        "NaN",
        "0.00001",
        // 29 places: rounded by a lenient parser to 0.5, 1 and 0.
        "0.49999999999999999999999999999",
        "0.99999999999999999999999999999",
        "-0.00000000000000000000000000001",
        "12345678901234567890123456789012345678901",
    ];
    for (i, volume) in bad_volumes.iter().enumerate() {
        let o = order(&format!("bad-volume-{i}"), "A", P, volume, Retail);
        refused(record(&mut v, o).await, Code::InvalidArgument, "order.volume", volume);
    }
    for kind in [pb::OrderKind::Unspecified as i32, 4, -1] {
        let o = pb::Order { kind, ..order("bad-kind", "A", P, "1.00", Retail) };
        refused(record(&mut v, o).await, Code::InvalidArgument, "order.kind", &kind.to_string());
    }
    let missing = v.record_order(pb::RecordOrderRequest { order: None }).await;
    refused(missing, Code::InvalidArgument, "order", "missing order");
    for period in ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "1899-12", "2026-11-01", "２026-11"] {
        let o = order("bad-period", "A", period, "1.00", Retail);
        refused(record(&mut v, o).await, Code::InvalidArgument, "order.period", period);
    }
    let long_id = "o".repeat(65);
    for id in ["", "a b", "ä", "x/y", long_id.as_str()] {
        refused(record(&mut v, order(id, "A", P, "1.00", Retail)).await, Code::InvalidArgument, "order.order_id", id);
    }
    for partner in ["", "a b", long_id.as_str()] {
        let o = order("bad-partner", partner, P, "1.00", Retail);
        refused(record(&mut v, o).await, Code::InvalidArgument, "order.partner_id", partner);
    }
    let status = expect_err(record(&mut v, order("nobody", "ZZ", P, "1.00", Retail)).await, Code::NotFound, &["ZZ"]);
    assert!(status.message().starts_with("order.partner_id"), "{}", status.message());
    // A well-formed order in an unknown period for an unknown partner opens no period.
    let o = order("nobody-2", "ZZ", "2027-01", "1.00", Retail);
    expect_err(record(&mut v, o).await, Code::NotFound, &["partner_id"]);

    assert_eq!(observe(&mut v).await, before, "a refused order changed something");
    // None of the refused ids is taken: each records now, as new.
    record_ok(&mut v, order("bad-volume-0", "A", P, "1.2345", Retail)).await;
    record_ok(&mut v, order("bad-kind", "A", P, "1.00", Fee)).await;
    record_ok(&mut v, order("nobody", "A", P, "-1.2345", Retail)).await;
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 18)]);
    assert_volumes(&mut v, P, &EXAMPLE_WANT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_messages_say_what_is_wrong_and_zeros_past_the_places_are_none() {
    let (_h, mut v) = example_with_orders().await;
    let before = observe(&mut v).await;
    let (thirty_digits, thirty_places) = ("9".repeat(30), format!("0.{}1", "0".repeat(30)));
    let cases = [
        (thirty_digits.as_str(), "is out of range: the absolute value may be at most 1000000000"),
        ("-1000000000.0001", "is out of range"),
        (thirty_places.as_str(), "has more than 4 decimal places"),
        ("99999999999.00001", "has more than 4 decimal places"),
        ("1.2.3", "is not a decimal number"),
    ];
    for (volume, says) in cases {
        let status =
            expect_err(record(&mut v, order("d", "A", P, volume, Retail)).await, Code::InvalidArgument, &[says]);
        assert!(status.message().starts_with("order.volume: "), "{}", status.message());
    }
    assert_eq!(observe(&mut v).await, before, "a refused order changed something");
    // Zeros past the fourth place are no places: 36 of them are zero, and
    // 1.50000 is 1.5, so a retry written either way is the same order.
    let zero = format!("0.{}", "0".repeat(36));
    assert_eq!(record_ok(&mut v, order("zero", "A", P, &zero, Retail)).await.volume, "0.00");
    assert_eq!(record_ok(&mut v, order("minus-zero", "A", P, "-0.000", Retail)).await.volume, "0.00");
    assert_eq!(record_ok(&mut v, order("half", "A", P, "1.50000", Retail)).await.volume, "1.50");
    assert_eq!(record_ok(&mut v, order("half", "A", P, "1.5", Retail)).await.volume, "1.50", "a retry");
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 18)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_refuses_bad_orders_alone_with_their_positions() {
    let (_h, mut v) = example_network().await;
    let chunks = vec![
        vec![order("s1", "A", P, "10", Retail), order("s2", "A", P, "abc", Retail), order("s3", "ZZ", P, "1", Retail)],
        vec![],
        vec![
            pb::Order { kind: 0, ..order("s4", "A", P, "1", Retail) },
            order("s5", "B", P, "60.5", Self_),
            order("s1", "A", P, "10.00", Retail),
        ],
        vec![
            order("s1", "A", P, "11", Retail),
            order("s8", "A", "2026-13", "1", Retail),
            order("s9", "A", "2026-12", "7", Self_),
            order("", "A", P, "1", Retail),
            order("s2", "A", P, "2", Fee),
            order("s12", "B", P, "1.23456", Self_),
        ],
    ];
    let answer = record_stream(&mut v, chunks).await.expect("RecordOrders");
    assert_eq!((answer.recorded_count, answer.repeated_count, answer.refused_count), (4, 1, 7), "{answer:?}");
    let want: Vec<(u64, &str, Code, &str)> = vec![
        (2, "s2", Code::InvalidArgument, "volume"),
        (3, "s3", Code::NotFound, "partner_id"),
        (4, "s4", Code::InvalidArgument, "kind"),
        (7, "s1", Code::AlreadyExists, "order_id"),
        (8, "s8", Code::InvalidArgument, "period"),
        (10, "", Code::InvalidArgument, "order_id"),
        (12, "s12", Code::InvalidArgument, "volume"),
    ];
    assert_eq!(answer.refused.len(), want.len(), "{answer:?}");
    for (got, (position, id, code, field)) in answer.refused.iter().zip(want) {
        assert_eq!((got.position, got.order_id.as_str(), got.code), (position, id, code as i32), "{got:?}");
        assert!(got.message.starts_with(field), "{got:?} does not name {field}");
    }
    // s1, s5 and s2 (the fee, once its bad twin was refused) in 2026-11; s9 in 2026-12.
    assert_eq!(periods(&mut v).await, vec![summary(P, false, 3), summary("2026-12", false, 1)]);
    let a = volumes_ok(&mut v, "A", P).await;
    assert_eq!((a.pv.as_str(), a.rv.as_str(), a.gv.as_str()), ("10.00", "10.00", "70.50"));
    let b = volumes_ok(&mut v, "B", P).await;
    assert_eq!((b.pv.as_str(), b.active), ("60.50", true));
    assert_eq!(a.levels[0], pb::LevelVolume { level: 1, volume: "60.50".into(), partner_count: 8, active_count: 1 });
    let a12 = volumes_ok(&mut v, "A", "2026-12").await;
    assert_eq!((a12.pv.as_str(), a12.rv.as_str(), a12.gv.as_str(), a12.active), ("7.00", "0.00", "7.00", false));

    // An empty stream records nothing and answers zeros.
    let empty = record_stream(&mut v, vec![]).await.expect("empty stream");
    assert_eq!(empty, pb::RecordOrdersResponse::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periods_are_listed_oldest_first_and_closed_periods_refuse_orders() {
    let (_h, mut v) = example_network().await;
    record_ok(&mut v, order("dec", "A", "2026-12", "10", Retail)).await;
    record_ok(&mut v, order("dec-fee", "B", "2026-12", "25", Fee)).await;
    record_ok(&mut v, order("old", "B", "2025-12", "60", Self_)).await;
    record_ok(&mut v, order("jan-1", "C", "2026-01", "70", Retail)).await;
    record_ok(&mut v, order("jan-2", "G", "2026-01", "5", Self_)).await;
    let open = vec![summary("2025-12", false, 1), summary("2026-01", false, 2), summary("2026-12", false, 2)];
    assert_eq!(periods(&mut v).await, open);

    // Unknown and malformed periods.
    for period in ["2026-02", "2030-01"] {
        refused(close(&mut v, period).await, Code::NotFound, "period", period);
        assert_eq!(volumes(&mut v, "A", period).await.expect("zeros").pv, "0.00", "{period} has no orders");
    }
    for period in ["2026-1", "", "2026-13", "abcd-ef"] {
        refused(close(&mut v, period).await, Code::InvalidArgument, "period", period);
        refused(volumes(&mut v, "A", period).await, Code::InvalidArgument, "period", period);
    }
    refused(volumes(&mut v, "ZZ", "2026-01").await, Code::NotFound, "partner_id", "unknown partner");
    refused(volumes(&mut v, "", "2026-01").await, Code::InvalidArgument, "partner_id", "empty partner");
    assert_eq!(periods(&mut v).await, open, "a refused close changed the periods");

    // Close January, twice: the same answer, nothing else changes.
    let jan = volumes_of(&mut v, &EXAMPLE_IDS, "2026-01").await;
    assert_eq!(close(&mut v, "2026-01").await.expect("close"), summary("2026-01", true, 2));
    assert_eq!(close(&mut v, "2026-01").await.expect("close again"), summary("2026-01", true, 2));
    let closed = vec![summary("2025-12", false, 1), summary("2026-01", true, 2), summary("2026-12", false, 2)];
    assert_eq!(periods(&mut v).await, closed);
    assert_eq!(volumes_of(&mut v, &EXAMPLE_IDS, "2026-01").await, jan, "closing changed the volumes");
    let c = volumes_ok(&mut v, "C", "2026-01").await;
    assert_eq!((c.pv.as_str(), c.gv.as_str(), c.active), ("70.00", "75.00", true));

    // New orders for January are refused, by RecordOrder and in a stream.
    for o in [order("jan-3", "A", "2026-01", "1", Retail), order("jan-fee", "A", "2026-01", "1", Fee)] {
        refused(record(&mut v, o).await, Code::FailedPrecondition, "order.period", "closed period");
    }
    // A retry of a January order is still the stored order; other content still ALREADY_EXISTS.
    let jan1 = order("jan-1", "C", "2026-01", "70.00", Retail);
    assert_eq!(record_ok(&mut v, jan1.clone()).await, jan1);
    refused(
        record(&mut v, order("jan-1", "C", "2026-01", "71", Retail)).await,
        Code::AlreadyExists,
        "order.order_id",
        "jan-1",
    );
    let chunk = vec![order("jan-4", "D", "2026-01", "1", Retail), jan1, order("dec-2", "D", "2026-12", "1", Retail)];
    let answer = record_stream(&mut v, vec![chunk]).await.expect("stream");
    assert_eq!((answer.recorded_count, answer.repeated_count, answer.refused_count), (1, 1, 1));
    let r = &answer.refused[0];
    assert_eq!((r.position, r.order_id.as_str(), r.code), (1, "jan-4", Code::FailedPrecondition as i32));
    assert!(r.message.starts_with("period"), "{r:?}");

    let after = vec![summary("2025-12", false, 1), summary("2026-01", true, 2), summary("2026-12", false, 3)];
    assert_eq!(periods(&mut v).await, after);
    assert_eq!(volumes_of(&mut v, &EXAMPLE_IDS, "2026-01").await, jan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recalculation_and_operation_errors() {
    let (h, mut v) = example_with_orders().await;
    let mut o = operations_client(h.addr).await;
    let result = recalculate(&mut v, &mut o, P).await;
    assert_eq!(
        (result.period.as_str(), result.partner_count, result.difference_count, result.first_difference.as_str()),
        (P, 12, 0, "")
    );

    // The operation stays readable once done, with its result.
    let op = v.recalculate_volumes(pb::RecalculateVolumesRequest { period: P.into() }).await.unwrap().into_inner();
    let done = wait_operation(&mut o, &op.name).await;
    let again = o.get_operation(pb::GetOperationRequest { name: op.name.clone() }).await.unwrap().into_inner();
    assert_eq!(again, done);
    let progress = done.progress.expect("progress");
    assert_eq!((progress.phase.as_str(), progress.done_count, progress.total_count), ("done", 12, 12));

    let recalc = |period: &str| pb::RecalculateVolumesRequest { period: period.to_owned() };
    refused(v.recalculate_volumes(recalc("2026-12")).await, Code::NotFound, "period", "no orders");
    for bad in ["", "2026-13", "2026-1"] {
        refused(v.recalculate_volumes(recalc(bad)).await, Code::InvalidArgument, "period", bad);
    }
    record_ok(&mut v, order("old", "A", "2026-10", "1", Retail)).await;
    close(&mut v, "2026-10").await.expect("close");
    refused(v.recalculate_volumes(recalc("2026-10")).await, Code::FailedPrecondition, "period", "closed");

    let get = |name: &str| pb::GetOperationRequest { name: name.to_owned() };
    for name in ["operations/recalculate-2026-11-999", "operations/none", "x"] {
        refused(o.get_operation(get(name)).await, Code::NotFound, "name", name);
    }
    refused(o.get_operation(get("")).await, Code::InvalidArgument, "name", "empty");
    refused(o.get_operation(get(&"n".repeat(201))).await, Code::InvalidArgument, "name", "long");
}
