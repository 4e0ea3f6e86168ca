//! What the volume and team property tests share: error kinds as the
//! models predict them, random volume plans, and the rule of status changes.

use downline::engine::{EngineError, PartnerStatus, VolumePlan};
use proptest::prelude::*;

/// The kind of a FAILED_PRECONDITION error.
pub const FP: &str = "FailedPrecondition";
/// Units of 0.0001 per unit of volume.
pub const U: i64 = 10_000;

/// The kind of an engine error, as the models name it.
pub fn kind_of(e: EngineError) -> &'static str {
    match e {
        EngineError::InvalidArgument { .. } => "InvalidArgument",
        EngineError::NotFound { .. } => "NotFound",
        EngineError::AlreadyExists { .. } => "AlreadyExists",
        EngineError::FailedPrecondition { .. } => FP,
        EngineError::ResourceExhausted(_) => "ResourceExhausted",
        EngineError::InvalidPlan(_) => "InvalidPlan",
        EngineError::Internal(_) => "Internal",
    }
}

/// Random plans: 1 to 4 levels, compression on or off, min_active_pv 0 or 50.
pub fn plan() -> impl Strategy<Value = VolumePlan> {
    (1usize..=4, any::<bool>(), prop_oneof![Just(0), Just(50 * U)])
        .prop_map(|(levels, compression, min_active_pv_units)| VolumePlan { levels, compression, min_active_pv_units })
}

/// What a status change answers by the spec: FAILED_PRECONDITION for a
/// terminated partner, or for terminating a root that has recruits; else
/// whether anything changes.
pub fn expected_status_change(
    live: bool,
    current: PartnerStatus,
    wanted: PartnerStatus,
    root: bool,
    has_recruits: bool,
) -> Result<bool, &'static str> {
    if !live || (wanted != current && wanted == PartnerStatus::Terminated && root && has_recruits) {
        Err(FP)
    } else {
        Ok(current != wanted)
    }
}
