//! The login form and the session cookie: a browser posts an admin API key
//! once and gets a session (see `access`); logging out ends it.

use super::access::{SESSION_COOKIE, SESSION_TTL_SECS};
use super::error::AdminError;
use super::html::Page;
use super::query::Params;
use super::AdminState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The login form (a password field: the key is not shown as it is typed).
pub const FORM: &str = "<form method=\"post\" action=\"/login\"><label>Admin API key \
    <input type=\"password\" name=\"key\" autocomplete=\"current-password\" required></label> \
    <button>Log in</button></form>";

/// `GET /login`: the form (in development mode, a note that none is needed).
pub async fn form(State(state): State<Arc<AdminState>>) -> Response {
    let mut page = Page::new("Log in");
    if state.access.is_open() {
        page.paragraph("muted", "Development mode: no credentials are configured, so no login is needed.");
    } else {
        page.push(FORM);
    }
    page.respond(StatusCode::OK)
}

/// `POST /login` with `key=<admin API key>`: a session cookie and a
/// redirect to the index, or the form again with the reason.
pub async fn login(State(state): State<Arc<AdminState>>, body: Result<Bytes, BytesRejection>) -> Response {
    match start_session(&state, body) {
        Ok(id) => {
            let cookie =
                format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_TTL_SECS}");
            redirect("/", &cookie)
        }
        Err(err) => err.into_response(),
    }
}

/// The session a login form's body opens.
fn start_session(state: &AdminState, body: Result<Bytes, BytesRejection>) -> Result<String, AdminError> {
    let body = body.map_err(|err| AdminError::bad("key", format!("the form cannot be read: {err}")))?;
    let text = std::str::from_utf8(&body).map_err(|_| AdminError::bad("key", "the form is not UTF-8"))?;
    let params = Params::parse(Some(text))?;
    let key = params.get("key").ok_or_else(|| AdminError::bad("key", "is missing: type an admin API key"))?;
    state.access.login(key)
}

/// `POST /logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<Arc<AdminState>>, headers: HeaderMap) -> Response {
    state.access.logout(&headers);
    redirect("/login", &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))
}

/// A 303 to `location` that sets `cookie`.
fn redirect(location: &'static str, cookie: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static(location));
    if let Ok(value) = HeaderValue::from_str(cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
