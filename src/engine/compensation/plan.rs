//! The compensation plan: volume settings, rates, caps and ranks, parsed and
//! validated from their decimal texts into exact integers.
//!
//! Rates are fractions (`0.05` is 5 %) with at most 6 decimal places, kept
//! as parts per million; money and volume settings have at most 4 places
//! and are kept in volume units of 0.0001 (see [`crate::engine::money`]). A plan is
//! either valid as a whole or refused with every violation named by field.

use crate::engine::decimal_text::{parse_units, too_long_message, DecimalError};
use crate::engine::money::parse_volume;
use crate::engine::text::text_refusal;
use crate::engine::volumes::volume_plan::{VolumePlan, MAX_LEVELS};
use rust_decimal::Decimal;

/// Parts per million in 1.0: the unit of a rate.
pub const RATE_ONE: i64 = 1_000_000;
/// Decimal places of a rate.
pub const RATE_SCALE: u32 = 6;
/// The most ranks a plan may have.
pub const MAX_RANKS: usize = 16;
/// The most legs a rank may ask for.
pub const MAX_MIN_LEGS: u32 = 1_000;
/// The longest rank name, in bytes.
pub const MAX_RANK_NAME_BYTES: usize = 64;

/// One rank of a plan (lowest first in [`Plan::ranks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rank {
    /// Its name, unique within the plan.
    pub name: String,
    /// PV needed, units of 0.0001.
    pub min_pv_units: i64,
    /// Qualifying GV needed, units of 0.0001.
    pub min_gv_units: i64,
    /// The most one leg may count towards `min_gv`, as a fraction in ppm (0 < s ≤ 1).
    pub max_leg_share_ppm: i64,
    /// Legs that must hold a partner of at least `leg_min_rank`.
    pub min_legs: u32,
    /// Index into [`Plan::ranks`] of the rank those legs need (`None` when `min_legs` is 0).
    pub leg_min_rank: Option<usize>,
    /// Levels this rank is paid on (at most the plan's levels).
    pub paid_levels: usize,
}

impl Rank {
    /// The most one leg's GV counts towards this rank's qualifying GV, in
    /// units of 0.0001 × ppm (exact: `max_leg_share × min_gv`).
    pub fn leg_cap_scaled(&self) -> i128 {
        i128::from(self.max_leg_share_ppm) * i128::from(self.min_gv_units)
    }
}

/// A validated compensation plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// 1 for the built-in reference plan; each accepted update adds one.
    pub version: u32,
    /// Levels, compression and the PV that makes a partner active.
    pub volume: VolumePlan,
    /// The rate of each level 1..=levels, ppm.
    pub level_rates_ppm: Vec<i64>,
    /// The rate on a partner's own retail volume, ppm.
    pub retail_rate_ppm: i64,
    /// The RV a partner needs to be paid level commissions; 0 turns the rule off.
    pub min_retail_for_levels_units: i64,
    /// The most one partner is paid in a period, units of 0.0001.
    pub partner_cap_units: i64,
    /// The most the whole payout may be, as a fraction of V, ppm.
    pub payout_cap_ppm: i64,
    /// The ranks, lowest first.
    pub ranks: Vec<Rank>,
}

/// A plan as its decimal texts, before validation (what an update sends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDraft {
    /// Levels L.
    pub levels: u32,
    /// One rate per level.
    pub level_rates: Vec<String>,
    /// Dynamic compression.
    pub compression: bool,
    /// Decimal PV.
    pub min_active_pv: String,
    /// Decimal fraction.
    pub retail_rate: String,
    /// Decimal RV.
    pub min_retail_for_levels: String,
    /// Decimal amount.
    pub partner_cap: String,
    /// Decimal fraction.
    pub payout_cap: String,
    /// The ranks, lowest first.
    pub ranks: Vec<RankDraft>,
}

/// A rank as its texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RankDraft {
    /// Name.
    pub name: String,
    /// Decimal PV.
    pub min_pv: String,
    /// Decimal GV.
    pub min_gv: String,
    /// Decimal fraction.
    pub max_leg_share: String,
    /// Legs needed.
    pub min_legs: u32,
    /// Name of the rank those legs need; empty when `min_legs` is 0.
    pub leg_min_rank: String,
    /// Levels paid.
    pub paid_levels: u32,
}

/// One reason a plan is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field path, e.g. `plan.ranks[1].min_gv`.
    pub field: String,
    /// What is wrong, with the value.
    pub description: String,
}

/// Parses a rate: a decimal fraction between 0 and 1 with at most 6 places
/// once trailing zeros are dropped. The message says what is wrong.
pub fn parse_rate(text: &str) -> Result<i64, String> {
    const BETWEEN: &str = "a rate is a fraction between 0 and 1 (0.05 is 5%)";
    let shown = shown(text);
    match parse_units(text, RATE_SCALE as usize, RATE_ONE) {
        Ok(ppm) if ppm >= 0 => Ok(ppm),
        Ok(_) => Err(format!("'{shown}' is negative: {BETWEEN}")),
        Err(DecimalError::OutOfRange) if text.starts_with('-') => Err(format!("'{shown}' is negative: {BETWEEN}")),
        Err(DecimalError::OutOfRange) => Err(format!("'{shown}' is above 1: {BETWEEN}")),
        Err(DecimalError::TooManyPlaces) => Err(format!("'{shown}' has more than {RATE_SCALE} decimal places")),
        Err(DecimalError::Malformed) => Err(format!("'{shown}' is not a decimal fraction such as 0.05")),
        Err(DecimalError::TooLong) => Err(too_long_message(text)),
    }
}

/// Formats ppm as a decimal fraction (`50000` → `0.05`).
pub fn format_rate(ppm: i64) -> String {
    Decimal::new(ppm, RATE_SCALE).normalize().to_string()
}

fn shown(text: &str) -> &str {
    crate::engine::id_index::truncate(text)
}

/// Which rule rank names follow.
#[derive(Clone, Copy)]
enum NameRule {
    /// A request's: the one text rule of free text.
    Text,
    /// A stored plan's: the rule before the text rule (no control characters).
    Stored,
}

impl NameRule {
    /// Why a rank name is refused, if it is.
    fn refusal(self, name: &str) -> Option<String> {
        if name.is_empty() {
            return Some(format!("must be 1 to {MAX_RANK_NAME_BYTES} bytes"));
        }
        match self {
            NameRule::Text => text_refusal(name, MAX_RANK_NAME_BYTES),
            NameRule::Stored if name.len() > MAX_RANK_NAME_BYTES || name.chars().any(char::is_control) => {
                Some(format!("must be 1 to {MAX_RANK_NAME_BYTES} bytes without control characters"))
            }
            NameRule::Stored => None,
        }
    }
}

/// Collects violations while a draft is checked.
struct Checker {
    violations: Vec<FieldViolation>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation { field: field.into(), description: description.into() });
    }

    fn rate(&mut self, field: &str, text: &str) -> i64 {
        parse_rate(text).unwrap_or_else(|message| {
            self.fail(field, message);
            0
        })
    }

    /// A money or volume setting: at most 4 places, 0 ≤ value ≤ 1,000,000,000.
    fn amount(&mut self, field: &str, text: &str) -> i64 {
        match parse_volume(field, text) {
            Ok(units) if units < 0 => {
                self.fail(field, format!("'{}' is negative", shown(text)));
                0
            }
            Ok(units) => units,
            Err(err) => {
                let message = err.to_string();
                let message = message.strip_prefix(&format!("{field}: ")).unwrap_or(&message).to_owned();
                self.fail(field, message);
                0
            }
        }
    }
}

impl PlanDraft {
    /// Validates the draft into a plan of the given version, or returns
    /// every violation found.
    pub fn validate(&self, version: u32) -> Result<Plan, Vec<FieldViolation>> {
        self.validate_with(version, NameRule::Text)
    }

    /// Validates a plan read back from the store. Rank names follow the
    /// rule of the builds that may have written it (no control characters)
    /// rather than the text rule, so a plan acknowledged before that rule
    /// still loads.
    pub fn validate_stored(&self, version: u32) -> Result<Plan, Vec<FieldViolation>> {
        self.validate_with(version, NameRule::Stored)
    }

    fn validate_with(&self, version: u32, names: NameRule) -> Result<Plan, Vec<FieldViolation>> {
        let mut c = Checker { violations: Vec::new() };
        let levels = self.levels as usize;
        if !(1..=MAX_LEVELS).contains(&levels) {
            c.fail("plan.levels", format!("{} is not between 1 and {MAX_LEVELS}", self.levels));
        }
        if self.level_rates.len() != levels {
            c.fail(
                "plan.level_rates",
                format!("{} rates for {} levels: give exactly one rate per level", self.level_rates.len(), levels),
            );
        }
        let level_rates_ppm: Vec<i64> = (self.level_rates.iter().enumerate().take(MAX_LEVELS))
            .map(|(k, text)| c.rate(&format!("plan.level_rates[{k}]"), text))
            .collect();
        let retail_rate_ppm = c.rate("plan.retail_rate", &self.retail_rate);
        let payout_cap_ppm = c.rate("plan.payout_cap", &self.payout_cap);
        if payout_cap_ppm == 0 && c.violations.iter().all(|v| v.field != "plan.payout_cap") {
            c.fail("plan.payout_cap", "must be above 0: a payout cap of 0 pays nobody");
        }
        // Rates that add up above the payout cap are valid: that is the case
        // the payout cap exists for (spec, step 4: it scales every partner
        // pro rata). Issue #17 lifted #4's refusal.
        let min_active_pv_units = c.amount("plan.min_active_pv", &self.min_active_pv);
        let min_retail_for_levels_units = c.amount("plan.min_retail_for_levels", &self.min_retail_for_levels);
        let partner_cap_units = c.amount("plan.partner_cap", &self.partner_cap);
        if partner_cap_units == 0 && c.violations.iter().all(|v| v.field != "plan.partner_cap") {
            c.fail("plan.partner_cap", "must be above 0");
        }
        let ranks = self.check_ranks(&mut c, levels, names);
        if !c.violations.is_empty() {
            return Err(c.violations);
        }
        Ok(Plan {
            version,
            volume: VolumePlan { levels, compression: self.compression, min_active_pv_units },
            level_rates_ppm,
            retail_rate_ppm,
            min_retail_for_levels_units,
            partner_cap_units,
            payout_cap_ppm,
            ranks,
        })
    }

    fn check_ranks(&self, c: &mut Checker, levels: usize, names: NameRule) -> Vec<Rank> {
        if self.ranks.is_empty() || self.ranks.len() > MAX_RANKS {
            c.fail("plan.ranks", format!("{} ranks: a plan has 1 to {MAX_RANKS}", self.ranks.len()));
        }
        let mut ranks: Vec<Rank> = Vec::with_capacity(self.ranks.len());
        for (i, draft) in self.ranks.iter().enumerate().take(MAX_RANKS) {
            let field = |name: &str| format!("plan.ranks[{i}].{name}");
            if let Some(message) = names.refusal(&draft.name) {
                c.fail(field("name"), message);
            } else if ranks.iter().any(|r| r.name == draft.name) {
                c.fail(field("name"), format!("'{}' names two ranks", draft.name));
            }
            let share = c.rate(&field("max_leg_share"), &draft.max_leg_share);
            if share == 0 && c.violations.iter().all(|v| v.field != field("max_leg_share")) {
                c.fail(field("max_leg_share"), "must be above 0 (at most 1)");
            }
            let leg_min_rank = match (draft.min_legs, draft.leg_min_rank.as_str()) {
                (0, "") => None,
                (0, name) => {
                    c.fail(field("leg_min_rank"), format!("'{name}' is set but min_legs is 0"));
                    None
                }
                (_, name) => {
                    let found = self.ranks.iter().position(|r| r.name == name);
                    match found {
                        Some(j) if j <= i => Some(j),
                        Some(_) => {
                            c.fail(
                                field("leg_min_rank"),
                                format!("'{name}' is above this rank: ranks are out of order"),
                            );
                            None
                        }
                        None => {
                            c.fail(field("leg_min_rank"), format!("'{name}' is not a rank of this plan"));
                            None
                        }
                    }
                }
            };
            if draft.min_legs > MAX_MIN_LEGS {
                c.fail(field("min_legs"), format!("{} is above {MAX_MIN_LEGS}", draft.min_legs));
            }
            if draft.paid_levels as usize > levels {
                c.fail(field("paid_levels"), format!("{} is above the plan's {levels} levels", draft.paid_levels));
            }
            let rank = Rank {
                name: draft.name.clone(),
                min_pv_units: c.amount(&field("min_pv"), &draft.min_pv),
                min_gv_units: c.amount(&field("min_gv"), &draft.min_gv),
                max_leg_share_ppm: share,
                min_legs: draft.min_legs,
                leg_min_rank,
                paid_levels: draft.paid_levels as usize,
            };
            if let Some(lower) = ranks.last() {
                check_order(c, i, lower, &rank);
            }
            ranks.push(rank);
        }
        ranks
    }
}

/// A higher rank may not ask for less than the one below it, nor pay fewer levels.
fn check_order(c: &mut Checker, i: usize, lower: &Rank, rank: &Rank) {
    let pairs = [
        ("min_pv", lower.min_pv_units, rank.min_pv_units),
        ("min_gv", lower.min_gv_units, rank.min_gv_units),
        ("paid_levels", lower.paid_levels as i64, rank.paid_levels as i64),
    ];
    for (name, below, here) in pairs {
        if here < below {
            c.fail(
                format!("plan.ranks[{i}].{name}"),
                format!("ranks are out of order: '{}' asks for less than '{}' below it", rank.name, lower.name),
            );
        }
    }
}

impl Plan {
    /// The spec's reference plan (version 1): 7 levels, Bronze to Platinum.
    pub fn reference() -> Plan {
        PlanDraft::reference().validate(1).expect("the reference plan is valid")
    }

    /// The plan as texts (the inverse of [`PlanDraft::validate`]).
    pub fn to_draft(&self) -> PlanDraft {
        let money = |units: i64| crate::engine::money::format_units(i128::from(units));
        PlanDraft {
            levels: self.volume.levels as u32,
            level_rates: self.level_rates_ppm.iter().map(|&r| format_rate(r)).collect(),
            compression: self.volume.compression,
            min_active_pv: money(self.volume.min_active_pv_units),
            retail_rate: format_rate(self.retail_rate_ppm),
            min_retail_for_levels: money(self.min_retail_for_levels_units),
            partner_cap: money(self.partner_cap_units),
            payout_cap: format_rate(self.payout_cap_ppm),
            ranks: self
                .ranks
                .iter()
                .map(|r| RankDraft {
                    name: r.name.clone(),
                    min_pv: money(r.min_pv_units),
                    min_gv: money(r.min_gv_units),
                    max_leg_share: format_rate(r.max_leg_share_ppm),
                    min_legs: r.min_legs,
                    leg_min_rank: r.leg_min_rank.map(|j| self.ranks[j].name.clone()).unwrap_or_default(),
                    paid_levels: r.paid_levels as u32,
                })
                .collect(),
        }
    }

    /// Levels a partner of `rank` is paid on: `min(L, paid_levels)`.
    pub fn paid_levels(&self, rank: usize) -> usize {
        self.ranks[rank].paid_levels.min(self.volume.levels)
    }
}

impl PlanDraft {
    /// The reference plan of domain.md as texts.
    pub fn reference() -> PlanDraft {
        let rank =
            |name: &str, min_pv: i64, min_gv: i64, share: &str, legs: u32, leg_rank: &str, paid: u32| RankDraft {
                name: name.into(),
                min_pv: min_pv.to_string(),
                min_gv: min_gv.to_string(),
                max_leg_share: share.into(),
                min_legs: legs,
                leg_min_rank: leg_rank.into(),
                paid_levels: paid,
            };
        PlanDraft {
            levels: 7,
            level_rates: ["0.05", "0.05", "0.04", "0.03", "0.02", "0.01", "0.01"].map(String::from).to_vec(),
            compression: true,
            min_active_pv: "50.00".into(),
            retail_rate: "0.10".into(),
            min_retail_for_levels: "0.00".into(),
            partner_cap: "10000.00".into(),
            payout_cap: "0.45".into(),
            ranks: vec![
                rank("Bronze", 50, 0, "1", 0, "", 2),
                rank("Silver", 100, 1_000, "1", 2, "Bronze", 4),
                rank("Gold", 100, 5_000, "0.6", 3, "Bronze", 6),
                rank("Platinum", 150, 25_000, "0.5", 3, "Silver", 7),
            ],
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
