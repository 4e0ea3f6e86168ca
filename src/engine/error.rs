//! The one error type of the engine. The service maps each variant to a gRPC
//! status in exactly one place (`service::status`).

use crate::engine::compensation::plan::FieldViolation;
use thiserror::Error;

/// Why the engine refused a request. Every variant names the offending field
/// and value, so the message can go to the caller unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// A field is malformed (bad syntax, out of range, wrong length).
    #[error("{field}: {message}")]
    InvalidArgument {
        /// The request field, e.g. `partner_id` or `partners[row 7].joined_on`.
        field: String,
        /// What is wrong with it, including the value.
        message: String,
    },
    /// A referenced partner, order or period does not exist.
    #[error("{field}: {what} '{id}' not found")]
    NotFound {
        /// The request field that named it.
        field: String,
        /// What it is: "partner", "period", ...
        what: &'static str,
        /// The unknown id.
        id: String,
    },
    /// The id is taken by a partner or order with other content.
    #[error("{field}: {what} '{id}' already exists{detail}")]
    AlreadyExists {
        /// The request field that named it.
        field: String,
        /// What it is: "partner" or "order".
        what: &'static str,
        /// The taken id.
        id: String,
        /// Extra context (starts with a separator when not empty).
        detail: String,
    },
    /// The request is well-formed but the genealogy's state forbids it
    /// (a cycle, a change to a terminated partner, ...).
    #[error("{field}: {message}")]
    FailedPrecondition {
        /// The request field the condition is about.
        field: String,
        /// Which condition failed.
        message: String,
    },
    /// A hard limit of the engine is reached (number of partners, id bytes).
    #[error("{0}")]
    ResourceExhausted(String),
    /// A plan was refused: every violation, each naming its field.
    #[error("plan: {}", .0.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; "))]
    InvalidPlan(Vec<FieldViolation>),
    /// A background job failed for a reason that is the server's, not the
    /// request's (a panic caught in the job): INTERNAL.
    #[error("{0}")]
    Internal(String),
}

impl EngineError {
    /// Shorthand for [`EngineError::InvalidArgument`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::InvalidArgument { field: field.into(), message: message.into() }
    }

    /// Shorthand for [`EngineError::NotFound`] of a partner.
    pub fn not_found(field: impl Into<String>, id: impl Into<String>) -> Self {
        EngineError::NotFound { field: field.into(), what: "partner", id: id.into() }
    }

    /// Shorthand for [`EngineError::NotFound`] of something else.
    pub fn not_found_what(field: impl Into<String>, what: &'static str, id: impl Into<String>) -> Self {
        EngineError::NotFound { field: field.into(), what, id: id.into() }
    }

    /// Shorthand for [`EngineError::FailedPrecondition`].
    pub fn precondition(field: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::FailedPrecondition { field: field.into(), message: message.into() }
    }

    /// Prefixes the field with a row number, for bulk paths (`row 7.sponsor_id`).
    pub fn in_row(self, prefix: &str) -> Self {
        self.within(prefix)
    }

    /// Prefixes the field with the path of the request part it is in, so
    /// the field names the request's field path (`order` + `volume` is
    /// `order.volume`, `partners[1]` + `sponsor_id` is
    /// `partners[1].sponsor_id`). The service knows the request's shape,
    /// the engine does not.
    pub fn within(self, prefix: &str) -> Self {
        self.map_field(|field| format!("{prefix}.{field}"))
    }

    /// The field this error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EngineError::InvalidArgument { field, .. }
            | EngineError::NotFound { field, .. }
            | EngineError::AlreadyExists { field, .. }
            | EngineError::FailedPrecondition { field, .. } => Some(field),
            EngineError::ResourceExhausted(_) | EngineError::InvalidPlan(_) | EngineError::Internal(_) => None,
        }
    }

    /// The same error about the field `rename` makes of its field; errors
    /// about no one field are unchanged.
    pub fn map_field(self, rename: impl FnOnce(String) -> String) -> Self {
        match self {
            EngineError::InvalidArgument { field, message } => {
                EngineError::InvalidArgument { field: rename(field), message }
            }
            EngineError::NotFound { field, what, id } => EngineError::NotFound { field: rename(field), what, id },
            EngineError::AlreadyExists { field, what, id, detail } => {
                EngineError::AlreadyExists { field: rename(field), what, id, detail }
            }
            EngineError::FailedPrecondition { field, message } => {
                EngineError::FailedPrecondition { field: rename(field), message }
            }
            other @ (EngineError::ResourceExhausted(_) | EngineError::InvalidPlan(_) | EngineError::Internal(_)) => {
                other
            }
        }
    }
}

/// The engine's result type.
pub type EngineResult<T> = Result<T, EngineError>;
