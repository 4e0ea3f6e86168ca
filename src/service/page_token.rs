//! Opaque, signed page tokens (AIP-158). A token is a prost message plus a
//! SipHash-2-4 tag keyed by a secret kept in the store, base64url-encoded:
//! a client can neither forge one nor reuse one for another request.

use super::status::invalid;
use crate::app::App;
use crate::engine::{DownlineCursor, PartnerIx};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use prost::Message;
use siphasher::sip::SipHasher24;
use std::hash::Hasher;
use tonic::Status;

/// The longest token accepted, in characters; anything longer is forged.
const MAX_TOKEN_CHARS: usize = 256;

/// Where a ListDownline listing stands.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DownlineToken {
    /// The listed partner's seq.
    #[prost(uint32, tag = "1")]
    pub root: u32,
    /// The request's max_depth.
    #[prost(uint32, tag = "2")]
    pub max_depth: u32,
    /// The cursor: level, first, last, next.
    #[prost(uint32, tag = "3")]
    pub level: u32,
    /// First partner of the level.
    #[prost(uint32, tag = "4")]
    pub first: u32,
    /// Last partner of the level.
    #[prost(uint32, tag = "5")]
    pub last: u32,
    /// Next partner to return.
    #[prost(uint32, tag = "6")]
    pub next: u32,
    /// The genealogy's structure version when the token was made.
    #[prost(uint64, tag = "7")]
    pub structure_version: u64,
}

/// Where an ExplainLevel listing stands.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExplainToken {
    /// The explained partner's seq.
    #[prost(uint32, tag = "1")]
    pub root: u32,
    /// The level.
    #[prost(uint32, tag = "2")]
    pub level: u32,
    /// The period, as requested.
    #[prost(string, tag = "3")]
    pub period: String,
    /// The last partner visited.
    #[prost(uint32, tag = "4")]
    pub node: u32,
    /// Skipped partners on its path already listed.
    #[prost(uint32, tag = "5")]
    pub listed_skipped: u32,
    /// The genealogy's structure version when the token was made.
    #[prost(uint64, tag = "6")]
    pub structure_version: u64,
}

/// Where a ListStatements listing stands.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatementsToken {
    /// The run.
    #[prost(string, tag = "1")]
    pub run_id: String,
    /// The next partner seq to look at.
    #[prost(uint32, tag = "2")]
    pub next: u32,
}

impl DownlineToken {
    /// The token of a cursor of `root`'s listing.
    pub fn new(root_ix: PartnerIx, max_depth: u32, cursor: &DownlineCursor, structure_version: u64) -> DownlineToken {
        DownlineToken {
            root: root_ix.get(),
            max_depth,
            level: cursor.level,
            first: cursor.first_ix.get(),
            last: cursor.last_ix.get(),
            next: cursor.next_ix.get(),
            structure_version,
        }
    }

    /// The engine cursor it carries.
    pub fn cursor(&self) -> DownlineCursor {
        let [first_ix, last_ix, next_ix] = [self.first, self.last, self.next].map(PartnerIx::new);
        DownlineCursor { level: self.level, first_ix, last_ix, next_ix }
    }
}

/// Where a ListGenealogyEvents listing stands.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EventsToken {
    /// The filtering partner's seq plus one; 0 for all events.
    #[prost(uint32, tag = "1")]
    pub partner_plus_one: u32,
    /// The last event returned.
    #[prost(uint64, tag = "2")]
    pub after_seq: u64,
}

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct TokenSigner {
    key: [u8; 16],
}

impl TokenSigner {
    /// A signer with the store's key.
    pub fn new(key: [u8; 16]) -> TokenSigner {
        TokenSigner { key }
    }

    /// The signer of `app`'s page tokens. Page tokens are the transport's:
    /// the application keeps only their key ([`App::token_key`]).
    pub fn of(app: &App) -> TokenSigner {
        TokenSigner::new(app.token_key())
    }

    fn tag(&self, kind: u8, body: &[u8]) -> [u8; 8] {
        let mut hasher = SipHasher24::new_with_key(&self.key);
        hasher.write_u8(kind);
        hasher.write(body);
        hasher.finish().to_le_bytes()
    }

    /// Encodes and signs a token of a kind (one kind per RPC).
    pub fn encode<M: Message>(&self, kind: u8, message: &M) -> String {
        let mut raw = message.encode_to_vec();
        let tag = self.tag(kind, &raw);
        raw.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Decodes a token of a kind, or INVALID_ARGUMENT naming `field`.
    pub fn decode<M: Message + Default>(&self, kind: u8, field: &str, token: &str) -> Result<M, Status> {
        let forged = || invalid(field, "is not a page token this server issued for this request");
        if token.len() > MAX_TOKEN_CHARS {
            return Err(forged());
        }
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| forged())?;
        if raw.len() < 8 {
            return Err(forged());
        }
        let (body, tag) = raw.split_at(raw.len() - 8);
        if self.tag(kind, body) != tag {
            return Err(forged());
        }
        M::decode(body).map_err(|_| forged())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_tampering() {
        let signer = TokenSigner::new([7; 16]);
        let token = EventsToken { partner_plus_one: 3, after_seq: 42 };
        let text = signer.encode(1, &token);
        assert_eq!(signer.decode::<EventsToken>(1, "page_token", &text).unwrap(), token);
        assert!(signer.decode::<EventsToken>(2, "page_token", &text).is_err());
        assert!(TokenSigner::new([8; 16]).decode::<EventsToken>(1, "page_token", &text).is_err());
        let mut tampered = text.into_bytes();
        tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(signer.decode::<EventsToken>(1, "page_token", &tampered).is_err());
        assert!(signer.decode::<EventsToken>(1, "page_token", "%%%").is_err());
    }
}
