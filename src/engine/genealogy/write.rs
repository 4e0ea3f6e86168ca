//! The writes of the genealogy: create, move and status changes. Each one
//! validates everything first and mutates only when it cannot fail any
//! more, so a refused request changes nothing. Each returns the
//! [`ChangeSet`] the store must persist.

use super::forest::{Genealogy, NONE};
use super::partner_status::PartnerStatus;
use crate::engine::change::{Audit, ChangeSet, EventKind, GenealogyEvent, PartnerRecord};
use crate::engine::date::Date;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::id_index::validate_id;
use crate::engine::partner_ix::{PartnerIx, PartnerRange};
use crate::engine::text::check_text;

/// The longest display name, in bytes.
pub const MAX_DISPLAY_NAME_BYTES: usize = 200;
/// The longest audit reason, in bytes.
pub const MAX_REASON_BYTES: usize = 500;

/// A validated request to create a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartner {
    /// The new id.
    pub partner_id: String,
    /// The sponsor's id; empty for a root.
    pub sponsor_id: String,
    /// The joining day.
    pub joined_on: Date,
    /// The display name; may be empty.
    pub display_name: String,
}

impl NewPartner {
    /// Validates the fields of a creation request, naming the bad one.
    pub fn parse(partner_id: &str, sponsor_id: &str, joined_on: &str, display_name: &str) -> EngineResult<NewPartner> {
        validate_id("partner_id", partner_id)?;
        if !sponsor_id.is_empty() {
            validate_id("sponsor_id", sponsor_id)?;
        }
        let joined = Date::parse(joined_on).ok_or_else(|| {
            EngineError::invalid(
                "joined_on",
                format!(
                    "'{}' is not a date of the form YYYY-MM-DD between 1900 and 2999",
                    crate::engine::id_index::truncate(joined_on)
                ),
            )
        })?;
        check_text("display_name", display_name, MAX_DISPLAY_NAME_BYTES)?;
        Ok(NewPartner {
            partner_id: partner_id.to_owned(),
            sponsor_id: sponsor_id.to_owned(),
            joined_on: joined,
            display_name: display_name.to_owned(),
        })
    }
}

/// The result of a write: the partner it is about, and what changed
/// (`None` when the write repeated the current state: a safe retry).
#[derive(Debug)]
pub struct WriteOutcome {
    /// The partner's index.
    pub ix: PartnerIx,
    /// What to persist, if anything changed.
    pub change: Option<ChangeSet>,
}

impl Genealogy {
    /// Finds a partner named by a request field, or says which field named an unknown one.
    pub fn lookup(&self, field: &str, partner_id: &str) -> EngineResult<PartnerIx> {
        validate_id(field, partner_id)?;
        self.find(partner_id).ok_or_else(|| EngineError::not_found(field, partner_id))
    }

    /// Like [`Genealogy::lookup`], but refuses a terminated partner.
    pub fn lookup_live(&self, field: &str, partner_id: &str) -> EngineResult<PartnerIx> {
        let ix = self.lookup(field, partner_id)?;
        if self.status_of(ix) == PartnerStatus::Terminated {
            return Err(EngineError::precondition(field, format!("partner '{partner_id}' is terminated")));
        }
        Ok(ix)
    }

    /// The durable record of a partner.
    pub fn record(&self, ix: PartnerIx) -> PartnerRecord {
        PartnerRecord {
            ix,
            partner_id: self.id(ix).to_owned(),
            sponsor_ix: self.sponsor_of(ix),
            status: self.status_of(ix),
            joined_on: self.joined_on_of(ix),
            display_name: self.name_of(ix).to_owned(),
        }
    }

    /// Whether an existing partner has exactly the content of `new`.
    pub(in crate::engine) fn same_as(&self, ix: u32, new: &NewPartner) -> bool {
        self.status_at(ix) != PartnerStatus::Terminated
            && self.sponsor_id_at(ix) == new.sponsor_id
            && self.joined_on_at(ix) == new.joined_on
            && self.name_at(ix) == new.display_name
    }

    /// The error for an id that is taken by other content.
    pub(in crate::engine) fn taken(&self, field: &str, ix: u32) -> EngineError {
        let detail = if self.status_at(ix) == PartnerStatus::Terminated {
            " (terminated; ids are never reused)".to_owned()
        } else {
            format!(" with other content (sponsor '{}', joined_on {})", self.sponsor_id_at(ix), self.joined_on_at(ix))
        };
        EngineError::AlreadyExists { field: field.to_owned(), what: "partner", id: self.id_at(ix).to_owned(), detail }
    }

    /// Creates a partner. Repeating a creation with the same content
    /// changes nothing and answers the partner (a safe retry).
    pub fn create_partner(&mut self, new: &NewPartner, audit: Audit) -> EngineResult<WriteOutcome> {
        if let Some(ix) = self.find(&new.partner_id).map(PartnerIx::get) {
            return if self.same_as(ix, new) {
                Ok(WriteOutcome { ix: PartnerIx::new(ix), change: None })
            } else {
                Err(self.taken("partner_id", ix))
            };
        }
        let sponsor = match new.sponsor_id.as_str() {
            "" => NONE,
            id => self.lookup_live("sponsor_id", id)?.get(),
        };
        let ix = self.push_partner(&new.partner_id, sponsor, new.joined_on, &new.display_name)?;
        if sponsor != NONE {
            self.link_child(sponsor, ix);
            self.add_downline(sponsor, 1);
        }
        let change = ChangeSet {
            touched: Vec::new(),
            created: PartnerRange::new(PartnerIx::new(ix), PartnerIx::new(ix + 1)),
            audit,
            events: Vec::new(),
            ..ChangeSet::default()
        };
        Ok(WriteOutcome { ix: PartnerIx::new(ix), change: Some(change) })
    }

    /// Gives `partner_id` (with its whole downline) the sponsor `new_sponsor_id`.
    /// Moving to the current sponsor changes nothing.
    pub fn move_partner(&mut self, partner_id: &str, new_sponsor_id: &str, audit: Audit) -> EngineResult<WriteOutcome> {
        let ix = self.lookup_live("partner_id", partner_id)?.get();
        let new_sponsor = self.lookup_live("new_sponsor_id", new_sponsor_id)?.get();
        check_text("reason", &audit.reason, MAX_REASON_BYTES)?;
        if self.is_self_or_ancestor(PartnerIx::new(ix), PartnerIx::new(new_sponsor)) {
            return Err(EngineError::precondition(
                "new_sponsor_id",
                format!("'{new_sponsor_id}' is '{partner_id}' itself or in its downline; the move would make a cycle"),
            ));
        }
        let old_sponsor = self.sponsor_at(ix);
        if old_sponsor == new_sponsor {
            return Ok(WriteOutcome { ix: PartnerIx::new(ix), change: None });
        }
        let old_sponsor_id = self.sponsor_id_at(ix).to_owned();
        let moved = i64::from(self.downline_count_at(ix)) + 1;
        if old_sponsor != NONE {
            self.unlink_child(old_sponsor, ix);
            self.add_downline(old_sponsor, -moved);
        }
        self.sponsor[ix as usize] = new_sponsor;
        self.link_child(new_sponsor, ix);
        self.add_downline(new_sponsor, moved);
        let shift = i64::from(self.depth_at(new_sponsor)) + 1 - i64::from(self.depth_at(ix));
        self.shift_depths(ix, true, shift);
        self.structure_version += 1;
        let event = GenealogyEvent {
            kind: EventKind::Moved,
            partner_id: partner_id.to_owned(),
            partner_ix: PartnerIx::new(ix),
            old_sponsor_id,
            new_sponsor_id: new_sponsor_id.to_owned(),
            old_status: Some(self.status_at(ix)),
            new_status: self.status_at(ix),
            audit,
        };
        Ok(self.outcome(ix, vec![ix], vec![event]))
    }

    /// Sets a partner's status. Setting the current status changes nothing;
    /// a terminated partner can change no more.
    pub fn set_status(&mut self, partner_id: &str, status: PartnerStatus, audit: Audit) -> EngineResult<WriteOutcome> {
        let ix = self.lookup("partner_id", partner_id)?.get();
        check_text("reason", &audit.reason, MAX_REASON_BYTES)?;
        let old = self.status_at(ix);
        if old == PartnerStatus::Terminated {
            return Err(EngineError::precondition(
                "partner_id",
                format!("partner '{partner_id}' is terminated; termination is final"),
            ));
        }
        if old == status {
            return Ok(WriteOutcome { ix: PartnerIx::new(ix), change: None });
        }
        let sponsor = self.sponsor_at(ix);
        if status == PartnerStatus::Terminated && sponsor == NONE && self.frontline[ix as usize] > 0 {
            return Err(EngineError::precondition(
                "partner_id",
                format!(
                    "root '{partner_id}' still has {} direct recruits and no sponsor to take them; move them first",
                    self.frontline[ix as usize]
                ),
            ));
        }
        let event = GenealogyEvent {
            kind: EventKind::StatusChanged,
            partner_id: partner_id.to_owned(),
            partner_ix: PartnerIx::new(ix),
            old_sponsor_id: self.sponsor_id_at(ix).to_owned(),
            new_sponsor_id: self.sponsor_id_at(ix).to_owned(),
            old_status: Some(old),
            new_status: status,
            audit,
        };
        if status != PartnerStatus::Terminated {
            self.status[ix as usize] = status;
            return Ok(self.outcome(ix, vec![ix], vec![event]));
        }
        let recruits = self.terminate(ix);
        let mut touched = vec![ix];
        let mut events = Vec::with_capacity(recruits.len() + 1);
        for &child in &recruits {
            touched.push(child);
            events.push(GenealogyEvent {
                kind: EventKind::SponsorTerminated,
                partner_id: self.id_at(child).to_owned(),
                partner_ix: PartnerIx::new(child),
                old_sponsor_id: partner_id.to_owned(),
                new_sponsor_id: event.old_sponsor_id.clone(),
                old_status: Some(self.status_at(child)),
                new_status: self.status_at(child),
                audit: event.audit.clone(),
            });
        }
        events.insert(0, event);
        Ok(self.outcome(ix, touched, events))
    }

    /// Takes `ix` out of the tree and hands its recruits to its sponsor.
    /// Returns the recruits. The caller checked that a root has none.
    fn terminate(&mut self, ix: u32) -> Vec<u32> {
        let sponsor = self.sponsor_at(ix);
        let mut recruits = Vec::with_capacity(self.frontline[ix as usize] as usize);
        let mut child = self.first_child_at(ix);
        while child != NONE {
            recruits.push(child);
            child = self.next_sibling_at(child);
        }
        if sponsor != NONE {
            self.unlink_child(sponsor, ix);
            self.add_downline(sponsor, -1);
            for &c in &recruits {
                self.sponsor[c as usize] = sponsor;
            }
            self.merge_children(sponsor, &recruits);
            // After the relinking: the recruits' jumps come from their new sponsor.
            for &c in &recruits {
                self.shift_depths(c, true, -1);
            }
        }
        let i = ix as usize;
        self.first_child[i] = NONE;
        self.last_child[i] = NONE;
        self.frontline[i] = 0;
        self.downline[i] = 0;
        self.depth[i] = 0;
        self.jump[i] = ix;
        self.status[i] = PartnerStatus::Terminated;
        self.structure_version += 1;
        recruits
    }

    fn outcome(&self, ix: u32, touched: Vec<u32>, events: Vec<GenealogyEvent>) -> WriteOutcome {
        let audit = events.first().map(|e| e.audit.clone()).unwrap_or_default();
        let touched = touched.into_iter().map(PartnerIx::new).collect();
        let change = ChangeSet {
            touched,
            created: PartnerRange::new(PartnerIx::new(ix), PartnerIx::new(ix)),
            audit,
            events,
            ..ChangeSet::default()
        };
        WriteOutcome { ix: PartnerIx::new(ix), change: Some(change) }
    }
}
