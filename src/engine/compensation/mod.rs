//! The compensation room: the compensation plan and its versions, ranks
//! (live per open period, and from scratch over a snapshot), a partner's rank
//! progress, commissions, commission runs and ExplainLevel.
//!
//! Public surface: [`Plan`], [`PlanDraft`], [`RankDraft`], [`Rank`],
//! [`FieldViolation`], [`format_rate`], [`LiveRanks`], [`LegSlot`],
//! [`RankProgress`] and its parts, [`rank_bfs`], [`Statement`], [`Line`],
//! [`LineKind`], [`PayoutFactor`], [`statement`], [`format_cents`],
//! [`format_scaled`], [`SCALED_PER_CENT`], the run's [`RunProgress`],
//! [`RunResult`], [`RunTotals`], [`KindTotals`], [`PartnerFigures`],
//! [`Phase`], [`RunSnapshot`], [`MAX_LISTED_PARTNERS`], a run's
//! [`Freshness`], the ranking of a snapshot ([`BfsRanks`], [`LegTotals`]),
//! a simulation's [`SimulationInputs`], [`SimPhase`], [`Comparison`] and [`SimRow`],
//! and ExplainLevel's [`LevelCursor`], [`LevelRole`], [`LevelPage`] and
//! [`LevelEntry`].
//!
//! | file | responsibility |
//! | --- | --- |
//! | `plan.rs` | the compensation plan: parsing, validation by field, versions |
//! | `network_plan.rs` | the `impl Network` part of the plan: versions, re-levelling on update, freshness of runs |
//! | `plan_change.rs` | a change of the rank ladder ranked off the lock on an inputs snapshot, installed with the meanwhile-writes' rows re-derived |
//! | `ranks.rs` | rank rules (`LegTotals`, `paid_as`) and the bottom-up ranking of a snapshot |
//! | `live_ranks.rs` | the live ranks of one period, kept exact in the volume walks |
//! | `rank_progress.rs` | a partner's paid-as rank and its requirements for the next rank (GetRankProgress) |
//! | `commission.rs` | one partner's commission: exact lines, partner cap, payout cap, half-even rounding |
//! | `commission_run.rs` | a run over a snapshot: its capture, its rollup, its result and statements |
//! | `run_figures.rs` | a run after its rollup: ranks, the two commission passes, totals, the position map, in parallel |
//! | `simulation.rs` | SimulatePlan: a period replayed under a candidate plan beside its baseline, compared partner by partner |
//! | `simulation_run.rs` | a simulation's phases: one rollup shared by both plans when their volume settings match |
//! | `explain_level.rs` | ExplainLevel: a resumable depth-first walk listing a level's members and skipped partners |
//!
//! # Live ranks
//! Each open period also holds its *live ranks* (`LiveRanks`): per partner
//! the paid-as rank code and the best code in its subtree (2 bytes), and per
//! rank of the plan a leg slot (16 bytes): the GV of its legs under that
//! rank's leg cap, the number of legs at or over the cap, and the number of
//! legs holding a partner of that rank or higher. Qualifying GV is then
//! `PV + below + at_cap × cap`, exact (scaled by 10⁶, never rounded), and a
//! rank query (`Network::rank_progress`) costs O(ranks) whatever the
//! frontline. Memory: `2 + 16 × ranks` bytes per partner and open period
//! (66 B with the reference plan's 4 ranks; 660 MB per open period at 10M).
//!
//! The walks that keep GV exact keep them exact too: every ancestor whose GV
//! changes hands its sponsor the change of its leg (GV and best code before
//! and after); the sponsor updates its slots and re-ranks itself in O(ranks),
//! so a write costs O(depth × ranks). Steps where nothing can move are
//! skipped: a leg over every cap before and after (the usual case high in
//! the upline), an inactive sponsor whose leg counts did not change, a best
//! that did not change. Creations, status changes and terminations re-rank
//! the partner itself before it joins (or after it leaves) its upline. A
//! period's first order, start-up and a plan change of ranks or volume
//! settings rebuild them from scratch (`rank_bfs`, then one parallel pass for
//! the slots; ~0.17 s at 1M); a change of rates or caps alone keeps them.
//!
//! **Architecture invariant:** the live ranks of every open period always
//! equal `rank_bfs` over a fresh capture of the period with the plan in force
//! (the plan version is kept with them). `RecalculateVolumes` compares the
//! paid-as and best codes too (`rank_differences`, counted in `differences`);
//! the property tests compare codes, bests and every requirement of the next
//! rank with a naive model of the spec after every step.
//!
//! # Commissions
//!
//! A plan (`plan.rs`) is validated as a whole into exact integers: rates are
//! fractions kept in parts per million (at most 6 places), money and volume
//! settings in units of 0.0001. Every update makes a new version (versions are
//! never deleted; a run records the version it used); an update equal to the
//! plan in force changes nothing, so a retry never makes two versions. When
//! levels, compression or `min_active_pv` change, the open periods are
//! re-levelled at once under the write lock (O(orders)).
//!
//! A commission run (`commission_run.rs`) captures a snapshot under the read
//! lock (the breadth-first layout, PV, RV and activity from the orders: O(n),
//! in memory faulted in before the lock), then computes without any lock on rayon: the rollup, the ranks deepest
//! first (`ranks.rs`: per sponsor, its legs' capped GV per rank and how many
//! legs hold each rank), and two passes of commissions (T and V first, then
//! every payable amount under the payout factor). Every amount is an integer in
//! *scaled* units of 10⁻¹⁰ (rate × volume), so sums are exact and independent of
//! the number of threads. The payable amount is rounded half-even to the cent
//! from the exact rational `capped × (payout_cap × V) / T` with 256-bit
//! intermediates (`ethnum`), never from a rounded intermediate.
//!
//! **Architecture invariant:** a statement's lines (retail, levels, partner-cap
//! reduction, payout-cap reduction exact to 10⁻¹⁰, rounding) add up exactly to
//! its payable amount; the payable amounts add up to the run's total (debug
//! assertions, property tests, and an independent reference implementation in
//! `tests/engine/commission_reference.rs`).
//!
//! Runs of open periods live in memory (`service/runs.rs`; at most 2 compute at
//! once, the latest 6 finished ones are kept, plus each period's latest real
//! run). **Closing a period freezes its latest finished run that is not a dry
//! run as the official one**: the close refuses a run that is *stale* (orders,
//! moves, status changes or the plan changed since its snapshot) or still
//! computing, because the official statements must follow from exactly the
//! frozen figures. The official run's totals go into the closed period's
//! summary and each partner's rank into its frozen figures, so the close stays
//! one commit; a statement of a closed period is recomputed from the frozen
//! figures, the rank, the plan version and the payout factor.

pub(crate) mod commission;
pub(crate) mod commission_run;
pub(crate) mod explain_level;
pub(crate) mod live_ranks;
pub(crate) mod network_plan;
pub(crate) mod plan;
pub(crate) mod plan_change;
pub(crate) mod rank_progress;
pub(crate) mod ranks;
pub(crate) mod run_figures;
pub(crate) mod run_parts;
pub(crate) mod simulation;
pub(crate) mod simulation_run;
pub(crate) mod streaming_sides;

pub use commission::{
    format_cents, format_scaled, statement, Line, LineKind, PayoutFactor, Statement, SCALED_PER_CENT,
};
pub use commission_run::{
    KindTotals, PartnerFigures, Phase, RunProgress, RunResult, RunSnapshot, RunTotals, MAX_LISTED_PARTNERS,
};
pub use explain_level::{LevelCursor, LevelEntry, LevelPage, LevelRole};
pub use live_ranks::{LegSlot, LiveRanks};
pub use network_plan::Freshness;
pub use plan::{format_rate, FieldViolation, Plan, PlanDraft, Rank, RankDraft};
pub use plan_change::{PlanChange, PlanInstall};
pub use rank_progress::{RankProgress, RankTarget, Requirement, RequirementKind};
pub use ranks::{rank_bfs, BfsRanks, LegTotals};
pub use run_parts::{RunColumns, RunParts};
pub use simulation::{Comparison, SimRow, SimulationInputs, DECILE_POINTS, MAX_TOP_N};
pub use simulation_run::SimPhase;
