//! The harness of the gRPC integration tests: a real server on
//! 127.0.0.1:0 over a temporary data directory, restartable on the same
//! directory, a connected generated client, and small helpers that call
//! the API and fail loudly with the status when a call that must succeed
//! does not.
#![allow(dead_code)]

use downline::proto::v1 as pb;
use downline::server::{self, RunningServer, ServerConfig};
use pb::genealogy_service_client::GenealogyServiceClient;
use std::net::SocketAddr;
use std::path::Path;
use tempfile::TempDir;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The generated client over a plain channel.
pub type Client = GenealogyServiceClient<Channel>;

/// The joining day every helper-created partner gets.
pub const JOINED: &str = "2026-01-15";

/// Starts a real server over `dir` on a free port of 127.0.0.1.
pub async fn start_server(dir: &Path) -> RunningServer {
    let config = ServerConfig { data_dir: dir.to_path_buf(), listen: "127.0.0.1:0".parse().expect("address") };
    server::start(config).await.expect("the server starts")
}

/// A channel to a server.
pub async fn channel(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("the client connects")
}

/// A connected genealogy client (responses up to 64 MiB).
pub async fn connect(addr: SocketAddr) -> Client {
    GenealogyServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("the client connects")
        .max_decoding_message_size(64 << 20)
}

/// A server over its own temporary directory, with a client.
pub struct Harness {
    /// The data directory (removed when the harness is dropped).
    pub dir: TempDir,
    /// The address of the running server.
    pub addr: SocketAddr,
    /// A client of the running server.
    pub client: Client,
    server: Option<RunningServer>,
}

impl Harness {
    /// A fresh server over an empty directory.
    pub async fn new() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(dir.path()).await;
        let addr = server.local_addr;
        let client = connect(addr).await;
        Harness { dir, addr, client, server: Some(server) }
    }

    /// Shuts the server down (flush, close) and starts a new one over the
    /// same directory; returns how many partners it recovered.
    pub async fn restart(&mut self) -> usize {
        let old = self.server.take().expect("a running server");
        old.shutdown().await.expect("a clean shutdown");
        let server = start_server(self.dir.path()).await;
        self.addr = server.local_addr;
        self.client = connect(self.addr).await;
        let recovered = server.recovered_partners;
        self.server = Some(server);
        recovered
    }

    /// Makes the server's next flush fail as a full disk would.
    pub fn fail_next_flush(&self) {
        self.server.as_ref().expect("a running server").fail_next_flush();
    }

    /// Shuts the server down cleanly.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
    }
}

/// A request carrying the `x-downline-actor` metadata.
pub fn as_actor<T>(message: T, actor: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-downline-actor", actor.parse().expect("ascii actor"));
    request
}

/// A creation request joined on [`JOINED`], without a display name.
pub fn row(id: &str, sponsor: &str) -> pb::CreatePartnerRequest {
    pb::CreatePartnerRequest {
        partner_id: id.to_owned(),
        sponsor_id: sponsor.to_owned(),
        joined_on: JOINED.to_owned(),
        display_name: String::new(),
    }
}

/// Creates a partner (empty sponsor: a root) or panics with the status.
pub async fn create(c: &mut Client, id: &str, sponsor: &str) -> pb::Partner {
    c.create_partner(row(id, sponsor)).await.unwrap_or_else(|s| panic!("create {id}: {s:?}")).into_inner()
}

/// GetPartner or panic.
pub async fn get(c: &mut Client, id: &str) -> pb::Partner {
    c.get_partner(pb::GetPartnerRequest { partner_id: id.to_owned() })
        .await
        .unwrap_or_else(|s| panic!("get {id}: {s:?}"))
        .into_inner()
}

/// GetPartner of many partners.
pub async fn get_all(c: &mut Client, ids: &[&str]) -> Vec<pb::Partner> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get(c, id).await);
    }
    out
}

/// One ListDownline call.
pub async fn downline_page(
    c: &mut Client,
    id: &str,
    max_depth: u32,
    page_size: i32,
    token: &str,
) -> Result<pb::ListDownlineResponse, Status> {
    let request =
        pb::ListDownlineRequest { partner_id: id.to_owned(), max_depth, page_size, page_token: token.to_owned() };
    c.list_downline(request).await.map(tonic::Response::into_inner)
}

/// The whole downline listing, page after page, as (level, partner).
pub async fn downline_all(c: &mut Client, id: &str, max_depth: u32, page_size: i32) -> Vec<(u32, pb::Partner)> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page =
            downline_page(c, id, max_depth, page_size, &token).await.unwrap_or_else(|s| panic!("downline {id}: {s:?}"));
        if page_size > 0 {
            assert!(page.members.len() <= page_size as usize, "a page of {} exceeds {page_size}", page.members.len());
        }
        out.extend(page.members.into_iter().map(|m| (m.level, m.partner.expect("member partner"))));
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// The downline listing as (level, id).
pub async fn downline_ids(c: &mut Client, id: &str, max_depth: u32, page_size: i32) -> Vec<(u32, String)> {
    downline_all(c, id, max_depth, page_size).await.into_iter().map(|(l, p)| (l, p.partner_id)).collect()
}

/// GetUpline as (level, id).
pub async fn upline_ids(c: &mut Client, id: &str, max_levels: u32) -> Vec<(u32, String)> {
    c.get_upline(pb::GetUplineRequest { partner_id: id.to_owned(), max_levels })
        .await
        .unwrap_or_else(|s| panic!("upline {id}: {s:?}"))
        .into_inner()
        .members
        .into_iter()
        .map(|m| (m.level, m.partner.expect("upline partner").partner_id))
        .collect()
}

/// One ListGenealogyEvents call.
pub async fn events_page(
    c: &mut Client,
    partner_id: &str,
    page_size: i32,
    token: &str,
) -> Result<pb::ListGenealogyEventsResponse, Status> {
    let request =
        pb::ListGenealogyEventsRequest { partner_id: partner_id.to_owned(), page_size, page_token: token.to_owned() };
    c.list_genealogy_events(request).await.map(tonic::Response::into_inner)
}

/// Every event (of one partner, or all with ""), page after page.
pub async fn events_all(c: &mut Client, partner_id: &str, page_size: i32) -> Vec<pb::GenealogyEvent> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = events_page(c, partner_id, page_size, &token).await.unwrap_or_else(|s| panic!("events: {s:?}"));
        out.extend(page.events);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// ImportPartners with one stream message per chunk.
pub async fn import(
    c: &mut Client,
    chunks: Vec<Vec<pb::CreatePartnerRequest>>,
) -> Result<pb::ImportPartnersResponse, Status> {
    import_as(c, chunks, None).await
}

/// ImportPartners, optionally with an actor.
pub async fn import_as(
    c: &mut Client,
    chunks: Vec<Vec<pb::CreatePartnerRequest>>,
    actor: Option<&str>,
) -> Result<pb::ImportPartnersResponse, Status> {
    let stream = tokio_stream::iter(chunks.into_iter().map(|partners| pb::ImportPartnersRequest { partners }));
    let mut request = Request::new(stream);
    if let Some(actor) = actor {
        request.metadata_mut().insert("x-downline-actor", actor.parse().expect("ascii actor"));
    }
    c.import_partners(request).await.map(tonic::Response::into_inner)
}

/// MovePartner with a reason.
pub async fn move_partner(c: &mut Client, id: &str, new_sponsor: &str, reason: &str) -> Result<pb::Partner, Status> {
    let request = pb::MovePartnerRequest {
        partner_id: id.to_owned(),
        new_sponsor_id: new_sponsor.to_owned(),
        reason: reason.to_owned(),
    };
    c.move_partner(request).await.map(tonic::Response::into_inner)
}

/// SetPartnerStatus with a reason.
pub async fn set_status(
    c: &mut Client,
    id: &str,
    status: pb::PartnerStatus,
    reason: &str,
) -> Result<pb::Partner, Status> {
    let request =
        pb::SetPartnerStatusRequest { partner_id: id.to_owned(), status: status as i32, reason: reason.to_owned() };
    c.set_partner_status(request).await.map(tonic::Response::into_inner)
}

/// Asserts a call failed with `code` and a message containing every needle.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, needles: &[&str]) -> Status {
    let status = match result {
        Ok(value) => panic!("expected {code:?} {needles:?}, got Ok({value:?})"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "wrong code; message: {}", status.message());
    for needle in needles {
        assert!(status.message().contains(needle), "message {:?} does not contain {needle:?}", status.message());
    }
    status
}

/// A partner as the API must show it.
pub fn partner(
    id: &str,
    sponsor: &str,
    status: pb::PartnerStatus,
    depth: u32,
    frontline: u32,
    downline: u64,
) -> pb::Partner {
    pb::Partner {
        partner_id: id.to_owned(),
        sponsor_id: sponsor.to_owned(),
        status: status as i32,
        depth,
        joined_on: JOINED.to_owned(),
        display_name: String::new(),
        frontline_count: frontline,
        downline_count: downline,
    }
}

/// The ids of the sample tree, in creation order.
pub const SAMPLE_IDS: [&str; 10] = ["root", "b", "a", "a1", "b1", "c", "a2", "b1x", "a1x", "b1y"];

/// The breadth-first downline of `root` in the sample tree.
pub const SAMPLE_BFS: [(u32, &str); 9] =
    [(1, "b"), (1, "a"), (1, "c"), (2, "b1"), (2, "a1"), (2, "a2"), (3, "b1x"), (3, "b1y"), (3, "a1x")];

/// Creates the sample tree (creation order differs from breadth-first
/// order, so the listing order is really by sponsor, then creation):
///
/// ```text
/// root ─┬─ b ── b1 ─┬─ b1x
///       │           └─ b1y
///       ├─ a ─┬─ a1 ── a1x
///       │     └─ a2
///       └─ c
/// ```
pub async fn sample_tree(c: &mut Client) {
    for (id, sponsor) in [
        ("root", ""),
        ("b", "root"),
        ("a", "root"),
        ("a1", "a"),
        ("b1", "b"),
        ("c", "root"),
        ("a2", "a"),
        ("b1x", "b1"),
        ("a1x", "a1"),
        ("b1y", "b1"),
    ] {
        create(c, id, sponsor).await;
    }
}

// ---------------------------------------------------------------------------
// Volumes and operations (the volume_* tests): clients, the worked example of
// example.md, and whole-message expectations of GetVolumes.

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

/// A server holding the example network and its 15 orders of [`EXAMPLE_PERIOD`].
pub async fn example_with_orders() -> (Harness, VolumeClient) {
    let mut h = Harness::new().await;
    example_tree(&mut h.client).await;
    let mut v = volume_client(h.addr).await;
    for o in example_orders(EXAMPLE_PERIOD) {
        record_ok(&mut v, o).await;
    }
    (h, v)
}
