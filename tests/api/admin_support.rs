//! Helpers of the admin page tests: a minimal HTTP/1.1 client over a
//! tokio socket (one request a connection), the figures a page shows by
//! element id, and a network with a closed period (its official run) and
//! an open one, built through the gRPC API.

use crate::compensation_api::{comp, run, Comp};
use crate::harness::Harness;
use crate::volume_support::{close, example_orders, example_tree, record_ok, volume_client, VolumeClient};
use downline::proto::v1 as pb;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The closed period of the example network, with its official run.
pub const CLOSED: &str = "2026-11";
/// The open period of the example network.
pub const OPEN: &str = "2026-12";
/// The display name that must come back escaped.
pub const HOSTILE_NAME: &str = "<script>alert('owned')</script> & co";

/// An HTTP answer.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The text of the element with `id` (`<tag id="id">text</tag>`).
    #[track_caller]
    pub fn by_id(&self, id: &str) -> &str {
        by_id(&self.body, id)
    }
}

/// The inner HTML of the element with `id` in `html`.
#[track_caller]
pub fn by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no element {id} in {html}")) + marker.len();
    let end = html[start..].find("</").map_or(html.len(), |n| start + n);
    &html[start..end]
}

/// Sends one request (`Connection: close`) and reads the whole answer.
pub async fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the admin page accepts");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.expect("the request is sent");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("the answer is read");
    let text = String::from_utf8(raw).expect("a UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer { status, headers, body: body.to_owned() }
}

/// A GET with no credentials.
pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    http(addr, "GET", path, &[], "").await
}

/// The example network (plus M, named [`HOSTILE_NAME`], under A): its
/// orders of [`CLOSED`], a real run, the close (the run becomes
/// official), then the orders again as [`OPEN`]'s.
pub async fn example_with_closed_period(h: &mut Harness) -> (VolumeClient, Comp) {
    example_tree(&mut h.client).await;
    let hostile = pb::CreatePartnerRequest {
        partner_id: "M".into(),
        sponsor_id: "A".into(),
        joined_on: "2026-02-01".into(),
        display_name: HOSTILE_NAME.into(),
    };
    h.client.create_partner(hostile).await.expect("M is created");
    let (mut v, mut c) = (volume_client(h.addr).await, comp(h.addr).await);
    for o in example_orders(CLOSED) {
        record_ok(&mut v, o).await;
    }
    let done = run(&mut c, CLOSED, false).await;
    assert_eq!(done.state, pb::RunState::Succeeded as i32, "{done:?}");
    close(&mut v, CLOSED).await.expect("the close");
    for mut o in example_orders(OPEN) {
        o.order_id = format!("dec-{}", o.order_id);
        record_ok(&mut v, o).await;
    }
    (v, c)
}
