//! [`CowMap`]: a map by partner index that snapshots share, for the
//! sparse per-partner data (display names, mentor assignments, training
//! completions) that columns would waste memory on.

use crate::engine::cow_column::ColumnBytes;

/// log2 of the keys per shard: 4,096 partners a map.
pub const SHARD_SHIFT: u32 = 12;
use std::collections::HashMap;
use std::sync::Arc;

/// A map from partner index to `V`, in one `HashMap` per chunk of
/// `1 << SHARD_SHIFT` indexes behind an
/// `Arc`: a clone copies the shard pointers only, and a write after a
/// snapshot copies only its own shard's map.
#[derive(Clone)]
pub struct CowMap<V> {
    shards: Vec<Arc<HashMap<u32, V>>>,
    len: usize,
}

impl<V> Default for CowMap<V> {
    fn default() -> Self {
        CowMap { shards: Vec::new(), len: 0 }
    }
}

/// The shard of a key.
fn shard_of(key: u32) -> usize {
    (key >> SHARD_SHIFT) as usize
}

impl<V> CowMap<V> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`.
    pub fn get(&self, key: &u32) -> Option<&V> {
        self.shards.get(shard_of(*key)).and_then(|shard| shard.get(key))
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &u32) -> bool {
        self.get(key).is_some()
    }

    /// Every entry, shard by shard (in no particular order within one).
    pub fn iter(&self) -> impl Iterator<Item = (&u32, &V)> + '_ {
        self.shards.iter().flat_map(|shard| shard.iter())
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &u32> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Every value.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }
}

impl<V: Clone> CowMap<V> {
    /// The shard of `key`, to write: copied first if a clone holds it.
    fn shard_mut(&mut self, key: u32) -> &mut HashMap<u32, V> {
        let shard = shard_of(key);
        if self.shards.len() <= shard {
            self.shards.resize_with(shard + 1, Arc::default);
        }
        Arc::make_mut(&mut self.shards[shard])
    }

    /// The value of `key`, to write.
    pub fn get_mut(&mut self, key: &u32) -> Option<&mut V> {
        if !self.contains_key(key) {
            return None;
        }
        self.shard_mut(*key).get_mut(key)
    }

    /// Sets the value of `key`; returns the one it replaces.
    pub fn insert(&mut self, key: u32, value: V) -> Option<V> {
        let old = self.shard_mut(key).insert(key, value);
        self.len += usize::from(old.is_none());
        old
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &u32) -> Option<V> {
        if !self.contains_key(key) {
            return None;
        }
        let old = self.shard_mut(*key).remove(key);
        self.len -= usize::from(old.is_some());
        old
    }

    /// The value of `key`, inserted as `V::default()` first if absent.
    pub fn get_or_default(&mut self, key: u32) -> &mut V
    where
        V: Default,
    {
        let shard = self.shard_mut(key);
        let before = shard.len();
        let grew = {
            shard.entry(key).or_default();
            shard.len() > before
        };
        self.len += usize::from(grew);
        self.shard_mut(key).get_mut(&key).expect("inserted above")
    }

    /// Bytes held alone and shared with clones, at `entry_bytes` per entry
    /// (an estimate: the maps' own overhead and the values' heap).
    pub fn bytes(&self, entry_bytes: impl Fn(&V) -> usize) -> ColumnBytes {
        let mut bytes = ColumnBytes { owned_bytes: self.shards.capacity() * 8, shared_bytes: 0 };
        for shard in &self.shards {
            let size = shard.capacity() * 16 + shard.values().map(&entry_bytes).sum::<usize>();
            if Arc::strong_count(shard) == 1 {
                bytes.owned_bytes += size;
            } else {
                bytes.shared_bytes += size;
            }
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const CHUNK_ROWS: usize = 1 << SHARD_SHIFT;

    #[test]
    fn a_map_by_index_whose_clones_never_change() {
        let mut live = CowMap::default();
        let keys = [0u32, 5, CHUNK_ROWS as u32, 3 * CHUNK_ROWS as u32 + 1];
        for &k in &keys {
            assert_eq!(live.insert(k, k * 2), None);
        }
        let snapshot = live.clone();
        assert_eq!(live.insert(5, 1), Some(10));
        *live.get_or_default(7) += 3;
        *live.get_mut(&0).unwrap() = 9;
        assert_eq!(live.remove(&(CHUNK_ROWS as u32)), Some(2 * CHUNK_ROWS as u32));
        assert_eq!(live.remove(&12345), None);
        assert_eq!((live.len(), snapshot.len()), (4, 4));
        let mut now: Vec<(u32, u32)> = live.iter().map(|(&k, &v)| (k, v)).collect();
        now.sort_unstable();
        assert_eq!(now, vec![(0, 9), (5, 1), (7, 3), (3 * CHUNK_ROWS as u32 + 1, 6 * CHUNK_ROWS as u32 + 2)]);
        for &k in &keys {
            assert_eq!(snapshot.get(&k), Some(&(k * 2)));
        }
        assert!(!snapshot.contains_key(&7));
        // The untouched last shard is still shared.
        assert!(live.bytes(|_| 4).shared_bytes > 0);
    }
}
