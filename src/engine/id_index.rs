//! Partner ids: their syntax, and the map from external id to dense arena
//! index. Ids are kept in one byte arena with end offsets, and the hash
//! table stores only `u32` indices: about 13 bytes plus the id's own bytes
//! per partner, instead of the ~60 a `HashMap<String, u32>` costs.

use super::error::{EngineError, EngineResult};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// The longest partner id, in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// Checks the id syntax of the spec: 1 to 64 characters of `A-Z a-z 0-9 . _ : -`.
pub fn validate_id(field: &str, id: &str) -> EngineResult<()> {
    if id.is_empty() {
        return Err(EngineError::invalid(field, "must not be empty"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(EngineError::invalid(
            field,
            format!("'{}…' is {} bytes long; at most {MAX_ID_BYTES} are allowed", truncate(id), id.len()),
        ));
    }
    if let Some(bad) = id.chars().find(|&c| !is_id_char(c)) {
        return Err(EngineError::invalid(
            field,
            format!("'{id}' contains {bad:?}; only A-Z a-z 0-9 . _ : - are allowed"),
        ));
    }
    Ok(())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')
}

/// The first characters of a long value, for error messages that must stay short.
pub fn truncate(value: &str) -> &str {
    let mut end = value.len().min(MAX_ID_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// An append-only map from id to dense index `0..len`.
///
/// Architecture invariant: index `i` is the `i`-th id ever inserted; ids are
/// never removed (a terminated partner keeps its id reserved forever).
#[derive(Default, Clone)]
pub struct IdIndex {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl IdIndex {
    /// The number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no ids.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Reserves room for `additional` more ids of about `bytes_each` bytes.
    pub fn reserve(&mut self, additional: usize, bytes_each: usize) {
        self.ends.reserve(additional);
        self.bytes.reserve(additional * bytes_each);
        let (bytes, ends, hasher) = (&self.bytes, &self.ends, &self.hasher);
        self.table.reserve(additional, |&ix| hasher.hash_one(slice(bytes, ends, ix)));
    }

    /// The id at `index`. Panics when out of range (an engine bug).
    pub fn get(&self, index: u32) -> &str {
        let raw = slice(&self.bytes, &self.ends, index);
        // Only validated ASCII ids are ever inserted.
        debug_assert!(raw.is_ascii());
        std::str::from_utf8(raw).expect("ids are ASCII")
    }

    /// The index of `id`, if present.
    pub fn find(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id.as_bytes());
        let (bytes, ends) = (&self.bytes, &self.ends);
        self.table.find(hash, |&ix| slice(bytes, ends, ix) == id.as_bytes()).copied()
    }

    /// Appends a new id and returns its index. The caller has checked that
    /// the id is valid and not present.
    pub fn push(&mut self, id: &str) -> EngineResult<u32> {
        debug_assert!(self.find(id).is_none());
        self.push_unique(id)?.ok_or_else(|| EngineError::invalid("id", format!("'{id}' is present twice")))
    }

    /// Appends `id` unless it is present (`Ok(None)`), hashing it once:
    /// the loader's path, which must also detect duplicates on disk.
    pub fn push_unique(&mut self, id: &str) -> EngineResult<Option<u32>> {
        let end = u32::try_from(self.bytes.len() + id.len())
            .map_err(|_| EngineError::ResourceExhausted("partner id storage is full (4 GiB of ids)".into()))?;
        let index = u32::try_from(self.ends.len())
            .ok()
            .filter(|&ix| ix < crate::engine::genealogy::forest::NONE)
            .ok_or_else(|| EngineError::ResourceExhausted("too many partners".into()))?;
        let hash = self.hasher.hash_one(id.as_bytes());
        let (bytes, ends, hasher) = (&self.bytes, &self.ends, &self.hasher);
        let entry = self.table.entry(
            hash,
            |&ix| slice(bytes, ends, ix) == id.as_bytes(),
            |&ix| hasher.hash_one(slice(bytes, ends, ix)),
        );
        let hashbrown::hash_table::Entry::Vacant(vacant) = entry else {
            return Ok(None);
        };
        vacant.insert(index);
        self.bytes.extend_from_slice(id.as_bytes());
        self.ends.push(end);
        Ok(Some(index))
    }

    /// Bytes of heap this index holds (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4 + self.table.capacity() * 5
    }
}

fn slice<'a>(bytes: &'a [u8], ends: &[u32], index: u32) -> &'a [u8] {
    let i = index as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &bytes[start..ends[i] as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_it_pushed() {
        let mut index = IdIndex::default();
        for i in 0..10_000u32 {
            assert_eq!(index.push(&format!("p{i}")).unwrap(), i);
        }
        for i in 0..10_000u32 {
            assert_eq!(index.find(&format!("p{i}")), Some(i));
            assert_eq!(index.get(i), format!("p{i}"));
        }
        assert_eq!(index.find("p10000"), None);
        assert_eq!(index.find(""), None);
    }

    #[test]
    fn validates_ids() {
        assert!(validate_id("partner_id", "A-z.0_9:x").is_ok());
        assert!(validate_id("partner_id", &"a".repeat(64)).is_ok());
        for bad in ["", " a", "a/b", "é", &"a".repeat(65)] {
            let err = validate_id("partner_id", bad).unwrap_err();
            assert!(err.to_string().starts_with("partner_id: "), "{err}");
        }
    }
}
