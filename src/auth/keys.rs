//! API keys of the backends and the keys file that lists them.
//!
//! A key is `dl_` followed by 43 base64url characters (32 random bytes from
//! the OS). The keys file stores only its SHA-256, one key per line:
//!
//! ```text
//! # <sha256 of the key, 64 hex digits> <role> <name>
//! 3f1c…e9a0 backend back-office
//! ```
//!
//! Roles are `admin` and `backend`; the name (1 to 64 characters of
//! `A-Z a-z 0-9 . _ : -`) goes into the audit trail; `#` starts a comment.
//! `downline keys new --role backend --name back-office` prints a fresh key
//! and its line.
//!
//! A plain SHA-256 suffices: a key has 256 random bits, so no dictionary
//! or brute force applies, and a slow password hash would cost milliseconds
//! per request. Keys are found by their digest in a hash map; the lookup's
//! timing can only depend on the digest, which says nothing usable about
//! the key (preimage resistance), so no constant-time compare is needed.

use super::Role;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every key starts with this, so a leaked one is easy to recognise.
pub const KEY_PREFIX: &str = "dl_";

/// A key's digest.
type Digest = [u8; 32];

/// What the keys file says about one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key's role.
    pub role: Role,
    /// The key's name.
    pub name: Arc<str>,
}

/// Why a keys file was refused (the server does not start).
#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    /// The file cannot be read.
    #[error("cannot read the keys file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("keys file line {line}: {message}")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file lists no key: almost certainly a mistake, and it would
    /// lock every backend out.
    #[error("the keys file {0} lists no key")]
    Empty(PathBuf),
}

/// The keys of a keys file, by digest.
#[derive(Default, Debug)]
pub struct ApiKeys {
    by_digest: HashMap<Digest, KeyEntry>,
}

impl ApiKeys {
    /// Reads and parses a keys file; an empty one is an error.
    pub fn load(path: &Path) -> Result<ApiKeys, KeysFileError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| KeysFileError::Read { path: path.to_owned(), source })?;
        let keys = ApiKeys::parse(&text)?;
        if keys.is_empty() {
            return Err(KeysFileError::Empty(path.to_owned()));
        }
        Ok(keys)
    }

    /// Parses the content of a keys file.
    pub fn parse(text: &str) -> Result<ApiKeys, KeysFileError> {
        let mut by_digest = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let bad = |message: String| KeysFileError::Line { line, message };
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let fields: Vec<&str> = content.split_whitespace().collect();
            let [hash, role, name] = fields[..] else {
                return Err(bad(format!("expected `<sha256-hex> <role> <name>`, found {} fields", fields.len())));
            };
            let digest = parse_hex(hash).ok_or_else(|| bad("the hash must be 64 hex digits (a SHA-256)".into()))?;
            let role = Role::of_key(role).ok_or_else(|| bad(format!("role '{role}' is not `admin` or `backend`")))?;
            if !valid_name(name) {
                return Err(bad(format!("name '{name}' must be 1 to 64 characters of A-Z a-z 0-9 . _ : -")));
            }
            if by_digest.insert(digest, KeyEntry { role, name: name.into() }).is_some() {
                return Err(bad("the same key is listed twice".into()));
            }
        }
        Ok(ApiKeys { by_digest })
    }

    /// The entry of a presented key, if it is listed.
    pub fn find(&self, key: &str) -> Option<&KeyEntry> {
        self.by_digest.get(&digest(key))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether no key is listed.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

fn digest(key: &str) -> Digest {
    Sha256::digest(key.as_bytes()).into()
}

/// The SHA-256 of a key in lowercase hex: the first field of its line.
pub fn hash_hex(key: &str) -> String {
    digest(key).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random key.
pub fn new_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The keys-file line of a key.
pub fn line(key: &str, role: Role, name: &str) -> String {
    format!("{} {} {name}", hash_hex(key), role.as_str())
}

/// Whether a key name is acceptable (the partner-id alphabet).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

fn parse_hex(text: &str) -> Option<Digest> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_found_by_its_line() {
        let key = new_key();
        assert!(key.starts_with(KEY_PREFIX) && key.len() == 46 && !key.contains('.'));
        let text = format!("# comment\n\n{}  # the back office\n", line(&key, Role::Backend, "back-office"));
        let keys = ApiKeys::parse(&text).expect("a valid file");
        assert_eq!(keys.find(&key), Some(&KeyEntry { role: Role::Backend, name: "back-office".into() }));
        assert_eq!(keys.find(&new_key()), None);
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn bad_lines_are_named() {
        let key = new_key();
        let cases = [
            (format!("{} backend", hash_hex(&key)), 1),
            (format!("# c\n{} partner app", hash_hex(&key)), 2),
            (format!("{} admin a b", hash_hex(&key)), 1),
            ("abc admin a".to_owned(), 1),
            (format!("{} admin bad/name", hash_hex(&key)), 1),
            (format!("{l}\n{l}", l = line(&key, Role::Admin, "a")), 2),
            (format!("{}zz admin a", &hash_hex(&key)[..62]), 1),
        ];
        for (text, want) in cases {
            match ApiKeys::parse(&text) {
                Err(KeysFileError::Line { line, .. }) => assert_eq!(line, want, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
