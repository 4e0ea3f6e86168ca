//! Opening a data directory: the format check, the token key, and the
//! rebuild of the genealogy from its partner chunks.

use super::keys::{self, CHUNK_PARTNERS};
use super::records::PartnerChunk;
use super::StoreError;
use crate::engine::{Genealogy, GenealogyLoader, PartnerIx};
use prost::Message;

/// Accepts an empty directory (and marks it) or one of this format.
pub fn check_format(db: &sled::Db) -> Result<(), StoreError> {
    match db.get(keys::META_FORMAT)? {
        None => {
            db.insert(keys::META_FORMAT, keys::FORMAT)?;
            Ok(())
        }
        Some(format) if format.as_ref() == keys::FORMAT => Ok(()),
        Some(other) => Err(StoreError::Corrupt(format!(
            "data format {:?} is not {:?}",
            String::from_utf8_lossy(&other),
            String::from_utf8_lossy(keys::FORMAT)
        ))),
    }
}

/// The key that signs page tokens, made on first open.
pub fn token_key(db: &sled::Db) -> Result<[u8; 16], StoreError> {
    if let Some(raw) = db.get(keys::META_TOKEN_KEY)? {
        return raw.as_ref().try_into().map_err(|_| StoreError::Corrupt("token key is not 16 bytes".into()));
    }
    let key: [u8; 16] = rand::random();
    db.insert(keys::META_TOKEN_KEY, &key)?;
    Ok(key)
}

/// The seq the next event gets: one past the last stored one.
pub fn next_event_seq(db: &sled::Db) -> Result<u64, StoreError> {
    let Some(entry) = db.scan_prefix([keys::EVENT]).next_back() else {
        return Ok(1);
    };
    let (key, value) = entry?;
    let seq = keys::event_seq(&key).ok_or_else(|| StoreError::Corrupt("bad event key".into()))?;
    let block = super::records::StoredEvent::decode(value.as_ref())
        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
    Ok(seq + u64::from(block.count.max(1)))
}

/// Rebuilds the genealogy from the partner chunks, in seq order.
pub fn genealogy(db: &sled::Db) -> Result<Genealogy, StoreError> {
    // The last chunk's number tells the size: reserve once instead of
    // rehashing the id table every time it doubles.
    let expected = match db.scan_prefix([keys::PARTNER_CHUNK]).next_back() {
        Some(entry) => keys::chunk_number(&entry?.0).map_or(0, |c| (c as usize + 1) * CHUNK_PARTNERS as usize),
        None => 0,
    };
    let chunks = db.scan_prefix([keys::PARTNER_CHUNK]);
    let mut loader = GenealogyLoader::with_capacity(expected);
    let mut short_chunk_seen = false;
    for (expected_chunk, entry) in (0u32..).zip(chunks) {
        let (key, value) = entry?;
        let number = keys::chunk_number(&key).ok_or_else(|| StoreError::Corrupt("bad chunk key".into()))?;
        if number != expected_chunk || short_chunk_seen {
            return Err(StoreError::Corrupt(format!("partner chunk {number} follows a gap or a short chunk")));
        }
        let chunk = PartnerChunk::decode(value.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("partner chunk {number}: {e}")))?;
        short_chunk_seen = chunk.partners.len() < CHUNK_PARTNERS as usize;
        for (i, stored) in chunk.partners.iter().enumerate() {
            let seq = number * CHUNK_PARTNERS + i as u32;
            let status = stored
                .status()
                .ok_or_else(|| StoreError::Corrupt(format!("partner {seq}: bad status {}", stored.status)))?;
            loader
                .push(
                    PartnerIx::new(seq),
                    &stored.partner_id,
                    stored.sponsor_ix(),
                    status,
                    stored.joined_on(),
                    &stored.display_name,
                )
                .map_err(StoreError::Corrupt)?;
        }
    }
    let version = match db.get(keys::META_STRUCTURE_VERSION)? {
        Some(raw) => u64::from_be_bytes(
            raw.as_ref().try_into().map_err(|_| StoreError::Corrupt("structure version is not 8 bytes".into()))?,
        ),
        None => 0,
    };
    loader.finish(version).map_err(StoreError::Corrupt)
}
