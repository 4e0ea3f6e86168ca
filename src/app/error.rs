//! The one error type of the application. The service maps each variant
//! to a gRPC status in exactly one place (`service::status::from_app`).

use crate::engine::EngineError;
use crate::store::StoreError;

/// Why the application refused or failed a request. Every message names
/// the field it is about, so it can go to the caller unchanged.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The engine refused the request.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A flush failed earlier: the server serves nothing more (fail-stop).
    #[error("the store failed to write to disk; this server serves nothing more")]
    Unavailable,
    /// The server is shutting down: it starts no more work.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Too many jobs of a kind are running; retry later.
    #[error("{field}: {message}")]
    Busy {
        /// The request field the job was asked for.
        field: &'static str,
        /// Which limit was reached.
        message: String,
    },
    /// A job's memory estimate does not fit the job memory budget
    /// (RESOURCE_EXHAUSTED, with a retry delay); the message names the
    /// budget, what is in use and what the job needs.
    #[error("{field}: {message}")]
    OverBudget {
        /// The request field the job was asked for.
        field: &'static str,
        /// The figures.
        message: String,
    },
    /// The server is shutting down: it starts no new job (UNAVAILABLE).
    #[error("the server is shutting down: it starts no new {kind}; retry once it is back or on another server")]
    JobsStopped {
        /// The kind of job refused.
        kind: &'static str,
    },
    /// A job, a run or a statement the request named does not exist (any
    /// more). The message names the field.
    #[error("{0}")]
    NotFound(String),
    /// A job the request needs is still running or failed.
    #[error("{field}: {message}")]
    NotReady {
        /// The request field that named the job.
        field: &'static str,
        /// What state it is in.
        message: String,
    },
    /// A blocking task did not finish (it panicked or was cancelled).
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The result of an application call.
pub type AppResult<T> = Result<T, AppError>;
