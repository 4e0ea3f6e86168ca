//! The on-disk encoding of plan versions and official runs (prost, like
//! every record: fields can be added without a migration). Big integers
//! are decimal strings: prost has no 128-bit integers.

/// A plan version, as its texts (validated again when loaded).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PlanRecord {
    /// Levels.
    #[prost(uint32, tag = "1")]
    pub levels: u32,
    /// One rate per level.
    #[prost(string, repeated, tag = "2")]
    pub level_rates: Vec<String>,
    /// Compression.
    #[prost(bool, tag = "3")]
    pub compression: bool,
    /// Min active PV.
    #[prost(string, tag = "4")]
    pub min_active_pv: String,
    /// Retail rate.
    #[prost(string, tag = "5")]
    pub retail_rate: String,
    /// Retail rule.
    #[prost(string, tag = "6")]
    pub min_retail_for_levels: String,
    /// Partner cap.
    #[prost(string, tag = "7")]
    pub partner_cap: String,
    /// Payout cap.
    #[prost(string, tag = "8")]
    pub payout_cap: String,
    /// Ranks, lowest first.
    #[prost(message, repeated, tag = "9")]
    pub ranks: Vec<RankRecord>,
}

/// A rank of a [`PlanRecord`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct RankRecord {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Min PV.
    #[prost(string, tag = "2")]
    pub min_pv: String,
    /// Min qualifying GV.
    #[prost(string, tag = "3")]
    pub min_gv: String,
    /// Leg share.
    #[prost(string, tag = "4")]
    pub max_leg_share: String,
    /// Legs.
    #[prost(uint32, tag = "5")]
    pub min_legs: u32,
    /// Rank of the legs.
    #[prost(string, tag = "6")]
    pub leg_min_rank: String,
    /// Paid levels.
    #[prost(uint32, tag = "7")]
    pub paid_levels: u32,
}

/// The totals of a period's official run (inside its closed summary).
#[derive(Clone, PartialEq, prost::Message)]
pub struct OfficialRunRecord {
    /// The run's id.
    #[prost(string, tag = "1")]
    pub run_id: String,
    /// Plan version.
    #[prost(uint32, tag = "2")]
    pub plan_version: u32,
    /// Partners in the run.
    #[prost(uint64, tag = "3")]
    pub partners: u64,
    /// V, volume units.
    #[prost(string, tag = "4")]
    pub v_units: String,
    /// T, scaled.
    #[prost(string, tag = "5")]
    pub t_scaled: String,
    /// Payout factor numerator; empty when the cap did not bite.
    #[prost(string, tag = "6")]
    pub factor_numerator: String,
    /// Payout factor denominator.
    #[prost(string, tag = "7")]
    pub factor_denominator: String,
    /// Payable total, cents.
    #[prost(string, tag = "8")]
    pub payable_cents: String,
    /// Breakage, scaled.
    #[prost(string, tag = "9")]
    pub breakage_scaled: String,
    /// Partners per rank code.
    #[prost(uint64, repeated, tag = "10")]
    pub per_rank: Vec<u64>,
    /// Partners paid levels without retail.
    #[prost(uint64, tag = "11")]
    pub levels_without_retail: u64,
    /// The first of them, partner seqs.
    #[prost(uint32, repeated, tag = "12")]
    pub levels_without_retail_listed: Vec<u32>,
    /// RETAIL volume.
    #[prost(string, tag = "13")]
    pub retail_units: String,
    /// SELF volume.
    #[prost(string, tag = "14")]
    pub self_units: String,
    /// FEE volume.
    #[prost(string, tag = "15")]
    pub fee_units: String,
    /// Run time, ms.
    #[prost(uint64, tag = "16")]
    pub duration_ms: u64,
}
