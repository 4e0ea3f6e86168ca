//! The compensation room: the plan, ranks (live and from scratch),
//! commissions, commission runs and ExplainLevel.

pub mod commission;
pub mod commission_run;
pub mod explain_level;
pub mod live_ranks;
pub mod network_plan;
pub mod plan;
pub mod rank_progress;
pub mod ranks;

pub use commission::{
    format_cents, format_scaled, statement, Line, LineKind, PayoutFactor, Statement, SCALED_PER_CENT,
};
pub use commission_run::{KindTotals, PartnerFigures, Phase, RunProgress, RunResult, RunTotals, MAX_LISTED_PARTNERS};
pub use explain_level::{LevelCursor, LevelRole};
pub use live_ranks::{LegSlot, LiveRanks};
pub use plan::{format_rate, FieldViolation, Plan, PlanDraft, Rank, RankDraft};
pub use rank_progress::{RankProgress, RankTarget, Requirement, RequirementKind};
pub use ranks::rank_bfs;
