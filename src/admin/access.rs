//! Who may see the admin page: the callers the gRPC API accepts as ADMIN.
//! An admin API key arrives as `Authorization: Bearer <key>`, as the
//! password of HTTP basic auth (any user name), or once through the login
//! form, which answers with a session cookie (HttpOnly, SameSite=Strict)
//! naming a random session id, never the key. Without credentials
//! configured (development mode, loopback only) everyone is admin, as on
//! the gRPC listener; then the Host header must name a loopback host too,
//! so a web page cannot reach the listener through DNS rebinding.

use super::error::AdminError;
use crate::auth::{Credentials, Principal, Role};
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use parking_lot::Mutex;
use rand::RngCore as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The cookie of a login session.
pub const SESSION_COOKIE: &str = "downline_admin";
/// How long a login session lasts, in seconds.
pub const SESSION_TTL_SECS: u64 = 8 * 3600;
/// The most sessions kept; a login beyond evicts the one expiring first.
const MAX_SESSIONS: usize = 1024;

/// Who is looking at the admin page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Development mode: no credentials are configured.
    Open,
    /// An admin API key, by its name in the keys file.
    Admin(Arc<str>),
}

impl Viewer {
    /// The name in the logs.
    pub fn name(&self) -> &str {
        match self {
            Viewer::Open => "open",
            Viewer::Admin(name) => name,
        }
    }
}

/// The credentials and the login sessions of the admin page.
pub struct Access {
    /// `None`: development mode.
    credentials: Option<Credentials>,
    /// Session id → the key's name and when the session ends.
    sessions: Mutex<HashMap<String, (Arc<str>, Instant)>>,
}

impl Access {
    /// The access of a server with these credentials (`None`: open).
    pub fn new(credentials: Option<Credentials>) -> Access {
        Access { credentials, sessions: Mutex::new(HashMap::new()) }
    }

    /// Whether credentials are configured (else everyone is admin).
    pub fn is_open(&self) -> bool {
        self.credentials.is_none()
    }

    /// The viewer of a request: a session cookie, else the
    /// `Authorization` header (Bearer or Basic) with an admin key.
    pub fn check(&self, headers: &HeaderMap) -> Result<Viewer, AdminError> {
        let Some(credentials) = &self.credentials else {
            check_loopback_host(headers)?;
            return Ok(Viewer::Open);
        };
        if let Some(name) = session_id(headers).and_then(|id| self.session(id)) {
            return Ok(Viewer::Admin(name));
        }
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(AdminError::Unauthenticated(
                "no credentials: log in with an admin API key below, or send `Authorization: Bearer <key>` \
                 (or HTTP basic auth with the key as the password)"
                    .into(),
            ));
        };
        let key = match value.as_bytes().split_first_chunk::<6>() {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"basic ") => basic_password(rest)?,
            _ => return admin(credentials.authenticate(Some(value.as_bytes()))).map(Viewer::Admin),
        };
        admin(credentials.authenticate(Some(format!("Bearer {key}").as_bytes()))).map(Viewer::Admin)
    }

    /// Logs in with a key from the login form: a new session's id, for
    /// the cookie.
    pub fn login(&self, key: &str) -> Result<String, AdminError> {
        let Some(credentials) = &self.credentials else {
            return Err(AdminError::bad("key", "this server has no credentials configured: no login is needed"));
        };
        let name = admin(credentials.authenticate(Some(format!("Bearer {}", key.trim()).as_bytes())))?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut sessions = self.sessions.lock();
        let now = Instant::now();
        sessions.retain(|_, (_, ends)| *ends > now);
        if sessions.len() >= MAX_SESSIONS {
            let first = sessions.iter().min_by_key(|(_, (_, ends))| *ends).map(|(id, _)| id.clone());
            first.map(|id| sessions.remove(&id));
        }
        tracing::info!(key = %name, "admin page login");
        sessions.insert(id.clone(), (name, now + Duration::from_secs(SESSION_TTL_SECS)));
        Ok(id)
    }

    /// Ends the session of a request's cookie, if any.
    pub fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = session_id(headers) {
            self.sessions.lock().remove(id);
        }
    }

    /// The key name of a live session.
    fn session(&self, id: &str) -> Option<Arc<str>> {
        let mut sessions = self.sessions.lock();
        match sessions.get(id) {
            Some((name, ends)) if *ends > Instant::now() => Some(Arc::clone(name)),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }
}

/// The key name of an admin principal; a backend key or a partner token is
/// FORBIDDEN, any other failure UNAUTHENTICATED.
fn admin(principal: Result<Principal, crate::auth::AuthError>) -> Result<Arc<str>, AdminError> {
    match principal.map_err(|err| AdminError::Unauthenticated(err.to_string()))? {
        Principal::Key { role: Role::Admin, name } => Ok(name),
        Principal::Key { role, .. } => Err(AdminError::Forbidden(format!(
            "authorization: this is a {} key; the admin page needs an admin key",
            role.as_str()
        ))),
        Principal::Partner { .. } => {
            Err(AdminError::Forbidden("authorization: a partner token; the admin page needs an admin key".into()))
        }
    }
}

/// The password of a basic-auth credential (`base64(user:password)`).
fn basic_password(encoded: &[u8]) -> Result<String, AdminError> {
    let malformed = || AdminError::Unauthenticated("authorization: expected `Basic base64(user:key)`".into());
    if encoded.len() > crate::auth::MAX_CREDENTIAL_BYTES {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (_, password) = text.split_once(':').ok_or_else(malformed)?;
    Ok(password.to_owned())
}

/// The session id of the request's cookie, if any.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    let prefix = format!("{SESSION_COOKIE}=");
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(prefix.as_str()))
}

/// In development mode, a request must name a loopback host (or none):
/// a page of another site that rebinds its name to 127.0.0.1 is refused.
fn check_loopback_host(headers: &HeaderMap) -> Result<(), AdminError> {
    let Some(value) = headers.get(header::HOST) else { return Ok(()) };
    let host = value.to_str().unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let loopback =
        name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return Ok(());
    }
    Err(AdminError::Forbidden(format!(
        "host: '{}' is not a loopback name; without credentials the admin page answers loopback names only",
        super::query::truncated(host)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).expect("a header"));
        headers
    }

    #[test]
    fn open_mode_answers_loopback_hosts_only() {
        let open = Access::new(None);
        for host in ["127.0.0.1:8080", "localhost", "[::1]:9000", "LOCALHOST:1"] {
            assert_eq!(open.check(&with(header::HOST, host)).expect(host), Viewer::Open);
        }
        for host in ["evil.example:8080", "10.0.0.1", "[2001:db8::1]:80"] {
            assert!(matches!(open.check(&with(header::HOST, host)), Err(AdminError::Forbidden(_))), "{host}");
        }
    }

    #[test]
    fn cookies_and_basic_passwords_are_read() {
        let headers = with(header::COOKIE, "a=b; downline_admin=xyz; c=d");
        assert_eq!(session_id(&headers), Some("xyz"));
        let encoded = base64::engine::general_purpose::STANDARD.encode("admin:dl_key:with:colons");
        assert_eq!(basic_password(encoded.as_bytes()).expect("a password"), "dl_key:with:colons");
        assert!(basic_password(b"%%%").is_err());
    }
}
