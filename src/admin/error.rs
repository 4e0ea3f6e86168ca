//! Why an admin page cannot be shown, and the error page of each reason:
//! the one place that maps application errors to HTTP statuses.

use super::html::Page;
use crate::app::AppError;
use crate::engine::EngineError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A refused or failed admin request. Every message names the field or
/// part of the address it is about.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No credential, or one that is not valid: the login page.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid credential whose role is not admin.
    #[error("{0}")]
    Forbidden(String),
    /// A malformed part of the request.
    #[error("{field}: {message}")]
    BadRequest {
        /// The path part, query parameter or form field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A page that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// What the application refused or failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<EngineError> for AdminError {
    fn from(err: EngineError) -> AdminError {
        AdminError::App(AppError::Engine(err))
    }
}

impl From<tokio::task::JoinError> for AdminError {
    fn from(err: tokio::task::JoinError) -> AdminError {
        AdminError::App(AppError::Join(err))
    }
}

impl AdminError {
    /// A malformed part of the request.
    pub fn bad(field: &'static str, message: impl Into<String>) -> AdminError {
        AdminError::BadRequest { field, message: message.into() }
    }

    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::App(err) => app_status(err),
        }
    }
}

/// The HTTP status of an application error (as `service::status` maps it
/// to gRPC codes).
fn app_status(err: &AppError) -> StatusCode {
    match err {
        AppError::Engine(EngineError::InvalidArgument { .. } | EngineError::InvalidPlan(_)) => StatusCode::BAD_REQUEST,
        AppError::Engine(EngineError::NotFound { .. }) | AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Engine(EngineError::AlreadyExists { .. } | EngineError::FailedPrecondition { .. })
        | AppError::NotReady { .. } => StatusCode::CONFLICT,
        AppError::Engine(EngineError::ResourceExhausted(_))
        | AppError::Busy { .. }
        | AppError::OverBudget { .. }
        | AppError::Unavailable
        | AppError::ShuttingDown
        | AppError::JobsStopped { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Engine(EngineError::Internal(_)) | AppError::Store(_) | AppError::Join(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, status = status.as_u16(), "admin page failed");
        } else {
            tracing::info!(error = %self, status = status.as_u16(), "admin page refused");
        }
        let mut page = Page::new(status.canonical_reason().unwrap_or("Error"));
        page.paragraph("err", &self.to_string());
        if status == StatusCode::UNAUTHORIZED {
            page.push(super::login::FORM);
        }
        let mut response = page.respond(status);
        if status == StatusCode::UNAUTHORIZED {
            // Bearer, not Basic: a browser shows the login form above
            // instead of its own password dialog (Basic still works when sent).
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"downline admin\""));
        }
        response
    }
}
