//! The engine: the genealogy and everything computed from it. Plain Rust:
//! no tonic, prost or sled here (architecture invariant), so it can be
//! tested, benchmarked and reasoned about alone.
//!
//! It is built of four rooms, one per domain, each a folder with its own
//! `impl Network` part and a narrow public surface:
//!
//! - [`genealogy`]: the sponsor forest, its writes, imports and reads;
//! - [`volumes`]: orders, the live volumes of open periods, rollups,
//!   recalculations and closed periods;
//! - [`compensation`]: the plan, ranks, rank progress, commissions,
//!   commission runs and ExplainLevel;
//! - [`team`]: mentors, training and GetTeamProgress.
//!
//! The shared types stay at this top level rather than in a room of their
//! own, because every room uses them: the copy-on-write storage that makes
//! [`Network::snapshot`] O(columns × chunks) (`cow_column.rs`: chunked
//! columns; `cow_map.rs`: per-partner maps), [`PartnerIx`] (`partner_ix.rs`),
//! [`ChangeSet`] and the audit (`change.rs`), a job's [`Cancel`] flag
//! (`cancel.rs`), [`EngineError`] (`error.rs`),
//! money (`money.rs`), [`Period`], [`Date`], ids (`id_index.rs`), and
//! [`Network`] itself (`network.rs`: the struct and what no room owns). Each
//! room's `//!` docs describe its algorithms and invariants in detail.
//!
//! Everything outside the engine (store, service, tests, benches) uses the
//! names re-exported here, or a room's own re-exports for the few names
//! only that room's signatures carry (`volumes::PeriodVolumes`,
//! `compensation::statement`, ...); the rooms' inner modules are
//! `pub(crate)` at most.
//!
//! **Architecture invariant:** nothing recurses. Every walk over the tree is a
//! loop over the link columns (a chain of 1,000,000 partners is a test case),
//! and every per-request loop is bounded (page sizes, upline levels, import
//! rows).

pub mod cancel;
pub mod change;
pub mod compensation;
pub mod cow_column;
pub mod cow_map;
pub mod date;
pub mod decimal_text;
pub mod error;
pub mod genealogy;
pub mod id_index;
pub mod money;
pub mod network;
mod partner_ix;
pub mod period;
pub mod team;
pub mod text;
pub mod volumes;

pub use cancel::Cancel;
pub use change::{Audit, ChangeSet, EventKind, GenealogyEvent, PartnerRecord, TeamChange};
pub use compensation::{
    format_cents, format_rate, format_scaled, rank_bfs, FieldViolation, Freshness, KindTotals, LegSlot, LevelCursor,
    LevelRole, Line, LineKind, LiveRanks, PartnerFigures, PayoutFactor, Phase, Plan, PlanChange, PlanDraft,
    PlanInstall, Rank, RankDraft, RankProgress, RankTarget, Requirement, RequirementKind, RunColumns, RunParts,
    RunProgress, RunResult, RunTotals, Statement, MAX_LISTED_PARTNERS, SCALED_PER_CENT,
};
pub use compensation::{Comparison, SimPhase, SimRow, SimulationInputs};
pub use date::Date;
pub use error::{EngineError, EngineResult};
pub use genealogy::{
    DownlineCursor, Genealogy, GenealogyLoader, ImportOutcome, NewPartner, PartnerStatus, PartnerView, WriteOutcome,
};
pub use network::Network;
pub use partner_ix::{PartnerIx, PartnerRange};
pub use period::Period;
pub use team::{
    Assignment, Completion, CompletionOutcome, LayoutJob, LevelProgress, MenteeCursor, MenteePage, MentorSource,
    MentorView, ModuleUpdate, Team, TeamLayout, TeamProgress, Training, TrainingModule,
};
pub use volumes::{
    not_in_closed, personal_volumes, AdjustmentTotals, BfsLayout, ClosedPeriod, FrozenPeriod, InputMemory, LevelTotals,
    OfficialRun, Order, OrderKind, OrderRequest, RecalcReport, RecalcSnapshot, Recorded, RollupInput, SnapshotMemory,
    VolumeAnswer, VolumePlan, VolumeView,
};
