//! The plain model of the genealogy property tests: a `Vec` of partners
//! with a sponsor index and a status, from which every depth, count and
//! listing is recomputed naively.

use downline::engine::{Date, EngineError, NewPartner, PartnerStatus, PartnerView};
use std::ops::Range;

/// An error as (variant, field): what the API contract fixes.
pub(crate) type MResult<T> = Result<T, (&'static str, String)>;

pub(crate) fn kind(e: &EngineError) -> (&'static str, String) {
    match e {
        EngineError::InvalidArgument { field, .. } => ("InvalidArgument", field.clone()),
        EngineError::NotFound { field, .. } => ("NotFound", field.clone()),
        EngineError::AlreadyExists { field, .. } => ("AlreadyExists", field.clone()),
        EngineError::FailedPrecondition { field, .. } => ("FailedPrecondition", field.clone()),
        EngineError::ResourceExhausted(message) => ("ResourceExhausted", message.clone()),
        EngineError::InvalidPlan(_) => ("InvalidPlan", String::new()),
        EngineError::Internal(message) => ("Internal", message.clone()),
    }
}

pub(crate) fn row_field(row: usize, field: &str) -> String {
    format!("row {}.{field}", row + 1)
}

/// A partner: its creation row (whose `sponsor_id` is not kept up to date), sponsor and status.
pub(crate) struct MPartner {
    pub(crate) row: NewPartner,
    pub(crate) sponsor: Option<usize>,
    pub(crate) status: PartnerStatus,
}

/// The plain model: partner `i` is the `i`-th created.
#[derive(Default)]
pub(crate) struct Model {
    pub(crate) ps: Vec<MPartner>,
    pub(crate) ids_made: u32,
}

impl Model {
    pub(crate) fn live(&self, i: usize) -> bool {
        self.ps[i].status != PartnerStatus::Terminated
    }

    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        self.ps.iter().position(|p| p.row.partner_id == id)
    }

    pub(crate) fn lookup(&self, field: &str, id: &str) -> MResult<usize> {
        if id.is_empty() {
            return Err(("InvalidArgument", field.to_owned()));
        }
        self.find(id).ok_or(("NotFound", field.to_owned()))
    }

    pub(crate) fn lookup_live(&self, field: &str, id: &str) -> MResult<usize> {
        let i = self.lookup(field, id)?;
        self.live(i).then_some(i).ok_or(("FailedPrecondition", field.to_owned()))
    }

    /// Sponsors above `i`, nearest first (none for a terminated partner).
    pub(crate) fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut node = if self.live(i) { self.ps[i].sponsor } else { None };
        while let Some(s) = node {
            out.push(s);
            node = self.ps[s].sponsor;
        }
        out
    }

    pub(crate) fn children(&self, i: usize) -> Vec<usize> {
        (0..self.ps.len()).filter(|&j| self.live(j) && self.ps[j].sponsor == Some(i)).collect()
    }

    pub(crate) fn self_and_downline(&self, i: usize) -> Vec<usize> {
        (0..self.ps.len()).filter(|&j| j == i || self.ancestors(j).contains(&i)).collect()
    }

    pub(crate) fn view(&self, i: usize) -> PartnerView {
        let p = &self.ps[i];
        PartnerView {
            partner_id: p.row.partner_id.clone(),
            sponsor_id: self.same_row(i).sponsor_id,
            status: p.status,
            depth: self.ancestors(i).len() as u32,
            joined_on: p.row.joined_on,
            display_name: p.row.display_name.clone(),
            frontline_count: self.children(i).len() as u32,
            downline_count: if self.live(i) { self.self_and_downline(i).len() as u32 - 1 } else { 0 },
        }
    }

    /// Level by level; each level lists the children of the previous one in its order.
    pub(crate) fn bfs(&self, root: usize, max_depth: u32) -> Vec<(u32, u32)> {
        let (mut out, mut level, mut depth) = (Vec::new(), vec![root], 0);
        while !level.is_empty() && (max_depth == 0 || depth < max_depth) {
            depth += 1;
            level = level.iter().flat_map(|&p| self.children(p)).collect();
            out.extend(level.iter().map(|&c| (c as u32, depth)));
        }
        out
    }

    /// A new partner row with a fresh id, a varying date and sometimes a name.
    pub(crate) fn fresh(&mut self, sponsor_id: String) -> NewPartner {
        let c = self.ids_made;
        self.ids_made += 1;
        NewPartner {
            partner_id: format!("p{c}"),
            sponsor_id,
            joined_on: Date::from_days(19_000 + (c % 5) as i32),
            display_name: if c % 3 == 0 { format!("Name {c}") } else { String::new() },
        }
    }

    /// The row that would repeat partner `i` exactly.
    pub(crate) fn same_row(&self, i: usize) -> NewPartner {
        let sponsor_id = self.ps[i].sponsor.map_or(String::new(), |s| self.ps[s].row.partner_id.clone());
        NewPartner { sponsor_id, ..self.ps[i].row.clone() }
    }

    pub(crate) fn is_same(&self, i: usize, new: &NewPartner) -> bool {
        self.live(i) && self.same_row(i) == *new
    }

    pub(crate) fn push(&mut self, new: &NewPartner, sponsor: Option<usize>) -> usize {
        self.ps.push(MPartner { row: new.clone(), sponsor, status: PartnerStatus::Enrolled });
        self.ps.len() - 1
    }

    pub(crate) fn create(&mut self, new: &NewPartner) -> MResult<(usize, bool)> {
        if let Some(i) = self.find(&new.partner_id) {
            return if self.is_same(i, new) { Ok((i, false)) } else { Err(("AlreadyExists", "partner_id".into())) };
        }
        let root = new.sponsor_id.is_empty();
        let sponsor = if root { None } else { Some(self.lookup_live("sponsor_id", &new.sponsor_id)?) };
        Ok((self.push(new, sponsor), true))
    }

    pub(crate) fn move_to(&mut self, who: &str, to: &str) -> MResult<(usize, bool)> {
        let i = self.lookup_live("partner_id", who)?;
        let s = self.lookup_live("new_sponsor_id", to)?;
        if self.self_and_downline(i).contains(&s) {
            return Err(("FailedPrecondition", "new_sponsor_id".into()));
        }
        let changed = self.ps[i].sponsor != Some(s);
        self.ps[i].sponsor = Some(s);
        Ok((i, changed))
    }

    pub(crate) fn set_status(&mut self, who: &str, status: PartnerStatus) -> MResult<(usize, bool)> {
        let i = self.lookup("partner_id", who)?;
        let precondition = Err(("FailedPrecondition", "partner_id".into()));
        if !self.live(i) {
            return precondition;
        }
        if self.ps[i].status == status {
            return Ok((i, false));
        }
        if status == PartnerStatus::Terminated {
            let recruits = self.children(i);
            if self.ps[i].sponsor.is_none() && !recruits.is_empty() {
                return precondition;
            }
            for c in recruits {
                self.ps[c].sponsor = self.ps[i].sponsor;
            }
        }
        self.ps[i].status = status;
        Ok((i, true))
    }

    /// All or nothing: checks ids, then sponsors, then cycles (the engine's
    /// order of checks), then creates breadth-first from existing sponsors.
    pub(crate) fn import(&mut self, rows: &[NewPartner]) -> MResult<(Range<u32>, u64)> {
        let (mut fresh, mut unchanged) = (Vec::<usize>::new(), 0u64);
        for (r, new) in rows.iter().enumerate() {
            let earlier = fresh.iter().find(|&&e| rows[e].partner_id == new.partner_id);
            let same = match (self.find(&new.partner_id), earlier) {
                (Some(i), _) => self.is_same(i, new),
                (None, Some(&e)) => rows[e] == *new,
                (None, None) => {
                    fresh.push(r);
                    continue;
                }
            };
            if !same {
                return Err(("AlreadyExists", row_field(r, "partner_id")));
            }
            unchanged += 1;
        }
        let row_of = |id: &str| fresh.iter().copied().find(|&e| rows[e].partner_id == id);
        for &r in &fresh {
            let s = rows[r].sponsor_id.as_str();
            if !s.is_empty() && row_of(s).is_none() {
                self.lookup_live("sponsor_id", s).map_err(|(k, f)| (k, row_field(r, &f)))?;
            }
        }
        // Breadth-first from the rows with an existing sponsor; rows never reached form a cycle.
        let mut order: Vec<usize> = fresh.iter().copied().filter(|&r| row_of(&rows[r].sponsor_id).is_none()).collect();
        let mut head = 0;
        while let Some(&parent) = order.get(head) {
            head += 1;
            order.extend(fresh.iter().copied().filter(|&r| row_of(&rows[r].sponsor_id) == Some(parent)));
        }
        if let Some(&r) = fresh.iter().find(|r| !order.contains(r)) {
            return Err(("FailedPrecondition", row_field(r, "sponsor_id")));
        }
        let first = self.ps.len() as u32;
        for r in order {
            self.push(&rows[r], self.find(&rows[r].sponsor_id));
        }
        Ok((first..self.ps.len() as u32, unchanged))
    }
}
