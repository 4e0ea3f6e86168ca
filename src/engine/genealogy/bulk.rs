//! Many partners at once: an import (rows in any order, sponsors possibly
//! after their recruits) and the loader that rebuilds the genealogy from
//! stored records at start-up. Both are O(n) and iterative: a chain of
//! millions is as cheap as a bush.

use super::forest::{Genealogy, NONE};
use super::partner_status::PartnerStatus;
use super::write::NewPartner;
use crate::engine::change::{Audit, ChangeSet};
use crate::engine::date::Date;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::partner_ix::{PartnerIx, PartnerRange};
use std::collections::HashMap;
use std::ops::Range;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The indices of the created partners: always a contiguous range at
    /// the end of the arena, in breadth-first order.
    pub created: PartnerRange,
    /// Rows that repeated an existing partner with the same content.
    pub unchanged: u64,
}

/// Where a new row's sponsor is.
#[derive(Clone, Copy)]
enum SponsorRef {
    /// An existing partner (or `NONE` for a root).
    Existing(u32),
    /// Another new row of the same import.
    Row(u32),
}

fn row_prefix(row: usize) -> String {
    format!("row {}", row + 1)
}

impl Genealogy {
    /// Creates every new partner of `rows`, all or nothing. A row that
    /// repeats an existing partner (or an earlier row) with the same content
    /// is counted as unchanged. Errors name the row (numbered from 1).
    pub fn import(&mut self, rows: &[NewPartner]) -> EngineResult<ImportOutcome> {
        let (fresh, refs, unchanged) = self.resolve_rows(rows)?;
        let order = breadth_first_rows(&fresh, &refs, rows)?;
        self.reserve(order.len());
        let first = self.len() as u32;
        let mut index_of_row = vec![NONE; rows.len()];
        for &row in &order {
            let new = &rows[row as usize];
            let sponsor = match refs[row as usize] {
                SponsorRef::Existing(ix) => ix,
                SponsorRef::Row(r) => index_of_row[r as usize],
            };
            let ix = self.push_partner(&new.partner_id, sponsor, new.joined_on, &new.display_name)?;
            index_of_row[row as usize] = ix;
            if sponsor != NONE {
                self.link_child(sponsor, ix);
            }
        }
        let end = self.len() as u32;
        self.count_new_downlines(first..end);
        Ok(ImportOutcome { created: PartnerRange::new(PartnerIx::new(first), PartnerIx::new(end)), unchanged })
    }

    /// The change set of partners created by an import.
    pub fn created_change(&self, created: PartnerRange, audit: &Audit) -> ChangeSet {
        ChangeSet { touched: Vec::new(), created, audit: audit.clone(), events: Vec::new(), ..ChangeSet::default() }
    }

    /// Splits rows into new ones (with their sponsor references) and
    /// repeats; refuses taken ids, unknown or terminated sponsors.
    fn resolve_rows(&self, rows: &[NewPartner]) -> EngineResult<(Vec<bool>, Vec<SponsorRef>, u64)> {
        let mut fresh = vec![false; rows.len()];
        let mut new_rows: HashMap<&str, u32> = HashMap::with_capacity(rows.len());
        let mut unchanged = 0u64;
        for (row, new) in rows.iter().enumerate() {
            if let Some(ix) = self.find(&new.partner_id).map(PartnerIx::get) {
                if !self.same_as(ix, new) {
                    return Err(self.taken("partner_id", ix).in_row(&row_prefix(row)));
                }
                unchanged += 1;
                continue;
            }
            if let Some(&earlier) = new_rows.get(new.partner_id.as_str()) {
                if rows[earlier as usize] != *new {
                    return Err(EngineError::AlreadyExists {
                        field: format!("{}.partner_id", row_prefix(row)),
                        what: "partner",
                        id: new.partner_id.clone(),
                        detail: format!(" in {} with other content", row_prefix(earlier as usize)),
                    });
                }
                unchanged += 1;
                continue;
            }
            new_rows.insert(&new.partner_id, row as u32);
            fresh[row] = true;
        }
        let mut refs = vec![SponsorRef::Existing(NONE); rows.len()];
        for (row, new) in rows.iter().enumerate().filter(|(row, _)| fresh[*row]) {
            refs[row] = match new.sponsor_id.as_str() {
                "" => SponsorRef::Existing(NONE),
                id => match new_rows.get(id) {
                    Some(&r) => SponsorRef::Row(r),
                    None => SponsorRef::Existing(
                        self.lookup_live("sponsor_id", id).map_err(|e| e.in_row(&row_prefix(row)))?.get(),
                    ),
                },
            };
        }
        Ok((fresh, refs, unchanged))
    }

    /// Counts the downlines of freshly appended partners (all of them
    /// sponsored before they appear in `created`, which is breadth-first),
    /// then adds each new subtree to the existing upline above it.
    fn count_new_downlines(&mut self, created: Range<u32>) {
        let mut into_existing: HashMap<u32, i64> = HashMap::new();
        for ix in created.clone().rev() {
            let sponsor = self.sponsor_at(ix);
            let size = self.downline_count_at(ix) + 1;
            if sponsor == NONE {
                continue;
            }
            if created.contains(&sponsor) {
                self.downline[sponsor as usize] += size;
            } else {
                *into_existing.entry(sponsor).or_default() += i64::from(size);
            }
        }
        for (sponsor, size) in into_existing {
            self.add_downline(sponsor, size);
        }
    }
}

/// Orders the new rows breadth-first from the rows whose sponsor already
/// exists, so every sponsor gets its index before its recruits. Rows never
/// reached have a sponsor cycle among themselves.
fn breadth_first_rows(fresh: &[bool], refs: &[SponsorRef], rows: &[NewPartner]) -> EngineResult<Vec<u32>> {
    // Children of each row as a compressed adjacency list (two flat arrays).
    let n = rows.len();
    let mut start = vec![0u32; n + 1];
    for (row, r) in refs.iter().enumerate() {
        if let (true, SponsorRef::Row(parent)) = (fresh[row], r) {
            start[*parent as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut children = vec![0u32; start[n] as usize];
    for (row, r) in refs.iter().enumerate() {
        if let (true, SponsorRef::Row(parent)) = (fresh[row], r) {
            children[fill[*parent as usize] as usize] = row as u32;
            fill[*parent as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&row| fresh[row as usize] && matches!(refs[row as usize], SponsorRef::Existing(_)))
        .collect();
    let mut head = 0;
    while head < order.len() {
        let row = order[head] as usize;
        head += 1;
        order.extend_from_slice(&children[start[row] as usize..start[row + 1] as usize]);
    }
    let wanted = fresh.iter().filter(|&&f| f).count();
    if order.len() != wanted {
        let mut reached = vec![false; n];
        for &row in &order {
            reached[row as usize] = true;
        }
        let row = (0..n).find(|&r| fresh[r] && !reached[r]).expect("some fresh row was not reached");
        return Err(EngineError::precondition(
            format!("{}.sponsor_id", row_prefix(row)),
            format!("the sponsors of '{}' form a cycle within the import", rows[row].partner_id),
        ));
    }
    Ok(order)
}

/// Rebuilds a genealogy from stored records, pushed in `seq` order.
#[derive(Default)]
pub struct GenealogyLoader {
    g: Genealogy,
}

impl GenealogyLoader {
    /// A loader expecting about `capacity` partners.
    pub fn with_capacity(capacity: usize) -> GenealogyLoader {
        let mut g = Genealogy::new();
        g.reserve(capacity);
        GenealogyLoader { g }
    }

    /// Adds the next record. `ix` must be the number of records pushed so
    /// far; the sponsor may be any index, linked in `finish`.
    pub fn push(
        &mut self,
        ix: PartnerIx,
        id: &str,
        sponsor_ix: PartnerIx,
        status: PartnerStatus,
        joined_on: Date,
        name: &str,
    ) -> Result<(), String> {
        if ix.as_usize() != self.g.len() {
            return Err(format!("record '{id}' has seq {ix}, expected {}", self.g.len()));
        }
        self.g.push_partner_unique(id, joined_on, name)?;
        self.g.sponsor[ix.as_usize()] = sponsor_ix.get();
        self.g.status[ix.as_usize()] = status;
        Ok(())
    }

    /// Links every live partner under its sponsor, computes depths and
    /// counts, and checks the result is a forest.
    pub fn finish(mut self, structure_version: u64) -> Result<Genealogy, String> {
        let g = &mut self.g;
        let n = g.len() as u32;
        let mut roots = Vec::new();
        for ix in 0..n {
            let sponsor = g.sponsor_at(ix);
            if sponsor != NONE && sponsor >= n {
                return Err(format!("partner '{}' has an unknown sponsor seq {sponsor}", g.id_at(ix)));
            }
            if g.status_at(ix) == PartnerStatus::Terminated {
                continue;
            }
            if sponsor == NONE {
                roots.push(ix);
            } else if g.status_at(sponsor) == PartnerStatus::Terminated {
                return Err(format!("partner '{}' is sponsored by terminated '{}'", g.id_at(ix), g.id_at(sponsor)));
            } else {
                g.link_child(sponsor, ix);
            }
        }
        // Breadth-first from the roots: depths top-down, downlines bottom-up.
        let mut order = roots;
        let mut head = 0;
        while head < order.len() {
            let ix = order[head];
            head += 1;
            let mut child = g.first_child_at(ix);
            while child != NONE {
                g.depth[child as usize] = g.depth_at(ix) + 1;
                g.jump[child as usize] = g.jump_target(ix, child);
                order.push(child);
                child = g.next_sibling_at(child);
            }
        }
        let live = g.status.iter().filter(|&&s| s != PartnerStatus::Terminated).count();
        if order.len() != live {
            return Err(format!(
                "{} partners are not below any root: the stored sponsors form a cycle",
                live - order.len()
            ));
        }
        for &ix in order.iter().rev() {
            let sponsor = g.sponsor_at(ix);
            if sponsor != NONE {
                g.downline[sponsor as usize] += g.downline_count_at(ix) + 1;
            }
        }
        g.structure_version = structure_version;
        Ok(self.g)
    }
}
