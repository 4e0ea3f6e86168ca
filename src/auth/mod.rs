//! Credentials: who is calling. Backends present API keys, listed by their
//! SHA-256 hash in a keys file with a role each ([`keys`]); the partners'
//! mobile app presents a JWT of the company's identity service whose
//! subject is the partner's id ([`jwt`]). Both arrive as
//! `authorization: Bearer <token>` metadata.
//!
//! Nothing here knows gRPC or the genealogy: `service::guard` asks
//! [`Credentials::authenticate`] for a [`Principal`], resolves a partner's
//! id to its place in the tree and checks the access table.

pub mod jwt;
pub mod keys;

use std::sync::Arc;

/// The metadata that carries a credential.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// The longest credential read, in bytes: a guard against hashing or
/// parsing megabytes of header per request.
pub const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;

/// A role of the access table (`service::access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including periods, recalculations, plans and runs.
    Admin,
    /// Partners, orders and every read: the company's backends.
    Backend,
    /// Read-only, and only its own partner and downline: the mobile app.
    Partner,
}

impl Role {
    /// The role's name, as in the keys file and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Backend => "backend",
            Role::Partner => "partner",
        }
    }

    /// The role of a keys-file name. `partner` is not one: a partner is
    /// always named by a JWT's subject, never by a shared key.
    pub fn of_key(name: &str) -> Option<Role> {
        match name {
            "admin" => Some(Role::Admin),
            "backend" => Some(Role::Backend),
            _ => None,
        }
    }
}

/// Who a valid credential names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An API key of the keys file.
    Key {
        /// `Admin` or `Backend`.
        role: Role,
        /// The key's name in the keys file (used in the audit trail).
        name: Arc<str>,
    },
    /// A partner, by the subject of a valid JWT.
    Partner {
        /// The partner's id, unchecked against the genealogy.
        id: Arc<str>,
    },
}

/// Why a request's credential was refused (always UNAUTHENTICATED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` metadata.
    #[error("missing credentials: send the metadata `authorization: Bearer <API key or JWT>`")]
    Missing,
    /// Not `Bearer <token>`, not ASCII, or too long.
    #[error("authorization: expected `Bearer <token>` of at most {MAX_CREDENTIAL_BYTES} printable bytes")]
    Malformed,
    /// A key that is not in the keys file.
    #[error("authorization: unknown API key")]
    UnknownKey,
    /// A JWT, but this server has no JWT key configured.
    #[error("authorization: this server accepts no JWTs")]
    JwtNotAccepted,
    /// A JWT that failed verification.
    #[error("authorization: {0}")]
    Jwt(#[from] jwt::JwtError),
}

/// The credentials a server accepts: API keys, JWTs, or both. A clone
/// shares them (the gRPC guard and the admin page check the same ones).
#[derive(Clone)]
pub struct Credentials {
    keys: Arc<keys::ApiKeys>,
    jwt: Option<Arc<jwt::JwtVerifier>>,
}

impl Credentials {
    /// Credentials from a keys file's content and an optional JWT verifier.
    pub fn new(keys: keys::ApiKeys, jwt: Option<jwt::JwtVerifier>) -> Credentials {
        Credentials { keys: Arc::new(keys), jwt: jwt.map(Arc::new) }
    }

    /// The principal of an `authorization` value. A token with dots is a
    /// JWT (header.claims.signature); anything else is an API key.
    pub fn authenticate(&self, authorization: Option<&[u8]>) -> Result<Principal, AuthError> {
        let value = authorization.ok_or(AuthError::Missing)?;
        let token = bearer_token(value)?;
        if token.contains('.') {
            let verifier = self.jwt.as_ref().ok_or(AuthError::JwtNotAccepted)?;
            return Ok(Principal::Partner { id: verifier.verify(token)? });
        }
        let entry = self.keys.find(token).ok_or(AuthError::UnknownKey)?;
        Ok(Principal::Key { role: entry.role, name: Arc::clone(&entry.name) })
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 6750).
fn bearer_token(value: &[u8]) -> Result<&str, AuthError> {
    if value.len() > MAX_CREDENTIAL_BYTES {
        return Err(AuthError::Malformed);
    }
    let text = std::str::from_utf8(value).map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = text.split_once(' ').ok_or(AuthError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_parsed_strictly() {
        assert_eq!(bearer_token(b"Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token(b"bearer  abc "), Ok("abc"));
        for bad in [&b"abc"[..], b"Basic abc", b"Bearer ", b"Bearer a b", b"Bearer \xff", b"Bearer a\tb"] {
            assert_eq!(bearer_token(bad), Err(AuthError::Malformed), "{bad:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_CREDENTIAL_BYTES));
        assert_eq!(bearer_token(long.as_bytes()), Err(AuthError::Malformed));
    }
}
