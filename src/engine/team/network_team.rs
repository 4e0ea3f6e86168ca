//! Team support on the network: mentors, training modules and completions
//! (spec: team support). Every write validates everything first, mutates
//! only when nothing can fail any more, and returns the [`ChangeSet`] the
//! store persists; repeating a write changes nothing (a safe retry).

use super::mentors::{Assignment, MenteeCursor, MenteePage, MentorView, Mentors};
use super::training::{Completion, ModuleUpdate, Training, TrainingModule};
use crate::engine::change::{Audit, ChangeSet, EventKind, TeamChange};
use crate::engine::date::Date;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::genealogy::partner_status::PartnerStatus;
use crate::engine::genealogy::write::{WriteOutcome, MAX_REASON_BYTES};
use crate::engine::id_index::{truncate, validate_id};
use crate::engine::network::Network;
use crate::engine::partner_ix::PartnerIx;
use crate::engine::text::check_text;

/// The team data of a network.
#[derive(Default, Clone)]
pub struct Team {
    /// Explicit mentor assignments.
    pub mentors: Mentors,
    /// Training modules and completions.
    pub training: Training,
}

/// Whether a completion was new or repeated a stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionOutcome {
    /// Recorded by this call.
    New,
    /// The same completion was recorded before; nothing changed.
    Repeated,
}

fn team_change(team: TeamChange) -> ChangeSet {
    ChangeSet { team, ..ChangeSet::default() }
}

impl Team {
    /// Keeps mentor assignments valid after a genealogy write: a move or a
    /// termination clears the assignments it broke, and the store persists
    /// that with the write itself.
    pub(in crate::engine) fn after_genealogy_write(&mut self, g: &Genealogy, outcome: &mut WriteOutcome) {
        let Some(change) = outcome.change.as_mut() else {
            return;
        };
        let x = outcome.ix.get();
        let cleared = if change.events.iter().any(|e| e.kind == EventKind::Moved) {
            self.mentors.after_move(g, x)
        } else if change
            .events
            .iter()
            .any(|e| e.kind == EventKind::StatusChanged && e.new_status == PartnerStatus::Terminated)
        {
            let recruits: Vec<u32> = change
                .events
                .iter()
                .filter(|e| e.kind == EventKind::SponsorTerminated)
                .map(|e| e.partner_ix.get())
                .collect();
            self.mentors.after_termination(g, x, &recruits)
        } else {
            return;
        };
        change.team.mentors.extend(cleared.into_iter().map(PartnerIx::new));
    }

    /// Checks the invariants of the mentor assignments.
    pub fn check_invariants(&self, g: &Genealogy) -> Result<(), String> {
        self.mentors.check_invariants(g)
    }
}

impl Network {
    /// Assigns `mentor_id` (a partner of the upline) as the mentor of
    /// `partner_id`. Assigning the sponsor removes an assignment: the
    /// sponsor is the mentor by default and then follows moves.
    pub fn assign_mentor(
        &mut self,
        partner_id: &str,
        mentor_id: &str,
        audit: Audit,
    ) -> EngineResult<(MentorView, Option<ChangeSet>)> {
        validate_id("partner_id", partner_id)?;
        validate_id("mentor_id", mentor_id)?;
        check_text("reason", &audit.reason, MAX_REASON_BYTES)?;
        if mentor_id == partner_id {
            return Err(EngineError::invalid("mentor_id", "is the partner itself; a mentor is above the partner"));
        }
        let g = &self.genealogy;
        let x = g.lookup_live("partner_id", partner_id)?.get();
        let m = g.lookup_live("mentor_id", mentor_id)?.get();
        let sponsor = g.sponsor_at(x);
        if sponsor == NONE {
            let message = format!("partner '{partner_id}' is a root: nobody is above it to mentor it");
            return Err(EngineError::precondition("mentor_id", message));
        }
        if !Mentors::is_valid(g, x, m) && m != sponsor {
            let message = format!("'{mentor_id}' is not in the upline of '{partner_id}'");
            return Err(EngineError::precondition("mentor_id", message));
        }
        let wanted = (m != sponsor).then_some(m);
        if self.team.mentors.get(x).map(|a| a.mentor) == wanted {
            return Ok((self.team.mentors.view(g, PartnerIx::new(x)), None));
        }
        self.team.mentors.set(x, wanted.map(|mentor| Assignment { mentor, audit }));
        let change = team_change(TeamChange { mentors: vec![PartnerIx::new(x)], ..TeamChange::default() });
        Ok((self.team.mentors.view(&self.genealogy, PartnerIx::new(x)), Some(change)))
    }

    /// The mentor of a live partner.
    pub fn mentor(&self, partner_id: &str) -> EngineResult<MentorView> {
        let ix = self.genealogy.lookup_live("partner_id", partner_id)?;
        Ok(self.team.mentors.view(&self.genealogy, ix))
    }

    /// A page of the mentees of a live partner (see [`Mentors::mentees_page`]).
    pub fn mentees(&self, mentor_ix: PartnerIx, cursor: Option<MenteeCursor>, size: usize) -> MenteePage {
        self.team.mentors.mentees_page(&self.genealogy, mentor_ix.get(), cursor, size)
    }

    /// Creates a training module. The same module again answers it; the
    /// same id with other content is ALREADY_EXISTS.
    pub fn create_module(&mut self, module: TrainingModule) -> EngineResult<(u32, Option<ChangeSet>)> {
        let training = &mut self.team.training;
        if let Some(ordinal) = training.find_module(&module.module_id) {
            let stored = &training.modules()[ordinal as usize];
            if *stored == module {
                return Ok((ordinal, None));
            }
            return Err(EngineError::AlreadyExists {
                field: "module_id".into(),
                what: "training module",
                id: module.module_id,
                detail: format!(" with other content (title '{}'); use UpdateTrainingModule", truncate(&stored.title)),
            });
        }
        let ordinal = training.push_module(module)?;
        Ok((ordinal, Some(team_change(TeamChange { modules: vec![ordinal], ..TeamChange::default() }))))
    }

    /// Replaces fields of a module; an update to the current content changes nothing.
    pub fn update_module(&mut self, module_id: &str, update: &ModuleUpdate) -> EngineResult<(u32, Option<ChangeSet>)> {
        let training = &mut self.team.training;
        let ordinal = training.lookup_module("module_id", module_id)?;
        update.check()?;
        let updated = update.apply(&training.modules()[ordinal as usize]);
        if updated == training.modules()[ordinal as usize] {
            return Ok((ordinal, None));
        }
        training.replace_module(ordinal, updated);
        Ok((ordinal, Some(team_change(TeamChange { modules: vec![ordinal], ..TeamChange::default() }))))
    }

    /// Records that a partner completed a module on a day, at most one day
    /// after `today` (time zones ahead of UTC). The same completion again
    /// changes nothing; another day for the same module is ALREADY_EXISTS.
    pub fn record_completion(
        &mut self,
        partner_id: &str,
        module_id: &str,
        completed_on: &str,
        today: Date,
    ) -> EngineResult<(Completion, CompletionOutcome, Option<ChangeSet>)> {
        validate_id("partner_id", partner_id)?;
        validate_id("module_id", module_id)?;
        let day = Date::parse(completed_on).ok_or_else(|| {
            let message =
                format!("'{}' is not a date of the form YYYY-MM-DD between 1900 and 2999", truncate(completed_on));
            EngineError::invalid("completed_on", message)
        })?;
        if day.days() > today.days() + 1 {
            return Err(EngineError::invalid("completed_on", format!("{day} is in the future (today is {today})")));
        }
        let g = &self.genealogy;
        let x = g.lookup("partner_id", partner_id)?.get();
        let module = self.team.training.lookup_module("module_id", module_id)?;
        let completion = Completion { module, completed_on: day };
        match self.team.training.completion(x, module) {
            Some(stored) if stored == completion => return Ok((stored, CompletionOutcome::Repeated, None)),
            Some(stored) => {
                return Err(EngineError::AlreadyExists {
                    field: "module_id".into(),
                    what: "training completion of module",
                    id: module_id.to_owned(),
                    detail: format!(
                        " for partner '{partner_id}' (completed on {}); a module is completed once",
                        stored.completed_on
                    ),
                })
            }
            None => {}
        }
        if g.status_at(x) == PartnerStatus::Terminated {
            let message = format!("partner '{partner_id}' is terminated and records no more training");
            return Err(EngineError::precondition("partner_id", message));
        }
        if day < g.joined_on_at(x) {
            let message = format!("{day} is before partner '{partner_id}' joined ({})", g.joined_on_at(x));
            return Err(EngineError::precondition("completed_on", message));
        }
        self.team.training.add_completion(x, completion);
        self.team_layout_heard(&[], &[x]);
        let change = team_change(TeamChange { completions: vec![PartnerIx::new(x)], ..TeamChange::default() });
        Ok((completion, CompletionOutcome::New, Some(change)))
    }
}

/// Start-up: the store hands back what it persisted, checked on the way in.
impl Team {
    /// Restores a mentor assignment; refuses one the genealogy makes invalid.
    pub fn load_assignment(&mut self, g: &Genealogy, mentee: PartnerIx, assignment: Assignment) -> Result<(), String> {
        let mentee = mentee.get();
        let known = (mentee as usize) < g.len() && (assignment.mentor as usize) < g.len();
        if !known || !Mentors::is_valid(g, mentee, assignment.mentor) || self.mentors.get(mentee).is_some() {
            return Err(format!("mentor assignment of partner #{mentee} to #{} is not valid", assignment.mentor));
        }
        self.mentors.set(mentee, Some(assignment));
        Ok(())
    }

    /// Restores the next module (ordinals are dense, in creation order).
    pub fn load_module(&mut self, module: TrainingModule) -> Result<u32, String> {
        // Not re-validated: a module stored under older rules stays readable.
        if self.training.find_module(&module.module_id).is_some() {
            return Err(format!("training module '{}' is stored twice", module.module_id));
        }
        self.training.push_module(module).map_err(|e| e.to_string())
    }

    /// Restores a completion of a known partner and module.
    pub fn load_completion(&mut self, g: &Genealogy, ix: PartnerIx, completion: Completion) -> Result<(), String> {
        let partner = ix.get();
        let known = (partner as usize) < g.len() && (completion.module as usize) < self.training.modules().len();
        if !known || self.training.completion(partner, completion.module).is_some() {
            return Err(format!("completion of module #{} by partner #{partner} is damaged", completion.module));
        }
        self.training.add_completion(partner, completion);
        Ok(())
    }
}
