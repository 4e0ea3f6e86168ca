//! UpdatePlan's `update_mask` (AIP-134): the named fields of the request's
//! plan replace those of the plan in force, the others are kept, so an
//! app changes one rate without sending (or racing) the whole plan.

use super::status::invalid;
use crate::proto::v1 as pb;
use tonic::Status;

/// The plan fields a mask may name, in the order of `Plan`.
pub const PLAN_FIELDS: [&str; 9] = [
    "levels",
    "level_rates",
    "compression",
    "min_active_pv",
    "retail_rate",
    "min_retail_for_levels",
    "partner_cap",
    "payout_cap",
    "ranks",
];

/// The most paths a mask may hold: every field once, and `*`.
const MAX_PATHS: usize = PLAN_FIELDS.len() + 1;

/// Whether the mask asks for a merge: it names at least one path and no `*`
/// (an empty mask and `*` replace the whole plan, as without a mask).
pub fn is_partial(mask: Option<&prost_types::FieldMask>) -> bool {
    mask.is_some_and(|m| !m.paths.is_empty() && !m.paths.iter().any(|p| p == "*"))
}

/// Checks every path of `mask`: INVALID_ARGUMENT naming `update_mask` for
/// an unknown one (its value shown, cut), for `version` (the server
/// assigns it) and for more than [`MAX_PATHS`] paths.
pub fn check(mask: Option<&prost_types::FieldMask>) -> Result<(), Status> {
    let Some(mask) = mask else { return Ok(()) };
    if mask.paths.len() > MAX_PATHS {
        return Err(invalid(
            "update_mask",
            format!("has {} paths, more than the {MAX_PATHS} a plan has", mask.paths.len()),
        ));
    }
    for path in &mask.paths {
        match path.as_str() {
            "*" => {}
            "version" => return Err(invalid("update_mask", "version is assigned by the server and cannot be set")),
            known if PLAN_FIELDS.contains(&known) => {}
            other => {
                let shown: String = other.chars().take(64).collect();
                let known = PLAN_FIELDS.join(", ");
                return Err(invalid("update_mask", format!("'{shown}' is not a plan field ({known} or *)")));
            }
        }
    }
    Ok(())
}

/// `current` with the fields `paths` names taken from `update` (a checked
/// mask: unknown paths were refused by [`check`]).
pub fn merge(mut current: pb::Plan, update: pb::Plan, paths: &[String]) -> pb::Plan {
    for path in paths {
        match path.as_str() {
            "levels" => current.levels = update.levels,
            "level_rates" => current.level_rates.clone_from(&update.level_rates),
            "compression" => current.compression = update.compression,
            "min_active_pv" => current.min_active_pv.clone_from(&update.min_active_pv),
            "retail_rate" => current.retail_rate.clone_from(&update.retail_rate),
            "min_retail_for_levels" => current.min_retail_for_levels.clone_from(&update.min_retail_for_levels),
            "partner_cap" => current.partner_cap.clone_from(&update.partner_cap),
            "payout_cap" => current.payout_cap.clone_from(&update.payout_cap),
            "ranks" => current.ranks.clone_from(&update.ranks),
            _ => {}
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> prost_types::FieldMask {
        prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }
    }

    #[test]
    fn only_the_named_fields_change() {
        let current =
            pb::Plan { levels: 7, payout_cap: "0.45".into(), level_rates: vec!["0.05".into()], ..Default::default() };
        let update = pb::Plan { levels: 0, payout_cap: "0.5".into(), ..Default::default() };
        let merged = merge(current.clone(), update, &mask(&["payout_cap"]).paths);
        assert_eq!(merged, pb::Plan { payout_cap: "0.5".into(), ..current });
    }

    #[test]
    fn unknown_paths_and_version_are_refused_and_star_is_whole() {
        assert!(check(Some(&mask(&["levels", "ranks"]))).is_ok());
        for bad in [&["level_rates[3]"][..], &["version"], &["nope"]] {
            let status = check(Some(&mask(bad))).expect_err("refused");
            assert!(status.message().starts_with("update_mask: "), "{}", status.message());
        }
        assert!(!is_partial(Some(&mask(&["*"]))) && !is_partial(Some(&mask(&[]))) && !is_partial(None));
        assert!(is_partial(Some(&mask(&["levels"]))));
    }
}
