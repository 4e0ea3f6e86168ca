//! The one place where errors become gRPC statuses.

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

/// An error of the service layer itself (request shape, page tokens).
pub fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {message}"))
}
