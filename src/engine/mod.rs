//! The engine: the genealogy and everything computed from it. Plain Rust:
//! no tonic, prost or sled here (architecture invariant), so it can be
//! tested, benchmarked and reasoned about alone.

pub mod change;
pub mod compensation;
pub mod date;
pub mod error;
pub mod genealogy;
pub mod id_index;
pub mod money;
pub mod network;
pub mod period;
pub mod team;
pub mod volumes;

pub use change::{Audit, ChangeSet, EventKind, GenealogyEvent, PartnerRecord, TeamChange};
pub use compensation::{
    format_cents, format_rate, format_scaled, rank_bfs, FieldViolation, KindTotals, LegSlot, LevelCursor, LevelRole,
    Line, LineKind, LiveRanks, PartnerFigures, PayoutFactor, Phase, Plan, PlanDraft, Rank, RankDraft, RankProgress,
    RankTarget, Requirement, RequirementKind, RunProgress, RunResult, RunTotals, Statement, MAX_LISTED_PARTNERS,
    SCALED_PER_CENT,
};
pub use date::Date;
pub use error::{EngineError, EngineResult};
pub use genealogy::{
    DownlineCursor, Genealogy, GenealogyLoader, ImportOutcome, NewPartner, PartnerStatus, PartnerView, WriteOutcome,
    NONE,
};
pub use network::Network;
pub use period::Period;
pub use team::{
    Assignment, Completion, CompletionOutcome, LevelProgress, MenteeCursor, MenteePage, MentorSource, MentorView,
    ModuleUpdate, Team, TeamLayout, TeamProgress, Training, TrainingModule,
};
pub use volumes::{
    not_in_closed, personal_volumes, ClosedPeriod, FrozenPeriod, InputMemory, LevelTotals, OfficialRun, Order,
    OrderKind, OrderRequest, RecalcReport, RecalcSnapshot, Recorded, RollupInput, SnapshotMemory, VolumeAnswer,
    VolumePlan, VolumeView,
};
