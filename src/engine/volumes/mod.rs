//! The volumes room: orders, the live volumes of open periods, rollups,
//! recalculations and closed periods.

pub mod closed_period;
mod network_closing;
pub mod network_volumes;
pub mod orders;
pub mod period_volumes;
pub mod recalc;
pub mod rollup;
pub mod snapshot_memory;
pub mod volume_plan;

pub use closed_period::{ClosedPeriod, FrozenPeriod, OfficialRun, VolumeAnswer};
pub use network_closing::Closing;
pub use network_volumes::{not_in_closed, OrderRequest};
pub use orders::{Order, OrderKind, Recorded};
pub use period_volumes::{LevelTotals, VolumeView};
pub use recalc::{RecalcReport, RecalcSnapshot};
pub use rollup::{personal_volumes, InputMemory, RollupInput};
pub use snapshot_memory::SnapshotMemory;
pub use volume_plan::VolumePlan;
