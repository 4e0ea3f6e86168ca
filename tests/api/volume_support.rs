//! Helpers of the volume and operations tests: clients, the worked example
//! of example.md (its network, its 15 orders and its table of volumes), and
//! whole-message expectations of GetVolumes.

use crate::genealogy_support::create;
use crate::harness::{channel, Client, Harness};
use downline::proto::v1 as pb;
use std::net::SocketAddr;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The generated volume client.
pub type VolumeClient = pb::volume_service_client::VolumeServiceClient<Channel>;
/// The generated operations client.
pub type OperationsClient = pb::operations_service_client::OperationsServiceClient<Channel>;

/// A connected volume client.
pub async fn volume_client(addr: SocketAddr) -> VolumeClient {
    VolumeClient::new(channel(addr).await)
}

/// A connected operations client.
pub async fn operations_client(addr: SocketAddr) -> OperationsClient {
    OperationsClient::new(channel(addr).await)
}

/// The period of example.md.
pub const EXAMPLE_PERIOD: &str = "2026-11";

/// The network of example.md as (id, sponsor), sponsors first.
pub const EXAMPLE_TREE: [(&str, &str); 12] = [
    ("A", ""),
    ("B", "A"),
    ("C", "A"),
    ("D", "A"),
    ("E", "B"),
    ("F", "B"),
    ("G", "C"),
    ("H", "C"),
    ("I", "G"),
    ("J", "I"),
    ("K", "E"),
    ("L", "D"),
];

/// The ids of example.md, A to L.
pub const EXAMPLE_IDS: [&str; 12] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];

/// Creates the network of example.md.
pub async fn example_tree(c: &mut Client) {
    for (id, sponsor) in EXAMPLE_TREE {
        create(c, id, sponsor).await;
    }
}

/// An order.
pub fn order(id: &str, partner: &str, period: &str, volume: &str, kind: pb::OrderKind) -> pb::Order {
    pb::Order {
        order_id: id.to_owned(),
        partner_id: partner.to_owned(),
        period: period.to_owned(),
        volume: volume.to_owned(),
        kind: kind as i32,
        ..pb::Order::default()
    }
}

/// The 15 orders of example.md, ids `ex-1` .. `ex-15`, in `period`.
pub fn example_orders(period: &str) -> Vec<pb::Order> {
    use pb::OrderKind::{Fee, Retail, Self_};
    let rows = [
        ("A", "100.00", Retail),
        ("B", "150.00", Retail),
        ("B", "50.00", Self_),
        ("C", "30.00", Self_),
        ("D", "60.00", Self_),
        ("E", "400.00", Retail),
        ("E", "100.00", Self_),
        ("F", "49.00", Fee),
        ("G", "80.00", Retail),
        ("H", "120.00", Self_),
        ("I", "40.00", Retail),
        ("J", "300.00", Retail),
        ("K", "55.00", Self_),
        ("L", "900.00", Retail),
        ("L", "-200.00", Retail),
    ];
    rows.iter().enumerate().map(|(i, (p, v, k))| order(&format!("ex-{}", i + 1), p, period, v, *k)).collect()
}

/// RecordOrder.
pub async fn record(v: &mut VolumeClient, order: pb::Order) -> Result<pb::Order, Status> {
    v.record_order(pb::RecordOrderRequest { order: Some(order) }).await.map(tonic::Response::into_inner)
}

/// RecordOrder that must succeed; returns the stored order.
pub async fn record_ok(v: &mut VolumeClient, order: pb::Order) -> pb::Order {
    let id = order.order_id.clone();
    record(v, order).await.unwrap_or_else(|s| panic!("record {id}: {s:?}"))
}

/// RecordOrders with one stream message per chunk.
pub async fn record_stream(
    v: &mut VolumeClient,
    chunks: Vec<Vec<pb::Order>>,
) -> Result<pb::RecordOrdersResponse, Status> {
    let stream = tokio_stream::iter(chunks.into_iter().map(|orders| pb::RecordOrdersRequest { orders }));
    v.record_orders(Request::new(stream)).await.map(tonic::Response::into_inner)
}

/// GetVolumes.
pub async fn volumes(v: &mut VolumeClient, partner: &str, period: &str) -> Result<pb::Volumes, Status> {
    let request = pb::GetVolumesRequest { partner_id: partner.to_owned(), period: period.to_owned() };
    v.get_volumes(request).await.map(tonic::Response::into_inner)
}

/// GetVolumes that must succeed.
pub async fn volumes_ok(v: &mut VolumeClient, partner: &str, period: &str) -> pb::Volumes {
    volumes(v, partner, period).await.unwrap_or_else(|s| panic!("volumes of {partner} in {period}: {s:?}"))
}

/// ListPeriods that must succeed.
pub async fn periods(v: &mut VolumeClient) -> Vec<pb::PeriodSummary> {
    v.list_periods(pb::ListPeriodsRequest {}).await.expect("ListPeriods").into_inner().periods
}

/// A period summary.
pub fn summary(period: &str, closed: bool, order_count: u64) -> pb::PeriodSummary {
    pb::PeriodSummary { period: period.to_owned(), closed, order_count }
}

/// ClosePeriod.
pub async fn close(v: &mut VolumeClient, period: &str) -> Result<pb::PeriodSummary, Status> {
    v.close_period(pb::ClosePeriodRequest { period: period.to_owned() }).await.map(tonic::Response::into_inner)
}

/// Parses a volume string of the API into units of 0.0001.
pub fn units(text: &str) -> i64 {
    let (negative, digits) = text.strip_prefix('-').map_or((false, text), |d| (true, d));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(frac.len() <= 4, "{text} has more than 4 places");
    let value =
        whole.parse::<i64>().expect("whole part") * 10_000 + format!("{frac:0<4}").parse::<i64>().expect("fraction");
    if negative {
        -value
    } else {
        value
    }
}

/// Formats units as the API does: at least 2 and at most 4 places.
pub fn format_units(units: i64) -> String {
    let mut frac = format!("{:04}", units.unsigned_abs() % 10_000);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}{}.{frac}", if units < 0 { "-" } else { "" }, units.unsigned_abs() / 10_000)
}

/// The expected volumes of one partner (levels beyond those given are 0).
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    /// The partner.
    pub id: &'a str,
    /// PV, RV, GV.
    pub pv: &'a str,
    /// RV.
    pub rv: &'a str,
    /// GV.
    pub gv: &'a str,
    /// The first levels as (volume, partners, active partners).
    pub levels: &'a [(&'a str, u64, u64)],
    /// Active.
    pub active: bool,
    /// Direct recruits.
    pub frontline: u64,
    /// Active direct recruits.
    pub active_frontline: u64,
}

impl Want<'_> {
    /// The whole GetVolumes answer under the reference plan (7 levels, compression).
    pub fn to_proto(self, period: &str) -> pb::Volumes {
        let levels: Vec<pb::LevelVolume> = (0..7)
            .map(|k| {
                let (volume, partners, active) = self.levels.get(k).copied().unwrap_or(("0.00", 0, 0));
                pb::LevelVolume {
                    level: k as u32 + 1,
                    volume: volume.to_owned(),
                    partner_count: partners,
                    active_count: active,
                }
            })
            .collect();
        let capped = format_units(self.levels.iter().map(|l| units(l.0)).sum());
        pb::Volumes {
            partner_id: self.id.to_owned(),
            period: period.to_owned(),
            pv: self.pv.to_owned(),
            rv: self.rv.to_owned(),
            gv: self.gv.to_owned(),
            levels,
            level_capped_volume: capped,
            active: self.active,
            frontline_count: self.frontline,
            active_frontline_count: self.active_frontline,
            plan_levels: 7,
            compression: true,
        }
    }
}

/// The table of example.md (reference plan), with the level counts worked out by hand.
#[rustfmt::skip]
pub const EXAMPLE_WANT: [Want<'static>; 12] = [
    Want { id: "A", pv: "100.00", rv: "100.00", gv: "2185.00", levels: &[("490.00", 5, 4), ("1540.00", 5, 3), ("55.00", 1, 1)], active: true, frontline: 3, active_frontline: 2 },
    Want { id: "B", pv: "200.00", rv: "150.00", gv: "755.00", levels: &[("500.00", 2, 1), ("55.00", 1, 1)], active: true, frontline: 2, active_frontline: 1 },
    Want { id: "C", pv: "30.00", rv: "0.00", gv: "570.00", levels: &[("200.00", 2, 2), ("340.00", 2, 1)], active: false, frontline: 2, active_frontline: 2 },
    Want { id: "D", pv: "60.00", rv: "0.00", gv: "760.00", levels: &[("700.00", 1, 1)], active: true, frontline: 1, active_frontline: 1 },
    Want { id: "E", pv: "500.00", rv: "400.00", gv: "555.00", levels: &[("55.00", 1, 1)], active: true, frontline: 1, active_frontline: 1 },
    Want { id: "F", pv: "0.00", rv: "0.00", gv: "0.00", levels: &[], active: false, frontline: 0, active_frontline: 0 },
    Want { id: "G", pv: "80.00", rv: "80.00", gv: "420.00", levels: &[("340.00", 2, 1)], active: true, frontline: 1, active_frontline: 0 },
    Want { id: "H", pv: "120.00", rv: "0.00", gv: "120.00", levels: &[], active: true, frontline: 0, active_frontline: 0 },
    Want { id: "I", pv: "40.00", rv: "40.00", gv: "340.00", levels: &[("300.00", 1, 1)], active: false, frontline: 1, active_frontline: 1 },
    Want { id: "J", pv: "300.00", rv: "300.00", gv: "300.00", levels: &[], active: true, frontline: 0, active_frontline: 0 },
    Want { id: "K", pv: "55.00", rv: "0.00", gv: "55.00", levels: &[], active: true, frontline: 0, active_frontline: 0 },
    Want { id: "L", pv: "700.00", rv: "700.00", gv: "700.00", levels: &[], active: true, frontline: 0, active_frontline: 0 },
];

/// The example table with some partners replaced.
pub fn example_with<'a>(changes: &[Want<'a>]) -> Vec<Want<'a>> {
    EXAMPLE_WANT.iter().map(|w| changes.iter().find(|c| c.id == w.id).copied().unwrap_or(*w)).collect()
}

/// Asserts GetVolumes of every partner of `wants`, whole messages.
pub async fn assert_volumes(v: &mut VolumeClient, period: &str, wants: &[Want<'_>]) {
    for want in wants {
        let got = volumes_ok(v, want.id, period).await;
        assert_eq!(got, want.to_proto(period), "volumes of {} in {period}", want.id);
    }
}

/// GetVolumes of many partners, errors as (code, message), for comparisons.
pub async fn volumes_of(v: &mut VolumeClient, ids: &[&str], period: &str) -> Vec<Result<pb::Volumes, (Code, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(volumes(v, id, period).await.map_err(|s| (s.code(), s.message().to_owned())));
    }
    out
}

/// Polls GetOperation until the operation is done (at most 30 s).
pub async fn wait_operation(o: &mut OperationsClient, name: &str) -> pb::Operation {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let op = o
            .get_operation(pb::GetOperationRequest { name: name.to_owned() })
            .await
            .unwrap_or_else(|s| panic!("GetOperation {name}: {s:?}"))
            .into_inner();
        assert_eq!(op.name, name);
        if op.done {
            return op;
        }
        assert!(std::time::Instant::now() < deadline, "operation {name} not done after 30 s: {op:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Starts RecalculateVolumes of a period and waits for its result.
pub async fn recalculate(v: &mut VolumeClient, o: &mut OperationsClient, period: &str) -> pb::RecalculationResult {
    let op = v
        .recalculate_volumes(pb::RecalculateVolumesRequest { period: period.to_owned() })
        .await
        .unwrap_or_else(|s| panic!("RecalculateVolumes {period}: {s:?}"))
        .into_inner();
    assert!(op.name.starts_with("operations/"), "operation name {:?}", op.name);
    let done = wait_operation(o, &op.name).await;
    assert!(done.end_time_unix_ms >= done.start_time_unix_ms && done.start_time_unix_ms > 0, "{done:?}");
    match done.result {
        Some(pb::operation::Result::Recalculation(r)) => r,
        other => panic!("recalculation of {period} ended with {other:?}"),
    }
}

/// A server holding the example network, no orders yet.
pub async fn example_network() -> (Harness, VolumeClient) {
    let mut h = Harness::new().await;
    example_tree(&mut h.client).await;
    let v = volume_client(h.addr).await;
    (h, v)
}

/// A server holding the example network and its 15 orders of [`EXAMPLE_PERIOD`].
pub async fn example_with_orders() -> (Harness, VolumeClient) {
    let (h, mut v) = example_network().await;
    for o in example_orders(EXAMPLE_PERIOD) {
        record_ok(&mut v, o).await;
    }
    (h, v)
}
