//! The one place where errors become gRPC statuses.

use super::guard::GuardError;
use crate::engine::EngineError;
use crate::store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Maps an engine error to the status the caller sees. The message names
/// the field and the value already.
pub fn from_engine(err: EngineError) -> Status {
    if let EngineError::InvalidPlan(violations) = &err {
        // Field-level errors as google.rpc.BadRequest details, so clients
        // can show each one next to its field.
        let details = ErrorDetails::with_bad_request(
            violations.iter().map(|v| FieldViolation::new(v.field.clone(), v.description.clone())).collect::<Vec<_>>(),
        );
        return Status::with_error_details(Code::InvalidArgument, err.to_string(), details);
    }
    let code = match &err {
        EngineError::InvalidArgument { .. } => Code::InvalidArgument,
        EngineError::NotFound { .. } => Code::NotFound,
        EngineError::AlreadyExists { .. } => Code::AlreadyExists,
        EngineError::FailedPrecondition { .. } => Code::FailedPrecondition,
        EngineError::ResourceExhausted(_) => Code::ResourceExhausted,
        EngineError::InvalidPlan(_) => Code::InvalidArgument,
    };
    Status::new(code, err.to_string())
}

/// Maps a store error. A failed store answers UNAVAILABLE for good: the
/// server no longer serves anything (see ARCHITECTURE.md, durability).
pub fn from_store(err: StoreError) -> Status {
    tracing::error!(error = %err, "store error");
    match err {
        StoreError::Corrupt(_) => Status::data_loss(err.to_string()),
        StoreError::Sled(_) | StoreError::Failed(_) => Status::unavailable(err.to_string()),
    }
}

/// A blocking task that did not finish (it panicked or was cancelled).
pub fn from_join(err: tokio::task::JoinError) -> Status {
    tracing::error!(error = %err, "blocking task failed");
    Status::internal("the request's task failed; it changed nothing that was acknowledged")
}

impl From<EngineError> for Status {
    fn from(err: EngineError) -> Status {
        from_engine(err)
    }
}

/// A request a caller's role may not make in this form (PERMISSION_DENIED),
/// e.g. a partner token listing every event of the network.
pub fn denied(field: &str, message: impl std::fmt::Display) -> Status {
    Status::permission_denied(format!("{field}: {message}"))
}

/// An error of the service layer itself (request shape, page tokens).
pub fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {message}"))
}

/// Maps a refusal of the access guard: no valid credential is
/// UNAUTHENTICATED; a credential that may not do this is PERMISSION_DENIED;
/// load shedding is RESOURCE_EXHAUSTED (retry later, unlike UNAVAILABLE,
/// which would say the server is going away); a timeout is
/// DEADLINE_EXCEEDED.
pub fn from_guard(err: GuardError) -> Status {
    let code = match &err {
        GuardError::Unauthenticated(_) => Code::Unauthenticated,
        GuardError::Forbidden { .. } | GuardError::NotInTable(_) | GuardError::UnknownSubject(_) => {
            Code::PermissionDenied
        }
        GuardError::Overloaded(_) => Code::ResourceExhausted,
        GuardError::TimedOut(_) => Code::DeadlineExceeded,
    };
    Status::new(code, err.to_string())
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
