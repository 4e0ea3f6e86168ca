//! The memory of a recalculation's or a commission run's capture (the
//! order scan's sums, the breadth-first layout), reserved and faulted in
//! ahead, in parallel; and [`written_zeros`], zeroed memory whose pages
//! are mapped by a write.
//!
//! Why it was made: on this project's VM the first write to a 4 KiB page
//! costs ~2.6 µs, and the capture used to run under the network's read
//! lock, so its ~500,000 first touches at 10M kept every write waiting.
//! Since issue #16 the capture runs on a copy-on-write
//! [`Network::snapshot`] with no lock held, and the jobs no longer fault
//! in ahead: it only moved the faults (at 1M, 0.42 s for the capture
//! faulting as it goes against 0.87 s with this first,
//! `examples/snapshot_costs.rs`). It stays for callers that reuse one
//! [`InputMemory`] between runs.

use super::rollup::{BfsLayout, InputMemory};
use crate::engine::network::Network;
use rayon::prelude::*;
use std::sync::Arc;

/// The page size the faulting-in assumes (a larger page is faulted in by
/// its first 4 KiB write all the same).
const PAGE_BYTES: usize = 4096;

/// All the memory of a recalculation's capture, or none of it (then the
/// capture allocates as it goes). The live values need none: the
/// recalculation reads them from its own snapshot of the period
/// (`recalc.rs`).
#[derive(Debug, Default)]
pub struct SnapshotMemory {
    pub(in crate::engine) input: InputMemory,
}

impl SnapshotMemory {
    /// Memory for a snapshot of up to `partners` partners (the arena,
    /// terminated ones included), every page of it written once. A
    /// snapshot of more partners still works: it grows the columns as it
    /// would without this.
    pub fn prefaulted(partners: usize) -> SnapshotMemory {
        SnapshotMemory { input: InputMemory::prefaulted(partners) }
    }

    /// The bytes reserved, for logs and tests.
    pub fn reserved_bytes(&self) -> usize {
        self.input.reserved_bytes()
    }
}

impl SnapshotMemory {
    /// No memory reserved, but `layout` (kept from an earlier capture) to
    /// reuse if the genealogy's structure did not change since.
    pub fn keeping(layout: Option<Arc<BfsLayout>>) -> SnapshotMemory {
        SnapshotMemory { input: InputMemory::keeping(layout) }
    }
}

impl InputMemory {
    /// No memory reserved, but `layout` (kept from an earlier capture) to
    /// reuse if the genealogy's structure did not change since.
    pub fn keeping(layout: Option<Arc<BfsLayout>>) -> InputMemory {
        InputMemory { layout, ..InputMemory::default() }
    }

    /// Memory for the inputs of a rollup of up to `partners` partners (the
    /// arena, terminated ones included), every page of it written once.
    pub fn prefaulted(partners: usize) -> InputMemory {
        let mut input = InputMemory {
            layout: None,
            kind_units: [0; 3],
            sums: vec![[0; 2]; partners],
            pv: vec![0; partners],
            rv: vec![0; partners],
            order: vec![0; partners],
            child_start: vec![0; partners + 1],
            bfs_pv: vec![0; partners],
            bfs_rv: vec![0; partners],
            active: vec![false; partners],
        };
        touch_pages(&mut input.sums);
        touch_pages(&mut input.pv);
        touch_pages(&mut input.rv);
        // The layout's columns are rebuilt from empty: faulted in, then
        // cleared, they keep their mapped capacity.
        for column in [&mut input.order, &mut input.child_start] {
            touch_pages(column);
            column.clear();
        }
        for column in [&mut input.bfs_pv, &mut input.bfs_rv] {
            touch_pages(column);
            column.clear();
        }
        touch_pages(&mut input.active);
        input.active.clear();
        input
    }

    /// The bytes reserved, for logs and tests.
    pub fn reserved_bytes(&self) -> usize {
        self.sums.capacity() * 16
            + (self.pv.capacity() + self.rv.capacity() + self.bfs_pv.capacity() + self.bfs_rv.capacity()) * 8
            + (self.order.capacity() + self.child_start.capacity()) * 4
            + self.active.capacity()
    }
}

impl Network {
    /// The partners to reserve a snapshot's memory for: the arena
    /// (terminated partners included, an upper bound of the live ones) plus
    /// room for partners created before the lock is taken. O(1).
    pub fn partners_to_reserve(&self) -> usize {
        let partners = self.genealogy.len();
        partners + partners / 256 + 1024
    }
}

/// `len` zeros whose pages the kernel has mapped by a *write*, in parallel.
///
/// Why not `vec![0; len]` alone: the allocator hands out fresh zeroed pages
/// unmapped; a `+=` reads a page before it writes it, so the kernel first
/// maps the shared zero page and then, at the write, replaces it, which
/// flushes the TLB of every core running this process: an inter-processor
/// interrupt that, on a VM, exits to the hypervisor on both sides and
/// interrupts the request threads. A job that sums into 160 MB of such
/// memory (the order scan's sums at 10M partners) sent ~20,000 of them.
/// Written first, each page takes one plain fault and no flush.
pub(in crate::engine) fn written_zeros<T: Copy + Default + Send>(len: usize) -> Vec<T> {
    let mut values = vec![T::default(); len];
    touch_pages(&mut values);
    values
}

/// Writes the first element of every page of `values`, in parallel, so the
/// kernel maps each page now. Zeroed memory from the allocator is mapped
/// lazily; the opaque reborrow keeps the compiler from dropping stores of
/// a value it could otherwise prove is already there.
fn touch_pages<T: Copy + Default + Send>(values: &mut [T]) {
    let per_page = (PAGE_BYTES / std::mem::size_of::<T>().max(1)).max(1);
    let values = std::hint::black_box(values);
    values.par_chunks_mut(per_page * 64).for_each(|pages| {
        for page in pages.chunks_mut(per_page) {
            page[0] = T::default();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefaulted_memory_is_zeroed_and_sized() {
        let memory = SnapshotMemory::prefaulted(10_000);
        let input = &memory.input;
        assert!(input.pv.iter().chain(&input.rv).all(|&v| v == 0));
        assert!(input.sums.iter().all(|&s| s == [0, 0]));
        assert!(input.order.is_empty() && input.order.capacity() >= 10_000);
        assert!(input.active.is_empty() && input.active.capacity() >= 10_000);
        assert!(memory.reserved_bytes() >= 10_000 * (16 + 4 * 8 + 2 * 4 + 1));
    }

    #[test]
    fn written_zeros_are_zeros_of_the_length_asked() {
        for len in [0, 1, 511, 512, 100_003] {
            let values: Vec<[i64; 2]> = written_zeros(len);
            assert_eq!(values.len(), len);
            assert!(values.iter().all(|v| *v == [0, 0]));
        }
    }
}
