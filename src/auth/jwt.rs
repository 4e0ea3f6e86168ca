//! JWTs of the company's identity service, presented by the partners'
//! mobile app. One algorithm is accepted, the one of the configured key:
//! HS256 (a shared secret) or RS256 (the service's public key, PEM), so a
//! token cannot choose its own algorithm (no `none`, no HS256 signed with
//! the RSA public key). `exp`, `aud` and `sub` are required, `nbf` is
//! checked when present, `iss` when an issuer is configured, with a
//! configurable clock leeway. The subject is the partner's id.
//!
//! Verified tokens are cached by their exact text until they expire, so an
//! app that reuses its token pays the signature check (~0.5 ms for RS256
//! with the pure-Rust `rsa` crate, ~12 µs for HS256) once, then a hash
//! lookup per request.

use dashmap::DashMap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most verified tokens remembered; the cache is emptied when full (a
/// flood of distinct valid tokens costs verifications, never memory).
const MAX_CACHED: usize = 10_000;
/// The shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the verification key comes from.
#[derive(Clone, Debug)]
pub enum JwtKeySource {
    /// An HS256 shared secret in a file (a trailing newline is ignored).
    Hs256SecretFile(PathBuf),
    /// An RS256 public key, PEM (SPKI or PKCS#1), in a file.
    Rs256PublicKeyFile(PathBuf),
}

/// What JWTs are accepted.
#[derive(Clone, Debug)]
pub struct JwtConfig {
    /// The key.
    pub key: JwtKeySource,
    /// The required `aud`.
    pub audience: String,
    /// The required `iss`, if any.
    pub issuer: Option<String>,
    /// Clock leeway for `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
}

/// Why the JWT configuration was refused (the server does not start).
#[derive(Debug, thiserror::Error)]
pub enum JwtConfigError {
    /// The key file cannot be read.
    #[error("cannot read the JWT key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HS256 secret is too short.
    #[error("the HS256 secret in {0} is shorter than {MIN_SECRET_BYTES} bytes")]
    ShortSecret(PathBuf),
    /// The RS256 key is not a PEM RSA public key.
    #[error("the RS256 key in {path} is not a PEM RSA public key: {message}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// No audience: any token of the identity service, for any
    /// application, would be accepted.
    #[error("a JWT audience is required (--jwt-audience)")]
    NoAudience,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Past `exp` (plus leeway).
    #[error("the JWT has expired")]
    Expired,
    /// Before `nbf` (minus leeway).
    #[error("the JWT is not valid yet (nbf)")]
    NotYetValid,
    /// Wrong signature or algorithm.
    #[error("the JWT's signature or algorithm is not accepted")]
    BadSignature,
    /// Wrong `aud`.
    #[error("the JWT's audience is not this service")]
    WrongAudience,
    /// Wrong `iss`.
    #[error("the JWT's issuer is not accepted")]
    WrongIssuer,
    /// A required claim is missing or has the wrong type.
    #[error("the JWT's claim {0} is missing or malformed")]
    BadClaim(String),
    /// Not a JWT at all.
    #[error("the JWT is malformed")]
    Malformed,
}

/// The claims read. Lenient on purpose: jsonwebtoken deserializes them
/// before it validates, and a strict type here would turn "exp is a
/// string" into a vague parse error instead of the validator's precise one.
#[derive(serde::Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<Lenient<String>>,
    #[serde(default)]
    exp: Option<Lenient<f64>>,
}

/// A claim of the expected type, or anything else.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Expected(T),
    Other(serde::de::IgnoredAny),
}

/// A verified token: its subject and when it expires.
struct Verified {
    sub: Arc<str>,
    exp: u64,
}

/// Verifies tokens under one key and one set of rules.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    cache: DashMap<Box<str>, Verified>,
}

impl JwtVerifier {
    /// Reads the key and sets the rules.
    pub fn new(config: &JwtConfig) -> Result<JwtVerifier, JwtConfigError> {
        if config.audience.is_empty() {
            return Err(JwtConfigError::NoAudience);
        }
        let (key, algorithm) = match &config.key {
            JwtKeySource::Hs256SecretFile(path) => {
                let mut secret = read(path)?;
                while secret.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    secret.pop();
                }
                if secret.len() < MIN_SECRET_BYTES {
                    return Err(JwtConfigError::ShortSecret(path.clone()));
                }
                (DecodingKey::from_secret(&secret), Algorithm::HS256)
            }
            JwtKeySource::Rs256PublicKeyFile(path) => {
                let pem = read(path)?;
                let key = DecodingKey::from_rsa_pem(&pem)
                    .map_err(|e| JwtConfigError::BadKey { path: path.clone(), message: e.to_string() })?;
                (key, Algorithm::RS256)
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[&config.audience]);
        let mut required = vec!["exp", "sub", "aud"];
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation.validate_nbf = true;
        validation.leeway = config.leeway_secs;
        Ok(JwtVerifier { key, validation, cache: DashMap::new() })
    }

    /// The subject of a valid token.
    pub fn verify(&self, token: &str) -> Result<Arc<str>, JwtError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(hit) = self.cache.get(token) {
            if now <= hit.exp.saturating_add(self.validation.leeway) {
                return Ok(Arc::clone(&hit.sub));
            }
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|e| refusal(e.kind()))?;
        // Validation required both; their types are checked here.
        let Some(Lenient::Expected(sub)) = data.claims.sub else {
            return Err(JwtError::BadClaim("sub".into()));
        };
        let Some(Lenient::Expected(exp)) = data.claims.exp else {
            return Err(JwtError::BadClaim("exp".into()));
        };
        let sub: Arc<str> = sub.into();
        if self.cache.len() >= MAX_CACHED {
            self.cache.clear();
        }
        // Fractions of a second are cut.
        let exp = exp.max(0.0) as u64;
        self.cache.insert(token.into(), Verified { sub: Arc::clone(&sub), exp });
        Ok(sub)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, JwtConfigError> {
    std::fs::read(path).map_err(|source| JwtConfigError::Read { path: path.to_owned(), source })
}

fn refusal(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            JwtError::BadSignature
        }
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
            JwtError::BadClaim(claim.chars().take(32).collect())
        }
        _ => JwtError::Malformed,
    }
}
