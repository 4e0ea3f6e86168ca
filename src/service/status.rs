//! The one place where errors become gRPC statuses.

use super::guard::GuardError;
use crate::app::AppError;
use crate::engine::EngineError;
use crate::store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The longest status message, in bytes. Messages travel in the
/// `grpc-message` trailer (percent-encoded, up to 3 bytes a byte), and
/// clients refuse trailers beyond their header-list limit (8-16 KiB in
/// grpc-core, grpc-go and hyper): an error about a hostile request must not
/// turn into a broken connection.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The most field violations one answer details; more are summed up in one
/// last violation. Every detail goes base64-encoded into a trailer too.
pub const MAX_FIELD_VIOLATIONS: usize = 16;

/// The longest description of one field violation, in bytes.
const MAX_VIOLATION_BYTES: usize = 256;

/// `text` cut to at most `max_bytes` (on a character boundary), with an
/// ellipsis when cut.
fn bounded(mut text: String, max_bytes: usize) -> String {
    if text.len() > max_bytes {
        let mut end = max_bytes.saturating_sub('…'.len_utf8());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A status of `code` with a message no longer than [`MAX_MESSAGE_BYTES`].
pub fn status(code: Code, message: String) -> Status {
    Status::new(code, bounded(message, MAX_MESSAGE_BYTES))
}

/// Maps an engine error to the status the caller sees. The message names
/// the field and the value already.
pub fn from_engine(err: EngineError) -> Status {
    if let EngineError::InvalidPlan(violations) = &err {
        return invalid_plan(violations, err.to_string());
    }
    if let EngineError::InvalidArgument { field, .. } = &err {
        return bad_request(field, err.to_string());
    }
    if let EngineError::ResourceExhausted(_) = &err {
        return retry_after(Code::ResourceExhausted, err.to_string(), retry::HARD_LIMIT);
    }
    let code = match &err {
        EngineError::InvalidArgument { .. } => Code::InvalidArgument,
        EngineError::NotFound { .. } => Code::NotFound,
        EngineError::AlreadyExists { .. } => Code::AlreadyExists,
        EngineError::FailedPrecondition { .. } => Code::FailedPrecondition,
        EngineError::ResourceExhausted(_) => Code::ResourceExhausted,
        EngineError::InvalidPlan(_) => Code::InvalidArgument,
        EngineError::Internal(_) => Code::Internal,
    };
    status(code, err.to_string())
}

/// A refused plan: INVALID_ARGUMENT with its field-level errors as
/// google.rpc.BadRequest details, so clients can show each one next to its
/// field; at most [`MAX_FIELD_VIOLATIONS`] of them, the last one saying how
/// many more there are.
fn invalid_plan(violations: &[crate::engine::FieldViolation], message: String) -> Status {
    let shown = violations.len().min(MAX_FIELD_VIOLATIONS - 1);
    let mut details: Vec<FieldViolation> = violations[..shown]
        .iter()
        .map(|v| FieldViolation::new(v.field.clone(), bounded(v.description.clone(), MAX_VIOLATION_BYTES)))
        .collect();
    if violations.len() > shown {
        let more = violations.len() - shown;
        details.push(FieldViolation::new("plan", format!("and {more} more violations: fix these first")));
    }
    let details = ErrorDetails::with_bad_request(details);
    Status::with_error_details(Code::InvalidArgument, bounded(message, MAX_MESSAGE_BYTES), details)
}

/// An INVALID_ARGUMENT about one request field: the message (which names
/// the field) and a google.rpc.BadRequest detail whose one field violation
/// carries the field's path (`order.volume`, `partners[1].sponsor_id`), so
/// a client can show the error next to its field without parsing text.
fn bad_request(field: &str, message: String) -> Status {
    let message = bounded(message, MAX_MESSAGE_BYTES);
    let field = bounded(field.to_owned(), MAX_VIOLATION_BYTES);
    let violation = FieldViolation::new(field, bounded(message.clone(), MAX_VIOLATION_BYTES));
    Status::with_error_details(Code::InvalidArgument, message, ErrorDetails::with_bad_request(vec![violation]))
}

/// How long a client is told to wait before retrying (google.rpc.RetryInfo
/// on every RESOURCE_EXHAUSTED and UNAVAILABLE), by cause. docs/limits.md
/// lists them.
pub mod retry {
    use std::time::Duration;

    /// Load shedding (the guard's concurrency limits): a moment.
    pub const LOAD_SHED: Duration = Duration::from_millis(200);
    /// The job memory budget or a kind of job at its limit: about a 10M
    /// commission run's duration.
    pub const JOB: Duration = Duration::from_secs(10);
    /// A hard limit of the engine (partners, id bytes, modules): it will
    /// not pass by itself soon; an operator must act.
    pub const HARD_LIMIT: Duration = Duration::from_secs(60);
    /// The server is shutting down: retry (elsewhere, or once it is back).
    pub const SHUTTING_DOWN: Duration = Duration::from_secs(1);
    /// The store failed to write (fail-stop): the server must be restarted.
    pub const STORE_FAILED: Duration = Duration::from_secs(30);
}

/// A refusal the client may retry after `delay`, with google.rpc.RetryInfo.
fn retry_after(code: Code, message: String, delay: std::time::Duration) -> Status {
    let details = ErrorDetails::with_retry_info(Some(delay));
    Status::with_error_details(code, bounded(message, MAX_MESSAGE_BYTES), details)
}

/// Maps a store error. A failed store answers UNAVAILABLE for good: the
/// server no longer serves anything (see ARCHITECTURE.md, durability).
pub fn from_store(err: StoreError) -> Status {
    tracing::error!(error = %err, "store error");
    match err {
        StoreError::Corrupt(_) | StoreError::DataDir(_) => status(Code::DataLoss, err.to_string()),
        StoreError::Sled(_) | StoreError::Failed(_) | StoreError::Interrupted => {
            retry_after(Code::Unavailable, err.to_string(), retry::STORE_FAILED)
        }
        StoreError::BackupBusy => retry_after(Code::ResourceExhausted, err.to_string(), retry::JOB),
        StoreError::BackupAborted(_) => status(Code::Aborted, err.to_string()),
    }
}

/// A blocking task that did not finish (it panicked or was cancelled).
pub fn from_join(err: tokio::task::JoinError) -> Status {
    tracing::error!(error = %err, "blocking task failed");
    status(Code::Internal, "the request's task failed; it changed nothing that was acknowledged".into())
}

/// A backup piece whose making panicked: the backup stopped (its turn is
/// free again), the store is unharmed.
pub fn backup_panicked() -> Status {
    tracing::error!("a backup piece panicked; the backup stopped, the server goes on");
    status(Code::Internal, "the backup failed inside the server; the store is unharmed, take it again".into())
}

/// How long a client refused for the job memory budget is told to wait
/// (google.rpc.RetryInfo): about a 10M commission run's duration.
pub const JOB_RETRY_DELAY: std::time::Duration = retry::JOB;

/// The status a cancelled job reports (CANCELLED): the server shut down
/// before it finished.
pub fn job_cancelled(kind: crate::app::jobs::JobKind) -> Status {
    let message = format!(
        "the {} was cancelled: the server shut down before it finished (--job-grace-secs); it produced nothing, \
         start it again",
        kind.name()
    );
    status(Code::Cancelled, message)
}

/// Maps an application error: the engine's and the store's as above, a
/// failed store UNAVAILABLE, a kind of job at its limit or over the job
/// memory budget RESOURCE_EXHAUSTED (retry later; the budget's refusal
/// with google.rpc.RetryInfo), no new job during a shutdown UNAVAILABLE, a
/// job or run that does not exist NOT_FOUND, one that is not done
/// FAILED_PRECONDITION.
pub fn from_app(err: AppError) -> Status {
    let code = match &err {
        AppError::Engine(_) | AppError::Store(_) | AppError::Join(_) => Code::Internal,
        AppError::Unavailable | AppError::ShuttingDown | AppError::JobsStopped { .. } => Code::Unavailable,
        AppError::Busy { .. } | AppError::OverBudget { .. } => Code::ResourceExhausted,
        AppError::NotFound(_) => Code::NotFound,
        AppError::NotReady { .. } => Code::FailedPrecondition,
    };
    match err {
        AppError::Engine(err) => from_engine(err),
        AppError::Store(err) => from_store(err),
        AppError::Join(err) => from_join(err),
        busy @ (AppError::OverBudget { .. } | AppError::Busy { .. }) => retry_after(code, busy.to_string(), retry::JOB),
        failed @ AppError::Unavailable => retry_after(code, failed.to_string(), retry::STORE_FAILED),
        stopping @ (AppError::ShuttingDown | AppError::JobsStopped { .. }) => {
            retry_after(code, stopping.to_string(), retry::SHUTTING_DOWN)
        }
        other => status(code, other.to_string()),
    }
}

impl From<AppError> for Status {
    fn from(err: AppError) -> Status {
        from_app(err)
    }
}

impl From<EngineError> for Status {
    fn from(err: EngineError) -> Status {
        from_engine(err)
    }
}

/// A request a caller's role may not make in this form (PERMISSION_DENIED),
/// e.g. a partner token listing every event of the network.
pub fn denied(field: &str, message: impl std::fmt::Display) -> Status {
    status(Code::PermissionDenied, format!("{field}: {message}"))
}

/// An error of the service layer itself (request shape, page tokens).
pub fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    bad_request(field, format!("{field}: {message}"))
}

/// An id the request names that does not exist (NOT_FOUND), e.g. an
/// operation or a commission run forgotten on restart.
pub fn not_found(field: &str, message: impl std::fmt::Display) -> Status {
    status(Code::NotFound, format!("{field}: {message}"))
}

/// A request the state of the server refuses (FAILED_PRECONDITION), e.g. a
/// run of a closed period.
pub fn failed_precondition(field: &str, message: impl std::fmt::Display) -> Status {
    status(Code::FailedPrecondition, format!("{field}: {message}"))
}

/// A request over a limit of work in progress (RESOURCE_EXHAUSTED): retry
/// later.
pub fn exhausted(field: &str, message: impl std::fmt::Display) -> Status {
    retry_after(Code::ResourceExhausted, format!("{field}: {message}"), retry::JOB)
}

/// The server cannot serve any more (UNAVAILABLE): it failed to write to
/// disk, or it is shutting down. No field: it is no fault of the request.
pub fn unavailable(message: &str) -> Status {
    retry_after(Code::Unavailable, message.to_owned(), retry::SHUTTING_DOWN)
}

/// A request that reached a handler without passing the access guard
/// (PERMISSION_DENIED): deny by default.
pub fn not_admitted() -> Status {
    status(Code::PermissionDenied, "this request was not admitted by the access guard".to_owned())
}

/// Maps a refusal of the access guard: no valid credential is
/// UNAUTHENTICATED; a credential that may not do this is PERMISSION_DENIED;
/// load shedding is RESOURCE_EXHAUSTED (retry later, unlike UNAVAILABLE,
/// which would say the server is going away); a timeout is
/// DEADLINE_EXCEEDED (so is a silent client stream); a failed store and
/// the drain deadline of a shutdown are UNAVAILABLE (go elsewhere).
pub fn from_guard(err: GuardError) -> Status {
    let code = match &err {
        GuardError::Unauthenticated(_) => Code::Unauthenticated,
        GuardError::Forbidden { .. } | GuardError::UnknownSubject(_) => Code::PermissionDenied,
        GuardError::Overloaded(_) | GuardError::StreamsOverloaded(_) => Code::ResourceExhausted,
        GuardError::TimedOut(_) | GuardError::StreamIdle(_) => Code::DeadlineExceeded,
        GuardError::StoreFailed | GuardError::ShuttingDown(_) => Code::Unavailable,
        GuardError::UnknownMethod(_) => Code::Unimplemented,
    };
    let delay = match &err {
        GuardError::Overloaded(_) | GuardError::StreamsOverloaded(_) => retry::LOAD_SHED,
        GuardError::ShuttingDown(_) => retry::SHUTTING_DOWN,
        GuardError::StoreFailed => retry::STORE_FAILED,
        _ => return status(code, err.to_string()),
    };
    retry_after(code, err.to_string(), delay)
}

/// tonic answers a request message above the size limit with OUT_OF_RANGE
/// ("decoded message length too large"); gRPC's own servers (Go, Java,
/// C++) and clients expect RESOURCE_EXHAUSTED for a message over the
/// configured limit, so the guard rewrites that one answer in place.
pub fn oversize_as_exhausted(headers: &mut tonic::codegen::http::HeaderMap) {
    const TONIC_OVERSIZE: &str = "Error, decoded message length too large";
    let Some(status) = Status::from_header_map(headers) else { return };
    if status.code() == Code::OutOfRange && status.message().starts_with(TONIC_OVERSIZE) {
        let message = format!("request: {}", status.message().trim_start_matches("Error, "));
        // A fresh status has no metadata or details: only the two headers change.
        let _ = Status::resource_exhausted(message).add_header(headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(bounded("short".into(), 10), "short");
        let cut = bounded("é".repeat(1000), MAX_MESSAGE_BYTES);
        assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.ends_with('…'), "{}", cut.len());
        assert!(status(Code::InvalidArgument, "x".repeat(100_000)).message().len() <= MAX_MESSAGE_BYTES);
    }

    #[test]
    fn a_plan_with_many_violations_details_a_bounded_number() {
        let violations: Vec<_> = (0..50)
            .map(|k| crate::engine::FieldViolation {
                field: format!("level_rates[{k}]"),
                description: "y".repeat(1000),
            })
            .collect();
        let status = from_engine(EngineError::InvalidPlan(violations));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().len() <= MAX_MESSAGE_BYTES);
        let details = status.get_details_bad_request().expect("BadRequest details");
        assert_eq!(details.field_violations.len(), MAX_FIELD_VIOLATIONS);
        assert!(details.field_violations.iter().all(|v| v.description.len() <= MAX_VIOLATION_BYTES));
        assert!(details.field_violations[MAX_FIELD_VIOLATIONS - 1].description.contains("35 more"));
    }
}
