//! The gRPC services: they map proto messages to application calls and
//! back, and application errors to statuses (`status`), and nothing else.
//! All state lives in [`App`] (`crate::app`).

pub mod access;
pub mod backup;
pub mod caller;
pub mod compensation;
pub mod compensation_convert;
pub mod compensation_runs;
pub mod convert;
pub mod export;
pub mod genealogy;
pub mod guard;
pub mod operations;
/// The limits live in `app`; `service::limits` stays the path callers use.
pub use crate::app::limits;
pub mod page_token;
pub mod plan_mask;
pub mod rpc_log;
pub mod rpc_metrics;
pub mod simulation;
pub mod status;
pub mod stream_bodies;
pub mod team;
pub mod team_convert;
pub mod volume;

pub use crate::app::limits::page_size;
pub use crate::app::{now_unix_ms, App};
use crate::engine::text::text_refusal;
use caller::Caller;
use tonic::Request;

/// The metadata key that names the caller in the audit trail.
pub const ACTOR_HEADER: &str = "x-downline-actor";
/// The longest actor name kept, in bytes.
const MAX_ACTOR_BYTES: usize = 128;

/// The caller's identity for the audit trail: an API key's name, followed
/// by `/` and the `x-downline-actor` metadata when the backend names the
/// person it acts for; in open development mode the metadata alone (or
/// "unknown"). Metadata that is not printable ASCII, too long, or refused
/// by the text rule of free text (a TAB) is ignored.
pub fn actor<T>(request: &Request<T>) -> String {
    let named = request
        .metadata()
        .get(ACTOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && text_refusal(v, MAX_ACTOR_BYTES).is_none());
    match (request.extensions().get::<Caller>(), named) {
        (Some(Caller::Key { name, .. }), Some(person)) => format!("{name}/{person}"),
        (Some(Caller::Key { name, .. }), None) => name.to_string(),
        (Some(Caller::Partner { id, .. }), _) => format!("partner:{id}"),
        (_, Some(person)) => person.to_owned(),
        (_, None) => "unknown".to_owned(),
    }
}
