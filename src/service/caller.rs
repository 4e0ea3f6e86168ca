//! The authenticated caller of a request, and the object-level checks the
//! handlers run with it.
//!
//! The guard (`service::guard`) puts a [`Caller`] into every admitted
//! request's extensions. Handlers of methods that partner tokens may call
//! look up every partner id of the request through [`Caller::find`] (or
//! [`Caller::check`]) instead of the genealogy's own lookup: for backends
//! and admins it is that lookup; for a partner it also refuses every
//! partner outside the caller's own downline (itself included) with
//! exactly the NOT_FOUND of an unknown id, so ids cannot be probed.
//!
//! **Architecture invariant:** a partner caller never learns whether an id
//! outside its downline exists: same code, same message, same order of
//! checks as for an id that was never created.

use crate::auth::Role;
use crate::engine::{EngineError, Genealogy, PartnerIx, PartnerStatus};
use std::sync::Arc;
use tonic::{Request, Status};

/// Who is calling, as admitted by the guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// Development mode: no credentials are configured and the server
    /// listens on loopback only. Acts as an admin.
    Open,
    /// A backend's API key.
    Key {
        /// `Admin` or `Backend`.
        role: Role,
        /// The key's name in the keys file.
        name: Arc<str>,
    },
    /// A partner's JWT, its subject resolved to a live partner.
    Partner {
        /// The partner's index in the genealogy (indices are never reused).
        ix: PartnerIx,
        /// The partner's id.
        id: Arc<str>,
    },
}

impl Caller {
    /// The caller's role.
    pub fn role(&self) -> Role {
        match self {
            Caller::Open => Role::Admin,
            Caller::Key { role, .. } => *role,
            Caller::Partner { .. } => Role::Partner,
        }
    }

    /// The caller's name for logs and the audit trail.
    pub fn name(&self) -> &str {
        match self {
            Caller::Open => "open",
            Caller::Key { name, .. } => name,
            Caller::Partner { id, .. } => id,
        }
    }

    /// The caller of a request. A request without one did not pass the
    /// guard; deny-by-default refuses it rather than guessing.
    pub fn of<T>(request: &Request<T>) -> Result<Caller, Status> {
        request.extensions().get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a request reached a handler without a caller: is the guard layer installed?");
            super::status::not_admitted()
        })
    }

    /// The index of the partner `id` named by request field `field`, as the
    /// genealogy's `lookup` finds it; for a partner caller, only when it is
    /// the caller or in its downline, else the NOT_FOUND of an unknown id.
    pub fn find(&self, g: &Genealogy, field: &str, id: &str) -> Result<PartnerIx, Status> {
        let ix = g.lookup(field, id)?;
        if self.sees(g, ix) {
            Ok(ix)
        } else {
            Err(hidden(field, id))
        }
    }

    /// Like [`Caller::find`] with the genealogy's `lookup_live`. A partner
    /// sees no terminated partner, so for it a terminated one is NOT_FOUND
    /// (never the FAILED_PRECONDITION that would confirm the id).
    pub fn find_live(&self, g: &Genealogy, field: &str, id: &str) -> Result<PartnerIx, Status> {
        match self {
            Caller::Partner { .. } => self.find(g, field, id),
            _ => Ok(g.lookup_live(field, id)?),
        }
    }

    /// Refuses a partner caller's request about an id outside its downline
    /// (or unknown) before anything else of the request is looked at;
    /// changes nothing for other callers.
    pub fn check(&self, g: &Genealogy, field: &str, id: &str) -> Result<(), Status> {
        match self {
            Caller::Partner { .. } => self.find(g, field, id).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Refuses a partner caller's request about any partner but itself
    /// (PERMISSION_DENIED, decided on the id alone: it confirms nothing
    /// about other ids); changes nothing for other callers. For answers
    /// that would reveal partners outside the caller's downline, e.g. the
    /// mentor of a partner of its downline.
    pub fn check_self(&self, field: &str, id: &str) -> Result<(), Status> {
        match self {
            Caller::Partner { id: me, .. } if &**me != id => {
                Err(super::status::denied(field, "a partner token may name only its own partner id here"))
            }
            _ => Ok(()),
        }
    }

    /// Whether the caller may see partner `ix`: always for backends and
    /// admins; for a partner, itself (while not terminated) and its live
    /// downline. O(log depth): see `Genealogy::is_in_downline_of`.
    pub fn sees(&self, g: &Genealogy, ix: PartnerIx) -> bool {
        match self {
            Caller::Partner { ix: me, .. } => {
                let me = *me;
                g.status_of(me) != PartnerStatus::Terminated && (ix == me || g.is_in_downline_of(me, ix))
            }
            _ => true,
        }
    }

    /// How many sponsors above partner `ix` the caller may see: all for
    /// backends and admins; for a partner, those up to and including
    /// itself (none above it). `ix` must be visible.
    pub fn upline_levels_visible(&self, g: &Genealogy, ix: PartnerIx) -> usize {
        match self {
            Caller::Partner { ix: me, .. } => g.depth_of(ix).saturating_sub(g.depth_of(*me)) as usize,
            _ => usize::MAX,
        }
    }

    /// Whether the caller is a partner (whose answers are confined).
    pub fn is_partner(&self) -> bool {
        matches!(self, Caller::Partner { .. })
    }
}

/// The answer for a partner outside the caller's downline: the very error
/// the genealogy gives for an id it does not know.
fn hidden(field: &str, id: &str) -> Status {
    EngineError::not_found(field, id).into()
}
