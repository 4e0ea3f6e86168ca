//! The engine: the genealogy and everything computed from it. Plain Rust:
//! no tonic, prost or sled here (architecture invariant), so it can be
//! tested, benchmarked and reasoned about alone.

pub mod bulk;
pub mod change;
pub mod closed_period;
pub mod commission;
pub mod commission_run;
pub mod date;
pub mod downline_cursor;
pub mod error;
pub mod explain_level;
pub mod genealogy;
mod genealogy_links;
pub mod genealogy_write;
pub mod id_index;
mod invariants;
pub mod live_ranks;
pub mod mentors;
pub mod money;
pub mod network;
pub mod network_plan;
pub mod network_volumes;
pub mod orders;
pub mod period;
pub mod period_volumes;
pub mod plan;
pub mod rank_progress;
pub mod ranks;
pub mod rollup;
pub mod status;
pub mod team;
pub mod team_progress;
pub mod training;
pub mod volume_plan;

pub use bulk::{GenealogyLoader, ImportOutcome};
pub use change::{Audit, ChangeSet, EventKind, GenealogyEvent, PartnerRecord, TeamChange};
pub use closed_period::{ClosedPeriod, FrozenPeriod, OfficialRun, VolumeAnswer};
pub use date::Date;
pub use error::{EngineError, EngineResult};
pub use genealogy::{Genealogy, PartnerView, NONE};
pub use genealogy_write::{NewPartner, WriteOutcome};
pub use live_ranks::{LegSlot, LiveRanks};
pub use mentors::{Assignment, MenteeCursor, MenteePage, MentorSource, MentorView};
pub use network::Network;
pub use network_volumes::{OrderRequest, RecalcReport, RecalcSnapshot};
pub use orders::{Order, OrderKind, Recorded};
pub use period::Period;
pub use period_volumes::{LevelTotals, VolumeView};
pub use plan::{FieldViolation, Plan, PlanDraft, Rank, RankDraft};
pub use rank_progress::{format_scaled, RankProgress, RankTarget, Requirement, RequirementKind};
pub use status::Status;
pub use team::{CompletionOutcome, Team};
pub use team_progress::{LevelProgress, TeamProgress};
pub use training::{Completion, ModuleUpdate, Training, TrainingModule};
pub use volume_plan::VolumePlan;
