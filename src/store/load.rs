//! Opening a data directory: the format check, the token key, and the
//! rebuild of the genealogy from its partner chunks.

use super::keys::{self, CHUNK_PARTNERS};
use super::manifest::Manifest;
use super::records::PartnerChunk;
use super::StoreError;
use crate::engine::{Genealogy, GenealogyLoader, PartnerIx};
use prost::Message;

/// Checks the format key and returns the stored manifest (`None`: a
/// directory of the previous version, which wrote none). A brand-new
/// directory (`new`: it was missing or empty before sled opened it) is
/// marked in one batch with its format, page-token key and first manifest.
pub fn check_format(db: &sled::Db, new: bool) -> Result<Option<Manifest>, StoreError> {
    match db.get(keys::META_FORMAT)? {
        None if new => {
            let manifest = Manifest::fresh();
            let mut batch = sled::Batch::default();
            batch.insert(keys::META_FORMAT, keys::FORMAT);
            batch.insert(keys::META_TOKEN_KEY, &rand::random::<[u8; 16]>());
            batch.insert(keys::META_MANIFEST, manifest.encode_to_vec());
            db.apply_batch(batch)?;
            db.flush()?;
            Ok(Some(manifest))
        }
        None => Err(StoreError::Corrupt("it has data files but no downline format key".into())),
        Some(format) if format.as_ref() == keys::FORMAT => match db.get(keys::META_MANIFEST)? {
            None => Ok(None),
            Some(raw) => Manifest::decode(raw.as_ref())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("the manifest does not decode: {e}"))),
        },
        Some(other) => Err(StoreError::Corrupt(format!(
            "data format {:?} is not {:?}",
            String::from_utf8_lossy(&other),
            String::from_utf8_lossy(keys::FORMAT)
        ))),
    }
}

/// The key that signs page tokens, written with the format key.
pub fn token_key(db: &sled::Db) -> Result<[u8; 16], StoreError> {
    let raw =
        db.get(keys::META_TOKEN_KEY)?.ok_or_else(|| StoreError::Corrupt("the page-token key is missing".into()))?;
    raw.as_ref().try_into().map_err(|_| StoreError::Corrupt("token key is not 16 bytes".into()))
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
