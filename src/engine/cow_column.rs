//! [`CowColumn`]: a column of the live network that snapshots share
//! without copying it.
//!
//! The entries live in chunks behind `Arc`s, each of about
//! [`TARGET_CHUNK_BYTES`] (a power of two rows: 256 rows of 7-level
//! profiles, 4,096 of `i64`, 16,384 of bytes). A clone copies only the
//! chunk pointers, so [`Network::snapshot`](crate::engine::Network::snapshot)
//! is O(chunks). A write goes through `Arc::make_mut`: it copies the one
//! chunk it touches, and only while a snapshot still holds that chunk; the
//! snapshot keeps the old chunk and so never changes.
//!
//! A row is `width` entries (the level profile's `levels` totals, the live
//! ranks' `ranks` slots of one partner); a chunk holds whole rows, so a row
//! is always one slice. Every chunk but the last is full: the last grows
//! like a `Vec`, so a small column costs no more than its entries.
//!
//! Why chunks sized in bytes, and small: the copy a first write makes is
//! the latency of that write, and a write walks up to the root, touching
//! one chunk of each written column per ancestor far enough away. With a
//! fixed number of rows a chunk, the widest column (7 level totals of 16
//! bytes) had chunks of 1.75 MiB (16,384 rows) or 448 KiB (4,096), and at
//! 10M partners writes queued for seconds behind those copies while a job's
//! snapshot shared them. The first order after a snapshot at 1M partners:
//! 3.6 ms with 16,384-row chunks, 0.76 ms with 4,096, 0.13 ms with 32 KiB
//! chunks (p99.9 of the next 20,000: 0.13 ms). The price is the pointer
//! table: more chunks to clone under the read lock (1-2 ms at 10M). Costs
//! are measured in docs/snapshots.md.

use rayon::prelude::*;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

/// The size a chunk aims at: rows per chunk is the largest power of two
/// whose rows fit in it, within [`MIN_CHUNK_SHIFT`]..=[`MAX_CHUNK_SHIFT`].
pub const TARGET_CHUNK_BYTES: usize = 32 * 1024;

/// log2 of the fewest rows a chunk holds (a very wide row).
pub const MIN_CHUNK_SHIFT: u32 = 6;

/// log2 of the most rows a chunk holds (a column of bytes).
pub const MAX_CHUNK_SHIFT: u32 = 14;

/// log2 of the rows per chunk of a column of `width` entries of `T`: a
/// power of two, so a row's chunk is a shift away.
pub const fn chunk_shift_for<T>(width: usize) -> u32 {
    let row_bytes = width * std::mem::size_of::<T>();
    let rows = match TARGET_CHUNK_BYTES.checked_div(row_bytes) {
        Some(rows) => rows,
        None => 1 << MAX_CHUNK_SHIFT,
    };
    let shift = if rows == 0 { 0 } else { usize::BITS - 1 - rows.leading_zeros() };
    if shift < MIN_CHUNK_SHIFT {
        MIN_CHUNK_SHIFT
    } else if shift > MAX_CHUNK_SHIFT {
        MAX_CHUNK_SHIFT
    } else {
        shift
    }
}

/// A growable column of rows of `width` entries, shared chunk by chunk
/// with its clones (see the module documentation).
///
/// Architecture invariant: every chunk but the last holds exactly
/// `chunk_rows() × width` entries, and no row straddles two chunks.
#[derive(Clone, PartialEq, Eq)]
pub struct CowColumn<T> {
    /// Entries per row (at least 1).
    width: usize,
    /// log2 of the rows per chunk ([`chunk_shift_for`] the width).
    shift: u32,
    /// Entries in the column (a multiple of `width`).
    len: usize,
    chunks: Vec<Arc<Vec<T>>>,
}

impl<T> Default for CowColumn<T> {
    /// An empty column of one entry per row.
    fn default() -> Self {
        CowColumn::with_width(1)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for CowColumn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Bytes of a column's chunks: held by this column alone, or shared with
/// at least one clone (a snapshot, or the live column seen from one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnBytes {
    /// Bytes in chunks no clone holds.
    pub owned_bytes: usize,
    /// Bytes in chunks some clone holds too.
    pub shared_bytes: usize,
}

impl std::ops::Add for ColumnBytes {
    type Output = ColumnBytes;
    fn add(self, other: ColumnBytes) -> ColumnBytes {
        ColumnBytes {
            owned_bytes: self.owned_bytes + other.owned_bytes,
            shared_bytes: self.shared_bytes + other.shared_bytes,
        }
    }
}

impl<T> CowColumn<T> {
    /// An empty column of `width` entries per row.
    pub fn with_width(width: usize) -> CowColumn<T> {
        assert!(width > 0, "a row has at least one entry");
        CowColumn { width, shift: chunk_shift_for::<T>(width), len: 0, chunks: Vec::new() }
    }

    /// Rows per chunk (a power of two, the same for every clone).
    pub fn chunk_rows(&self) -> usize {
        1 << self.shift
    }

    /// Entries per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The number of entries (rows × width).
    pub fn len(&self) -> usize {
        self.len
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.len / self.width
    }

    /// Whether the column has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries per full chunk.
    fn chunk_len(&self) -> usize {
        self.chunk_rows() * self.width
    }

    /// The entry at `i`, if any.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| &self[i])
    }

    /// Row `row` (`width` entries). Panics when out of range.
    #[inline]
    pub fn row(&self, row: usize) -> &[T] {
        let chunk = &self.chunks[row >> self.shift];
        let start = (row & (self.chunk_rows() - 1)) * self.width;
        &chunk[start..start + self.width]
    }

    /// The chunks in order, as slices of whole rows: the way to walk a
    /// whole column fast (chunk `c` starts at row `c × chunk_rows()`).
    pub fn chunks(&self) -> impl ExactSizeIterator<Item = &[T]> + '_ {
        self.chunks.iter().map(|chunk| chunk.as_slice())
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks().flatten()
    }

    /// The entries of `range`, which must lie within one chunk (a row, or
    /// rows that a caller placed so). Panics otherwise.
    pub fn slice_in_chunk(&self, range: std::ops::Range<usize>) -> &[T] {
        if range.is_empty() {
            return &[];
        }
        let chunk_len = self.chunk_len();
        let chunk = range.start / chunk_len;
        assert!(range.end <= self.len && range.end - chunk * chunk_len <= chunk_len, "range within one chunk");
        let start = range.start - chunk * chunk_len;
        &self.chunks[chunk][start..start + range.len()]
    }

    /// Bytes held alone and shared (see [`ColumnBytes`]): an untouched
    /// snapshot holds only shared bytes plus its chunk table.
    pub fn bytes(&self) -> ColumnBytes {
        let size = std::mem::size_of::<T>();
        let table = self.chunks.capacity() * std::mem::size_of::<Arc<Vec<T>>>();
        let mut bytes = ColumnBytes { owned_bytes: table, shared_bytes: 0 };
        for chunk in &self.chunks {
            if Arc::strong_count(chunk) == 1 {
                bytes.owned_bytes += chunk.capacity() * size;
            } else {
                bytes.shared_bytes += chunk.capacity() * size;
            }
        }
        bytes
    }

    /// Bytes of heap this column keeps alive, shared or not.
    pub fn heap_bytes(&self) -> usize {
        let bytes = self.bytes();
        bytes.owned_bytes + bytes.shared_bytes
    }
}

impl<T: Clone> CowColumn<T> {
    /// A column of one entry per row holding `values`.
    pub fn from_vec(values: Vec<T>) -> CowColumn<T> {
        CowColumn::from_rows(values, 1)
    }

    /// A column of `width` entries per row holding `values` (a whole
    /// number of rows).
    pub fn from_rows(values: Vec<T>, width: usize) -> CowColumn<T> {
        let mut column = CowColumn::with_width(width);
        column.extend_from_slice(&values);
        column
    }

    /// Row `row`, to write: copies its chunk first if a clone holds it.
    #[inline]
    pub fn row_mut(&mut self, row: usize) -> &mut [T] {
        let width = self.width;
        let (shift, mask) = (self.shift, self.chunk_rows() - 1);
        let chunk = Arc::make_mut(&mut self.chunks[row >> shift]);
        let start = (row & mask) * width;
        &mut chunk[start..start + width]
    }

    /// Sets the entry at `i`.
    pub fn set(&mut self, i: usize, value: T) {
        self[i] = value;
    }

    /// Appends one entry (a whole row when the width is 1).
    pub fn push(&mut self, value: T) {
        let chunk_len = self.chunk_len();
        if self.len % chunk_len == 0 {
            self.chunks.push(Arc::new(Vec::new()));
        }
        let last = self.chunks.last_mut().expect("a chunk was pushed above");
        Arc::make_mut(last).push(value);
        self.len += 1;
    }

    /// Appends `values`, filling the last chunk before starting another.
    pub fn extend_from_slice(&mut self, mut values: &[T]) {
        let chunk_len = self.chunk_len();
        while !values.is_empty() {
            if self.len % chunk_len == 0 {
                self.chunks.push(Arc::new(Vec::with_capacity(chunk_len.min(values.len()))));
            }
            let room = chunk_len - self.len % chunk_len;
            let (now, rest) = values.split_at(room.min(values.len()));
            let last = self.chunks.last_mut().expect("a chunk was pushed above");
            Arc::make_mut(last).extend_from_slice(now);
            self.len += now.len();
            values = rest;
        }
    }

    /// Grows to `len` entries with copies of `value`, or shrinks to it.
    pub fn resize(&mut self, len: usize, value: T) {
        if len <= self.len {
            self.truncate(len);
            return;
        }
        let chunk_len = self.chunk_len();
        while self.len < len {
            if self.len % chunk_len == 0 {
                self.chunks.push(Arc::new(Vec::new()));
            }
            let room = chunk_len - self.len % chunk_len;
            let add = room.min(len - self.len);
            let last = self.chunks.last_mut().expect("a chunk was pushed above");
            let last = Arc::make_mut(last);
            last.resize(last.len() + add, value.clone());
            self.len += add;
        }
    }

    /// Keeps the first `len` entries.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let chunk_len = self.chunk_len();
        self.chunks.truncate(len.div_ceil(chunk_len));
        let keep = len - self.chunks.len().saturating_sub(1) * chunk_len;
        if let Some(last) = self.chunks.last_mut() {
            if last.len() > keep {
                Arc::make_mut(last).truncate(keep);
            }
        }
        self.len = len;
    }

    /// Reserves room for `additional` more entries in the chunk table (the
    /// chunks themselves are allocated whole when they start).
    pub fn reserve(&mut self, additional: usize) {
        let chunks = (self.len + additional).div_ceil(self.chunk_len());
        self.chunks.reserve(chunks.saturating_sub(self.chunks.len()));
    }

    /// Sets every entry to `value`.
    pub fn fill(&mut self, value: T) {
        for chunk in &mut self.chunks {
            Arc::make_mut(chunk).fill(value.clone());
        }
    }

    /// The chunks as mutable slices of whole rows, copying those a clone
    /// holds: for loops that rewrite a whole column.
    pub fn chunks_mut(&mut self) -> impl ExactSizeIterator<Item = &mut [T]> + '_ {
        self.chunks.iter_mut().map(|chunk| Arc::make_mut(chunk).as_mut_slice())
    }

    /// The entries in one `Vec`.
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for chunk in self.chunks() {
            out.extend_from_slice(chunk);
        }
        out
    }
}

impl<T: Clone + bytemuck::Zeroable> CowColumn<T> {
    /// `len` zeroed entries of `width` a row, each chunk from zeroed
    /// memory: no page is touched here (the kernel zero-fills each one on
    /// its first write), so a column that is soon rewritten or replaced,
    /// like a new period's before its first rollup, costs no page faults.
    pub fn zeroed(len: usize, width: usize) -> CowColumn<T> {
        let mut column = CowColumn::with_width(width);
        assert_eq!(len % width, 0, "a whole number of rows");
        let chunk_len = column.chunk_len();
        while column.len < len {
            let entries = chunk_len.min(len - column.len);
            column.chunks.push(Arc::new(bytemuck::zeroed_vec(entries)));
            column.len += entries;
        }
        column
    }
}

impl<T: Clone + Send + Sync> CowColumn<T> {
    /// [`CowColumn::chunks_mut`] as a rayon iterator, with each chunk's
    /// first row.
    pub fn par_chunks_mut(&mut self) -> impl IndexedParallelIterator<Item = (usize, &mut [T])> + '_ {
        let shift = self.shift;
        self.chunks.par_iter_mut().enumerate().map(move |(c, chunk)| (c << shift, Arc::make_mut(chunk).as_mut_slice()))
    }
}

impl<T: Clone + Send + Sync> CowColumn<T> {
    /// Gives this column a private copy of every chunk a clone still holds,
    /// in parallel, dropping its share of the old ones: a background job
    /// calls it on its snapshot first thing, so the live column's next
    /// writes find their chunks unshared and copy nothing under the lock.
    pub fn unshare(&mut self) {
        self.unshare_rows(0..self.rows());
    }

    /// [`CowColumn::unshare`] for the chunks that hold rows `rows` (clamped
    /// to the column's).
    pub fn unshare_rows(&mut self, rows: std::ops::Range<usize>) {
        let end = (rows.end.div_ceil(self.chunk_rows())).min(self.chunks.len());
        let start = (rows.start >> self.shift).min(end);
        self.chunks[start..end].par_iter_mut().with_max_len(1).for_each(|chunk| {
            if Arc::strong_count(chunk) > 1 {
                // The assignment drops this column's share of the old chunk.
                *chunk = Arc::new(chunk.as_ref().clone());
            }
        });
    }

    /// The number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
}

impl<T> CowColumn<T> {
    /// An empty column of the same width: what a snapshot keeps of a column
    /// it does not need.
    pub fn empty_like(&self) -> CowColumn<T> {
        CowColumn::with_width(self.width)
    }
}

impl<T> Index<usize> for CowColumn<T> {
    type Output = T;

    /// The entry at `i` (row `i / width`). Panics when out of range.
    #[inline]
    fn index(&self, i: usize) -> &T {
        if self.width == 1 {
            &self.chunks[i >> self.shift][i & (self.chunk_rows() - 1)]
        } else {
            let chunk_len = self.chunk_len();
            &self.chunks[i / chunk_len][i % chunk_len]
        }
    }
}

impl<T: Clone> IndexMut<usize> for CowColumn<T> {
    /// The entry at `i`, to write: copies its chunk first if a clone holds it.
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        let (chunk, offset) = if self.width == 1 {
            (i >> self.shift, i & (self.chunk_rows() - 1))
        } else {
            let chunk_len = self.chunk_len();
            (i / chunk_len, i % chunk_len)
        };
        &mut Arc::make_mut(&mut self.chunks[chunk])[offset]
    }
}

#[cfg(test)]
#[path = "cow_column_tests.rs"]
mod tests;
