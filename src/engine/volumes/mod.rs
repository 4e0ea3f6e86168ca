//! The volumes room: the order book, the live volumes of every open period
//! and their exact incremental upkeep, the from-scratch rollup,
//! RecalculateVolumes, the memory of the snapshots, and closed periods.
//!
//! Public surface: [`OrderRequest`], [`Order`], [`OrderKind`], [`Recorded`],
//! [`AdjustmentTotals`],
//! [`OrderBook`], [`PeriodVolumes`] and its [`VolumeView`], [`LevelTotals`],
//! [`Rollup`], [`BfsRollup`], [`Closing`], [`VolumeAnswer`], [`ClosedPeriod`],
//! [`FrozenPeriod`], [`OfficialRun`], [`RecalcSnapshot`], [`RecalcReport`],
//! [`SnapshotMemory`], [`InputMemory`], [`RollupInput`],
//! [`personal_volumes`], [`not_in_closed`] and [`VolumePlan`]; the walks that
//! change the live arrays are private to the engine.
//!
//! | file | responsibility |
//! | --- | --- |
//! | `orders.rs` | the order book: idempotency by `order_id`, compact columns |
//! | `volume_plan.rs` | the plan's volume settings: levels, compression, `min_active_pv` |
//! | `period_volumes.rs` | the live volumes of one period and their exact incremental maintenance |
//! | `rollup.rs` | the from-scratch rollup: breadth-first layout, parallel bottom-up pass |
//! | `recalc.rs` | RecalculateVolumes: snapshot under the lock, then rollup and comparison with the live values |
//! | `snapshot_memory.rs` | the memory of a capture (order sums, layout), optionally faulted in ahead; `written_zeros` |
//! | `touched.rs` | the rows a period's writes touched while a plan change re-ranks off the lock |
//! | `closed_period.rs` | the frozen figures of a closed period, and its official commission run |
//! | `network_volumes.rs` | the `impl Network` part of orders, volume queries and rebuilding a period |
//! | `network_closing.rs` | the `impl Network` part of closing a period and of the closed periods' figures |
//!
//! The live ranks of a period (`compensation::live_ranks`) ride along in
//! `period_volumes.rs`'s walks: the compensation room owns them, this room
//! calls them.
//!
//! # Live volumes
//! For each period with orders, `PeriodVolumes` holds per partner: PV, RV, GV,
//! the active-frontline count, and a *level profile*: for each level `k` in
//! `1..=L`, the volume, partners and active partners of its downline at
//! (compressed) level `k`. Everything else GetVolumes shows is derived in O(L).
//!
//! The rule all updates follow: a partner `y` at level `la` below an ancestor
//! `a` puts its own PV at `la` and each level `j` of its own profile at
//! `la + step(y) + j - 1`, where `step(y)` is 1 without compression and 1 only
//! when `y` is active with it. So:
//!
//! - an order that does not change its partner's activity adds its volume to
//!   GV of every ancestor and to one level of each ancestor within `L` levels;
//! - a change of activity (an order crossing `min_active_pv`, a suspension), a
//!   move, a creation or a termination removes the partner's subtree
//!   contribution from its upline and adds it back in the new state
//!   (`apply_subtree`): O(depth + reach × L).
//!
//! **Architecture invariant:** the live arrays always equal a from-scratch
//! rollup of the period's orders over the current genealogy.
//! `RecalculateVolumes` checks this on a snapshot and reports the number of
//! differing values (it must be 0); the property tests check it after every
//! step of random histories.
//!
//! # The from-scratch rollup, recalculation and snapshots
//!
//! The from-scratch rollup (`rollup.rs`) lays live partners out breadth-first
//! (children contiguous, each depth one slice), then processes depths deepest
//! first; within a depth each sponsor *pulls* from its own recruits, so rayon
//! splits a depth at sponsor boundaries with no locks or atomics. Sums are
//! integers, so the result is identical for any number of threads.
//!
//! A recalculation (`recalc.rs`) does not keep that whole rollup: each depth's
//! partners are final once their rayon task has summed them, so the task
//! compares them with the live values right there, while they are in cache, and
//! the level profiles of only two depths ever exist (two buffers the size of
//! the widest depth, ~9 % of a generated network, reused depth after depth).
//! At 10M that writes ~0.2 GB of fresh memory instead of 1.1 GiB, and most of
//! the old cost was the kernel faulting in those pages (BENCHMARKS.md). The
//! commission run and the rebuild of a period need every profile and keep the
//! full rollup.
//!
//! The capture (the order scan's sums, the breadth-first layout, the copy of
//! the live values: ~2 GB at 10M) runs on a copy-on-write
//! `Network::snapshot()`, with no lock held: the live volumes, ranks and
//! orders are [`CowColumn`](crate::engine::cow_column::CowColumn)s, so the
//! snapshot holds them as they were (ARCHITECTURE.md, "Copy-on-write
//! snapshots"). Its memory may still be reserved ahead (`snapshot_memory.rs`),
//! which the jobs no longer do: off the lock it saves nothing.
//!
//! Volumes are `i64` units of 0.0001: exact for the 4 decimal places orders
//! may have. **Architecture invariant:** the sum of `|volume|` of a period's
//! orders stays below `i64::MAX` (checked when recording), which bounds every
//! partial sum, so the hot loops cannot overflow.
//!
//! Closed periods freeze (`closed_period.rs`): closing moves the period's live
//! arrays out of memory into a `FrozenPeriod` (with each partner's activity and
//! frontline as they were), which the store writes to disk; from then on the
//! period takes no orders and GetVolumes reads its figures from sled, so later
//! moves, terminations and restarts never change them. A partner terminated
//! after the close keeps its figures there; one created after it has none.
//! Memory holds only open periods (at most 24).

pub(crate) mod closed_period;
mod network_closing;
pub(crate) mod network_volumes;
pub(crate) mod orders;
pub(crate) mod period_volumes;
pub(crate) mod recalc;
pub(crate) mod rollup;
pub(crate) mod snapshot_memory;
pub(crate) mod touched;
pub(crate) mod volume_plan;

pub use closed_period::{ClosedPeriod, FrozenPeriod, OfficialRun, VolumeAnswer};
pub use network_closing::Closing;
pub use network_volumes::{not_in_closed, OrderRequest};
pub use orders::{AdjustmentTotals, Order, OrderBook, OrderKind, Recorded};
pub use period_volumes::{LevelTotals, PeriodVolumes, VolumeView};
pub use recalc::{RecalcReport, RecalcSnapshot};
pub use rollup::{personal_volumes, BfsLayout, BfsRollup, InputMemory, Rollup, RollupInput};
pub use snapshot_memory::SnapshotMemory;
pub use volume_plan::VolumePlan;
