//! Assertions on the google.rpc error details of a refused call: the
//! BadRequest field path of an INVALID_ARGUMENT, the RetryInfo delay of a
//! RESOURCE_EXHAUSTED or UNAVAILABLE.

use std::time::Duration;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The field paths of `status`'s google.rpc.BadRequest detail; panics
/// when it has none.
#[track_caller]
pub fn bad_request_fields(status: &Status) -> Vec<String> {
    let details = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no google.rpc.BadRequest detail on {:?}: {}", status.code(), status.message()));
    details.field_violations.into_iter().map(|v| v.field).collect()
}

/// Every INVALID_ARGUMENT carries a BadRequest whose first field path is
/// the one its message starts with (a refused plan starts with `plan:` and
/// lists `plan.` paths). `expect_err` checks this on every such answer.
#[track_caller]
pub fn check_bad_request(status: &Status) {
    if status.code() != Code::InvalidArgument {
        return;
    }
    let fields = bad_request_fields(status);
    let first = fields.first().unwrap_or_else(|| panic!("an empty BadRequest: {}", status.message()));
    let message = status.message();
    let named =
        message.starts_with(&format!("{first}:")) || (message.starts_with("plan:") && first.starts_with("plan"));
    assert!(named, "the BadRequest path {first:?} is not the field the message names: {message}");
}

/// Asserts `result` is INVALID_ARGUMENT whose BadRequest names exactly
/// `path` (the request's field path, e.g. `order.volume`).
#[track_caller]
pub fn expect_field<T: std::fmt::Debug>(result: Result<T, Status>, path: &str) -> Status {
    let status = result.expect_err("expected INVALID_ARGUMENT");
    assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    assert_eq!(bad_request_fields(&status), [path], "{}", status.message());
    status
}

/// The google.rpc.RetryInfo delay of `status`; panics when it has none.
#[track_caller]
pub fn retry_delay(status: &Status) -> Duration {
    let info = status
        .get_details_retry_info()
        .unwrap_or_else(|| panic!("no google.rpc.RetryInfo on {:?}: {}", status.code(), status.message()));
    info.retry_delay.unwrap_or_else(|| panic!("a RetryInfo without a delay: {}", status.message()))
}
