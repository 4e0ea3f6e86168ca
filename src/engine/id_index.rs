//! Partner ids: their syntax, and the map from external id to dense arena
//! index. Ids are kept in one chunked byte arena with end offsets, and the
//! hash table stores only `u32` indices: about 13 bytes plus the id's own
//! bytes per partner, instead of the ~60 a `HashMap<String, u32>` costs.
//! A clone (a snapshot) shares all of it (see [`IdIndex`]).

use super::cow_column::{ColumnBytes, CowColumn};
use super::error::{EngineError, EngineResult};
use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::RwLock;
use std::hash::BuildHasher;
use std::sync::Arc;

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

/// An append-only map from id to dense index `0..len`, shared with its
/// clones (snapshots) at O(chunks) cost.
///
/// The bytes and end offsets are [`CowColumn`]s; the hash table, which
/// stores only indexes, is one table behind an `Arc` for the live index and
/// every clone of it: a clone looks up only the indexes below its own
/// length, so the ids the live index appends later stay invisible to it.
///
/// Architecture invariant: index `i` is the `i`-th id ever inserted; ids are
/// never removed (a terminated partner keeps its id reserved forever), and
/// an id's bytes never straddle two chunks of `bytes`.
#[derive(Default, Clone)]
pub struct IdIndex {
    bytes: CowColumn<u8>,
    ends: CowColumn<u32>,
    table: Arc<RwLock<Table>>,
}

/// The hash table of ids, by index, shared by an index and its clones.
#[derive(Default, Clone)]
struct Table {
    entries: HashTable<u32>,
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
        self.own_table();
        let mut table = self.table.write();
        let Table { entries, hasher } = &mut *table;
        entries.reserve(additional, |&ix| hasher.hash_one(self.slice(ix)));
    }

    /// The id at `index`. Panics when out of range (an engine bug).
    pub fn get(&self, index: u32) -> &str {
        let raw = self.slice(index);
        // Only validated ASCII ids are ever inserted.
        debug_assert!(raw.is_ascii());
        std::str::from_utf8(raw).expect("ids are ASCII")
    }

    /// The index of `id`, if present.
    pub fn find(&self, id: &str) -> Option<u32> {
        let table = self.table.read();
        let hash = table.hasher.hash_one(id.as_bytes());
        let len = self.len();
        table.entries.find(hash, |&ix| (ix as usize) < len && self.slice(ix) == id.as_bytes()).copied()
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
        // An id that would straddle a chunk starts the next one.
        let chunk_bytes = self.bytes.chunk_rows();
        let room = chunk_bytes - self.bytes.len() % chunk_bytes;
        let start = if id.len() > room { self.bytes.len() + room } else { self.bytes.len() };
        let end = u32::try_from(start + id.len())
            .map_err(|_| EngineError::ResourceExhausted("partner id storage is full (4 GiB of ids)".into()))?;
        let index = u32::try_from(self.ends.len())
            .ok()
            .filter(|&ix| ix < crate::engine::genealogy::forest::NONE)
            .ok_or_else(|| EngineError::ResourceExhausted("too many partners".into()))?;
        self.own_table();
        let mut table = self.table.write();
        let Table { entries, hasher } = &mut *table;
        let hash = hasher.hash_one(id.as_bytes());
        let entry = entries.entry(hash, |&ix| self.slice(ix) == id.as_bytes(), |&ix| hasher.hash_one(self.slice(ix)));
        let hashbrown::hash_table::Entry::Vacant(vacant) = entry else {
            return Ok(None);
        };
        vacant.insert(index);
        drop(table);
        self.bytes.resize(start, 0);
        self.bytes.extend_from_slice(id.as_bytes());
        self.ends.push(end);
        Ok(Some(index))
    }

    /// Makes the shared table this index's to append to: it is when it
    /// holds exactly this index's ids (the live index, or a clone nobody
    /// appended to since). A clone the live index has moved past (a
    /// snapshot written to) takes a copy of its own first, O(ids), which
    /// the live path never does.
    fn own_table(&mut self) {
        let len = self.len();
        if self.table.read().entries.len() == len {
            return;
        }
        let mut copy = self.table.read().clone();
        copy.entries.retain(|ix| (*ix as usize) < len);
        self.table = Arc::new(RwLock::new(copy));
    }

    /// Bytes this index holds alone and shares with its clones (the table
    /// counts as shared while a clone holds it).
    pub fn bytes(&self) -> ColumnBytes {
        let table_bytes = self.table.read().entries.capacity() * 5;
        let table = if Arc::strong_count(&self.table) == 1 {
            ColumnBytes { owned_bytes: table_bytes, shared_bytes: 0 }
        } else {
            ColumnBytes { owned_bytes: 0, shared_bytes: table_bytes }
        };
        self.bytes.bytes() + self.ends.bytes() + table
    }

    /// Bytes of heap this index keeps alive, shared or not.
    pub fn heap_bytes(&self) -> usize {
        let bytes = self.bytes();
        bytes.owned_bytes + bytes.shared_bytes
    }

    /// The bytes of the id at `index`.
    fn slice(&self, index: u32) -> &[u8] {
        let i = index as usize;
        let end = self.ends[i] as usize;
        let previous_end = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        // Past any padding: the id lies in the chunk of its last byte.
        let chunk_start = end.saturating_sub(1) & !(self.bytes.chunk_rows() - 1);
        self.bytes.slice_in_chunk(previous_end.max(chunk_start).min(end)..end)
    }
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

    /// Ids cross chunk boundaries whole, and a clone sees only the ids it
    /// had, even after the original appended more or the clone appended
    /// its own.
    #[test]
    fn a_clone_keeps_its_ids_across_chunks() {
        let id = |i: u32| format!("{i:0>60}");
        let mut live = IdIndex::default();
        for i in 0..3000u32 {
            live.push(&id(i)).unwrap();
        }
        let mut snapshot = live.clone();
        for i in 3000..6000u32 {
            live.push(&id(i)).unwrap();
        }
        assert_eq!((snapshot.len(), snapshot.find(&id(4000)), live.find(&id(4000))), (3000, None, Some(4000)));
        assert_eq!(snapshot.push("mine").unwrap(), 3000);
        assert_eq!((snapshot.find("mine"), live.find("mine"), live.find(&id(3000))), (Some(3000), None, Some(3000)));
        for i in (0..6000u32).step_by(7) {
            assert_eq!(live.get(i), id(i));
            assert_eq!(live.find(&id(i)), Some(i));
            assert_eq!(snapshot.find(&id(i)), (i < 3000).then_some(i));
        }
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
