//! The column against a plain `Vec` model, with snapshots taken at random
//! points that must never change.

use super::*;
use proptest::prelude::*;

/// Rows per chunk of the widest-chunked column here (`u32`, width 1): the
/// other widths' chunk sizes divide it, so sizes around it cross theirs too.
const CHUNK_ROWS: usize = 1 << chunk_shift_for::<u32>(1);

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    Push(u32),
    Extend(usize, u32),
    Resize(usize, u32),
    Set(usize, u32),
    RowWrite(usize, u32),
    Fill(u32),
    RewriteChunks(u32),
    Snapshot,
    DropSnapshot(usize),
    UnshareSnapshot(usize),
}

fn step() -> impl Strategy<Value = Step> {
    // Sizes around the chunk boundaries, so chunks start, fill and split.
    let size = prop_oneof![0..8usize, (CHUNK_ROWS - 4)..(CHUNK_ROWS + 4), 0..(3 * CHUNK_ROWS)];
    prop_oneof![
        any::<u32>().prop_map(Step::Push),
        (0..5000usize, any::<u32>()).prop_map(|(n, v)| Step::Extend(n, v)),
        (size, any::<u32>()).prop_map(|(n, v)| Step::Resize(n, v)),
        (any::<usize>(), any::<u32>()).prop_map(|(i, v)| Step::Set(i, v)),
        (any::<usize>(), any::<u32>()).prop_map(|(i, v)| Step::RowWrite(i, v)),
        any::<u32>().prop_map(Step::Fill),
        any::<u32>().prop_map(Step::RewriteChunks),
        Just(Step::Snapshot),
        any::<usize>().prop_map(Step::DropSnapshot),
        any::<usize>().prop_map(Step::UnshareSnapshot),
    ]
}

/// Applies `step` to the column and to the model alike.
fn apply(step: &Step, column: &mut CowColumn<u32>, model: &mut Vec<u32>, width: usize) {
    let rows = model.len() / width;
    match *step {
        Step::Push(v) => {
            for _ in 0..width {
                column.push(v);
                model.push(v);
            }
        }
        Step::Extend(n, v) => {
            let values: Vec<u32> = (0..n * width).map(|i| v.wrapping_add(i as u32)).collect();
            column.extend_from_slice(&values);
            model.extend_from_slice(&values);
        }
        Step::Resize(n, v) => {
            column.resize(n * width, v);
            model.resize(n * width, v);
        }
        Step::Set(i, v) if !model.is_empty() => {
            let i = i % model.len();
            column.set(i, v);
            model[i] = v;
        }
        Step::RowWrite(r, v) if rows > 0 => {
            let r = r % rows;
            column.row_mut(r).fill(v);
            model[r * width..(r + 1) * width].fill(v);
        }
        Step::Fill(v) => {
            column.fill(v);
            model.fill(v);
        }
        Step::RewriteChunks(v) => {
            let rows_per_chunk = column.chunk_rows();
            column.par_chunks_mut().for_each(|(first, chunk)| chunk.iter_mut().for_each(|e| *e ^= v ^ first as u32));
            for (i, e) in model.iter_mut().enumerate() {
                *e ^= v ^ (i / width / rows_per_chunk * rows_per_chunk) as u32;
            }
        }
        _ => {}
    }
}

/// Every read of the column agrees with the model.
fn check(column: &CowColumn<u32>, model: &[u32], width: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(column.len(), model.len());
    prop_assert_eq!(column.rows(), model.len() / width);
    prop_assert_eq!(column.to_vec(), model.to_vec());
    prop_assert!(column.iter().eq(model.iter()));
    let chunks: Vec<&[u32]> = column.chunks().collect();
    for (c, chunk) in chunks.iter().enumerate() {
        let full = c + 1 < chunks.len();
        prop_assert!(!full || chunk.len() == column.chunk_rows() * width, "every chunk but the last is full");
        prop_assert_eq!(chunk.len() % width, 0, "whole rows");
    }
    for i in [0, model.len() / 2, model.len().saturating_sub(1), model.len()] {
        prop_assert_eq!(column.get(i), model.get(i));
        if i < model.len() {
            prop_assert_eq!(column[i], model[i]);
            let r = i / width;
            prop_assert_eq!(column.row(r), &model[r * width..(r + 1) * width]);
            prop_assert_eq!(column.slice_in_chunk(r * width..(r + 1) * width), column.row(r));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The column, empty or zeroed at first, behaves as a `Vec`, and every snapshot keeps the
    /// contents it had when taken, whatever is written later.
    #[test]
    fn a_column_is_a_vec_and_its_snapshots_never_change(
        width in prop_oneof![Just(1usize), Just(3usize), Just(7usize)],
        initial_rows in prop_oneof![Just(0usize), 1..8usize, (CHUNK_ROWS - 2)..(CHUNK_ROWS + 2)],
        steps in prop::collection::vec(step(), 1..40),
    ) {
        // A column starts empty or zeroed, as a new period's columns do.
        let mut column = CowColumn::zeroed(initial_rows * width, width);
        let mut model = vec![0; initial_rows * width];
        check(&column, &model, width)?;
        let mut snapshots: Vec<(CowColumn<u32>, Vec<u32>)> = Vec::new();
        for step in &steps {
            match step {
                Step::Snapshot => snapshots.push((column.clone(), model.clone())),
                Step::DropSnapshot(i) if !snapshots.is_empty() => {
                    let i = i % snapshots.len();
                    snapshots.swap_remove(i);
                }
                Step::UnshareSnapshot(i) if !snapshots.is_empty() => {
                    let i = i % snapshots.len();
                    snapshots[i].0.unshare();
                }
                _ => apply(step, &mut column, &mut model, width),
            }
            check(&column, &model, width)?;
            for (snapshot, frozen) in &snapshots {
                prop_assert_eq!(snapshot.to_vec(), frozen.clone());
            }
        }
    }
}

#[test]
fn a_clone_shares_every_chunk_and_a_write_copies_only_its_own() {
    const CHUNK_ROWS: usize = 1 << chunk_shift_for::<u64>(1);
    let mut live = CowColumn::from_vec(vec![7u64; 3 * CHUNK_ROWS + 5]);
    assert_eq!(live.chunk_rows(), CHUNK_ROWS);
    let data_bytes = (3 * CHUNK_ROWS + 5) * 8;
    let alone = live.bytes();
    assert_eq!(alone.shared_bytes, 0);
    assert!(alone.owned_bytes >= data_bytes);
    let table_bytes = alone.owned_bytes - data_bytes;
    let snapshot = live.clone();
    let shared = snapshot.bytes();
    assert_eq!(shared, ColumnBytes { owned_bytes: 4 * std::mem::size_of::<Arc<Vec<u64>>>(), shared_bytes: data_bytes });
    // The snapshot's own memory is its chunk table, 8 bytes a chunk: under
    // 0.1 % of the data (the target is 1 %) even for the narrowest column.
    assert!(shared.owned_bytes * 1000 < shared.shared_bytes);
    live[CHUNK_ROWS + 1] = 8;
    let after = live.bytes();
    let copied_bytes = CHUNK_ROWS * 8;
    assert_eq!(after, ColumnBytes { owned_bytes: table_bytes + copied_bytes, shared_bytes: data_bytes - copied_bytes });
    assert_eq!(snapshot[CHUNK_ROWS + 1], 7);
    assert_eq!(live[CHUNK_ROWS + 1], 8);
    // Once the snapshot is gone, every chunk is the live column's alone again.
    drop(snapshot);
    assert_eq!(live.bytes().shared_bytes, 0);
}

#[test]
fn an_unshared_snapshot_keeps_its_contents_and_the_live_column_owns_every_chunk_again() {
    const CHUNK_ROWS: usize = 1 << chunk_shift_for::<u32>(7);
    let mut live = CowColumn::from_rows(vec![3u32; 7 * (2 * CHUNK_ROWS + 1)], 7);
    let mut snapshot = live.clone();
    live.row_mut(1).fill(4);
    snapshot.unshare();
    assert_eq!(live.bytes().shared_bytes, 0);
    assert_eq!(snapshot.bytes().shared_bytes, 0);
    assert_eq!(snapshot.to_vec(), vec![3u32; 7 * (2 * CHUNK_ROWS + 1)]);
    // Writes to the live column now copy nothing and the snapshot does not see them.
    live.row_mut(CHUNK_ROWS).fill(5);
    assert_eq!(snapshot.row(CHUNK_ROWS), &[3; 7]);
    assert_eq!(live.row(1), &[4; 7]);
}

#[test]
fn chunks_aim_at_32_kib_within_the_bounds() {
    assert_eq!(chunk_shift_for::<u8>(1), MAX_CHUNK_SHIFT, "bytes: the most rows");
    assert_eq!(1 << chunk_shift_for::<i64>(1), 4096);
    assert_eq!(1 << chunk_shift_for::<[i64; 2]>(7), 256, "7 level totals of 16 bytes: 28 KiB a chunk");
    assert_eq!(chunk_shift_for::<[u8; 4096]>(1), MIN_CHUNK_SHIFT, "huge rows: the fewest rows");
    assert_eq!(CowColumn::<u64>::with_width(3).chunk_rows(), 1 << chunk_shift_for::<u64>(3));
}

#[test]
fn rows_never_straddle_chunks() {
    let width = 7;
    const CHUNK_ROWS: usize = 1 << chunk_shift_for::<u32>(7);
    let mut column = CowColumn::with_width(width);
    column.resize((CHUNK_ROWS + 3) * width, 0u32);
    let chunks: Vec<usize> = column.chunks().map(<[u32]>::len).collect();
    assert_eq!(chunks, vec![CHUNK_ROWS * width, 3 * width]);
    column.row_mut(CHUNK_ROWS - 1).copy_from_slice(&[1, 2, 3, 4, 5, 6, 7]);
    column.row_mut(CHUNK_ROWS).fill(9);
    assert_eq!(column.row(CHUNK_ROWS - 1), &[1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(column[CHUNK_ROWS * width - 1], 7);
    assert_eq!(column[CHUNK_ROWS * width], 9);
}
