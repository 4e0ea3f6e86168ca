//! The lean client of `downline-tools loadtest` (`--client h2`, the default):
//! unary gRPC calls written straight onto HTTP/2 streams with the `h2`
//! crate, the same frames a gRPC client sends.
//!
//! Why: on a small machine the load generator shares the cores with the
//! server, and every microsecond it spends is taken from the server being
//! measured. The full tonic client (channel, buffer task, hyper dispatch,
//! typed decoding) cost ~95 µs of CPU a request here; this one encodes the
//! request once with prost, sends it on a stream, drains the answer and
//! checks `grpc-status`, for about half of that (BENCHMARKS.md). The
//! answer is checked to be one whole gRPC message but not decoded: the load
//! test measures the server (its answers' contents are the API tests' job).
//!
//! It speaks plaintext HTTP/2 only; TLS targets and the streaming
//! `record-orders` use the tonic client.

use crate::bearer::Bearer;
use crate::loadtest::Rpc;
use crate::loadtest_stats::Outcome;
use bytes::{BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use http::header::{AUTHORIZATION, CONTENT_TYPE, TE};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};

/// The header a gRPC answer's status travels in.
const GRPC_STATUS: &str = "grpc-status";

/// One HTTP/2 connection to the server and what every request carries.
#[derive(Clone)]
pub struct LeanChannel {
    send: SendRequest<Bytes>,
    /// The RPC's full URI, made once.
    uri: Uri,
    authorization: Option<HeaderValue>,
}

/// Whether the lean client can send this RPC (unary calls only).
pub fn supports(rpc: Rpc) -> bool {
    !matches!(rpc, Rpc::RecordOrders)
}

/// The method path of a unary RPC.
pub fn path(rpc: Rpc) -> &'static str {
    match rpc {
        Rpc::GetPartner => "/downline.v1.GenealogyService/GetPartner",
        Rpc::GetUpline => "/downline.v1.GenealogyService/GetUpline",
        Rpc::ListDownline => "/downline.v1.GenealogyService/ListDownline",
        Rpc::CreatePartner => "/downline.v1.GenealogyService/CreatePartner",
        Rpc::GetVolumes => "/downline.v1.VolumeService/GetVolumes",
        Rpc::RecordOrder => "/downline.v1.VolumeService/RecordOrder",
        Rpc::RecordOrders => "/downline.v1.VolumeService/RecordOrders",
        Rpc::GetTeamProgress => "/downline.v1.TeamService/GetTeamProgress",
        Rpc::GetRankProgress => "/downline.v1.CompensationService/GetRankProgress",
        Rpc::RecordTrainingCompletion => "/downline.v1.TeamService/RecordTrainingCompletion",
    }
}

/// A message in gRPC's length-prefixed framing (uncompressed).
pub fn frame<M: prost::Message>(message: &M) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    message.encode(&mut buf).expect("the buffer was sized for the message");
    buf.freeze()
}

impl LeanChannel {
    /// Opens a connection to `target` (`http://host:port`) for calls of `rpc`.
    pub async fn connect(target: &str, bearer: &Bearer, rpc: Rpc) -> Result<LeanChannel, String> {
        let uri: Uri = target.parse().map_err(|e| format!("--target {target}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("--client h2 speaks plaintext HTTP/2 only; use --client tonic for {target}"));
        }
        let authority = uri.authority().ok_or_else(|| format!("--target {target} has no host"))?.to_string();
        let tcp = tokio::net::TcpStream::connect(authority.as_str())
            .await
            .map_err(|e| format!("cannot connect to {target}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let (send, connection) =
            h2::client::handshake(tcp).await.map_err(|e| format!("HTTP/2 handshake with {target}: {e}"))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "load test connection ended");
            }
        });
        let authorization = bearer.header_value();
        let uri = format!("http://{authority}{}", path(rpc)).parse().map_err(|e| format!("--target {target}: {e}"))?;
        Ok(LeanChannel { send, uri, authorization })
    }

    /// Sends one unary call and waits for its whole answer; `Ok` when the
    /// server answered `grpc-status: 0`.
    pub async fn unary(&self, body: Bytes, actor: Option<&'static str>) -> Result<(), Outcome> {
        let transport = |e: h2::Error| Outcome::Transport(e.to_string());
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/grpc"))
            .header(TE, HeaderValue::from_static("trailers"));
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        if let Some(actor) = actor {
            request = request.header(downline::service::ACTOR_HEADER, HeaderValue::from_static(actor));
        }
        let request = request.body(()).map_err(|e| Outcome::Transport(e.to_string()))?;
        let mut send = self.send.clone().ready().await.map_err(transport)?;
        let (answer, mut stream) = send.send_request(request, false).map_err(transport)?;
        stream.send_data(body, true).map_err(transport)?;
        let answer = answer.await.map_err(transport)?;
        if answer.status() != http::StatusCode::OK {
            return Err(Outcome::Transport(format!("HTTP status {}", answer.status())));
        }
        // A failed call may answer with headers only ("trailers-only").
        if let Some(code) = grpc_status(answer.headers()) {
            return code;
        }
        let mut body = answer.into_body();
        let mut frame = FrameCheck::default();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(transport)?;
            frame.add(&chunk);
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        let trailers = body.trailers().await.map_err(transport)?;
        let status = trailers
            .as_ref()
            .and_then(grpc_status)
            .unwrap_or_else(|| Err(Outcome::Transport("the answer has no grpc-status".into())));
        match status {
            Ok(()) if !frame.is_one_message() => Err(Outcome::Transport("the answer is not one gRPC message".into())),
            other => other,
        }
    }
}

/// Checks, without decoding it, that an answer's body is exactly one
/// uncompressed gRPC message: a 5-byte prefix whose length is the rest.
#[derive(Default)]
pub struct FrameCheck {
    prefix: [u8; 5],
    prefix_len: usize,
    total_len: usize,
}

impl FrameCheck {
    /// Takes the next piece of the body.
    pub fn add(&mut self, chunk: &[u8]) {
        let take = chunk.len().min(5 - self.prefix_len);
        self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&chunk[..take]);
        self.prefix_len += take;
        self.total_len += chunk.len();
    }

    /// Whether the body seen so far is one whole uncompressed message.
    pub fn is_one_message(&self) -> bool {
        let declared = u32::from_be_bytes([self.prefix[1], self.prefix[2], self.prefix[3], self.prefix[4]]);
        self.prefix_len == 5 && self.prefix[0] == 0 && declared as usize == self.total_len - 5
    }
}

/// The outcome a `grpc-status` header names, if there is one.
fn grpc_status(headers: &HeaderMap) -> Option<Result<(), Outcome>> {
    let value = headers.get(GRPC_STATUS)?;
    let code = value.to_str().ok().and_then(|v| v.parse::<i32>().ok());
    Some(match code {
        Some(0) => Ok(()),
        Some(code) => Err(Outcome::Status(tonic::Code::from(code))),
        None => Err(Outcome::Transport(format!("unreadable grpc-status {value:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::FrameCheck;

    fn check(pieces: &[&[u8]]) -> bool {
        let mut frame = FrameCheck::default();
        pieces.iter().for_each(|p| frame.add(p));
        frame.is_one_message()
    }

    #[test]
    fn one_whole_message_in_any_pieces() {
        let whole: &[u8] = &[0, 0, 0, 0, 3, 10, 1, 65];
        assert!(check(&[whole]));
        assert!(check(&[&whole[..2], &whole[2..6], &whole[6..]]));
        assert!(check(&[&[0, 0, 0, 0, 0]]), "an empty message is one message");
    }

    #[test]
    fn anything_else_is_refused() {
        assert!(!check(&[]), "no body");
        assert!(!check(&[&[0, 0, 0]]), "a cut prefix");
        assert!(!check(&[&[0, 0, 0, 0, 3, 10, 1]]), "a cut message");
        assert!(!check(&[&[0, 0, 0, 0, 1, 10, 1]]), "bytes after the message");
        assert!(!check(&[&[1, 0, 0, 0, 1, 10]]), "a compressed message");
    }
}
