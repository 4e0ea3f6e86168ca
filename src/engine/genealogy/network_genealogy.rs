//! The genealogy writes on the whole [`Network`]: each one carried at once
//! to the open periods' volumes and live ranks, and reported to the team
//! (mentor assignments and the team layout).

use super::bulk::ImportOutcome;
use super::forest::NONE;
use super::partner_status::PartnerStatus;
use super::write::{NewPartner, WriteOutcome};
use crate::engine::change::Audit;
use crate::engine::error::EngineResult;
use crate::engine::network::Network;
use crate::engine::partner_ix::PartnerIx;

impl Network {
    /// Creates a partner (see [`Genealogy::create_partner`]).
    pub fn create_partner(&mut self, new: &NewPartner, audit: Audit) -> EngineResult<WriteOutcome> {
        let outcome = self.genealogy.create_partner(new, audit)?;
        if outcome.change.is_some() {
            self.attach_new(outcome.ix.get()..outcome.ix.get() + 1);
        }
        Ok(outcome)
    }

    /// Imports partners (see [`Genealogy::import`]).
    pub fn import(&mut self, rows: &[NewPartner]) -> EngineResult<ImportOutcome> {
        let outcome = self.genealogy.import(rows)?;
        self.attach_new(outcome.created.raw());
        Ok(outcome)
    }

    fn attach_new(&mut self, created: std::ops::Range<u32>) {
        let sponsors: Vec<u32> = created.clone().map(|x| self.genealogy.sponsor_at(x)).collect();
        self.team_layout_heard(&sponsors, &[]);
        let (g, plan) = (&self.genealogy, &self.plan);
        for volumes in self.periods.values_mut() {
            volumes.grow(g.len());
            for x in created.clone() {
                let active = volumes.is_active(g, plan, x);
                volumes.rerank(g, plan, x);
                volumes.apply_subtree(g, plan, x, g.sponsor_at(x), active, 1);
            }
        }
    }

    /// Moves a partner (see [`Genealogy::move_partner`]); its group volume
    /// leaves the old upline and joins the new one.
    pub fn move_partner(&mut self, partner_id: &str, new_sponsor_id: &str, audit: Audit) -> EngineResult<WriteOutcome> {
        let old_sponsor = self.genealogy.find(partner_id).map(|ix| self.genealogy.sponsor_at(ix.get()));
        let mut outcome = self.genealogy.move_partner(partner_id, new_sponsor_id, audit)?;
        self.team.after_genealogy_write(&self.genealogy, &mut outcome);
        if let (Some(_), Some(old)) = (&outcome.change, old_sponsor) {
            self.changes += 1;
            let x = outcome.ix.get();
            self.team_layout_heard(&[old, self.genealogy.sponsor_at(x)], &[]);
            let (g, plan) = (&self.genealogy, &self.plan);
            for volumes in self.periods.values_mut() {
                let active = volumes.is_active(g, plan, x);
                volumes.apply_subtree(g, plan, x, old, active, -1);
                volumes.apply_subtree(g, plan, x, g.sponsor_at(x), active, 1);
            }
        }
        Ok(outcome)
    }

    /// Sets a partner's status (see [`Genealogy::set_status`]). A change of
    /// activity re-levels its downline for its upline; a termination takes
    /// its own volume out of the open periods and hands its recruits, with
    /// their volume, to its sponsor.
    pub fn set_status(&mut self, partner_id: &str, status: PartnerStatus, audit: Audit) -> EngineResult<WriteOutcome> {
        let before = self.genealogy.find(partner_id).map(PartnerIx::get).map(|x| {
            let was_active: Vec<bool> =
                self.periods.values().map(|v| v.is_active(&self.genealogy, &self.plan, x)).collect();
            (self.genealogy.sponsor_at(x), was_active)
        });
        let mut outcome = self.genealogy.set_status(partner_id, status, audit)?;
        self.team.after_genealogy_write(&self.genealogy, &mut outcome);
        let (Some(change), Some((sponsor, was_active))) = (&outcome.change, before) else {
            return Ok(outcome);
        };
        self.changes += 1;
        let x = outcome.ix.get();
        let relinked = if status == PartnerStatus::Terminated { vec![sponsor, x] } else { Vec::new() };
        self.team_layout_heard(&relinked, &[x]);
        let recruits: Vec<u32> = change.touched.iter().map(|t| t.get()).filter(|&t| t != x).collect();
        let (g, plan) = (&self.genealogy, &self.plan);
        for (volumes, was) in self.periods.values_mut().zip(was_active) {
            if sponsor == NONE && status != PartnerStatus::Terminated {
                volumes.rerank(g, plan, x);
                continue;
            }
            if status == PartnerStatus::Terminated {
                if sponsor != NONE {
                    volumes.apply_subtree(g, plan, x, sponsor, was, -1);
                    for &c in &recruits {
                        let active = volumes.is_active(g, plan, c);
                        volumes.apply_subtree(g, plan, c, sponsor, active, 1);
                    }
                }
                volumes.clear(x);
                continue;
            }
            let now = volumes.is_active(g, plan, x);
            if now != was {
                volumes.apply_subtree(g, plan, x, sponsor, was, -1);
                volumes.rerank(g, plan, x);
                volumes.apply_subtree(g, plan, x, sponsor, now, 1);
            }
        }
        Ok(outcome)
    }
}
