//! ExplainLevel: the partners whose PV makes up level `k` of a partner, and
//! the inactive partners compression skipped on the way, live, in pages.
//!
//! A depth-first walk below the partner along the sponsor links (no
//! recursion, no stack of its own: first child, next sibling, sponsor),
//! tracking each partner's compressed level. A skipped partner is listed
//! only once a member below it is found, just before that member, so
//! every listed skipped partner really lifted somebody into the level.
//! The walk resumes from a cursor: the last partner visited and how many
//! of the skipped partners on its path were already listed (always a
//! prefix of the path: a listed one has a member below, and so do all
//! above it).

use crate::engine::error::{EngineError, EngineResult};
use crate::engine::genealogy::forest::{Genealogy, NONE};
use crate::engine::network::Network;
use crate::engine::partner_ix::PartnerIx;
use crate::engine::period::Period;
use crate::engine::volumes::period_volumes::step;

/// The most partners one call visits without filling its page: bounds a
/// call's time; the page then ends early with a cursor.
pub const MAX_VISITS_PER_PAGE: usize = 2_000_000;

/// Why a partner is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelRole {
    /// Its PV is part of the level.
    Member,
    /// Inactive, above members of the level, skipped by compression.
    Skipped,
}

/// One listed partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelEntry {
    /// The partner.
    pub partner_ix: PartnerIx,
    /// Member or skipped.
    pub role: LevelRole,
    /// PV, volume units.
    pub pv_units: i64,
    /// Whether active.
    pub active: bool,
    /// Sponsor levels below the explained partner.
    pub sponsor_level: u32,
    /// Compressed level below it.
    pub level: u32,
}

/// Where a listing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelCursor {
    /// The last partner visited.
    pub node: u32,
    /// Skipped partners on its path (from the top) already listed.
    pub listed_skipped: u32,
}

/// One page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelPage {
    /// The entries, in depth-first order.
    pub entries: Vec<LevelEntry>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<LevelCursor>,
    /// LV_k: the sum of the members' PV (the live figure).
    pub level_volume_units: i64,
}

/// A frame of the path from the explained partner down to the walk's position.
#[derive(Clone, Copy)]
struct Frame {
    node: u32,
    level: u32,
    sponsor_level: u32,
    /// Inactive under compression: listed as skipped once a member is found below.
    skippable: bool,
    /// Listed already (or never to be listed as skipped).
    listed: bool,
}

impl Network {
    /// A page of the explanation of level `level` of `partner_id` in an
    /// open period, from `cursor` (None: the first page).
    pub fn explain_level(
        &self,
        partner_id: &str,
        period: &str,
        level: u32,
        page_size: usize,
        cursor: Option<LevelCursor>,
    ) -> EngineResult<LevelPage> {
        let period = Period::parse("period", period)?;
        let root = self.genealogy.lookup_live("partner_id", partner_id)?.get();
        let volumes = self.period(period)?;
        if level == 0 || level as usize > self.plan.levels {
            return Err(EngineError::invalid("level", format!("{level} is not between 1 and {}", self.plan.levels)));
        }
        let g = &self.genealogy;
        let active = |x: u32| volumes.is_active(g, &self.plan, x);
        let compression = self.plan.compression;
        let k = level;
        let page_size = page_size.max(1);
        let mut path: Vec<Frame> = match cursor {
            None => vec![Frame { node: root, level: 0, sponsor_level: 0, skippable: false, listed: true }],
            Some(c) => self.rebuild_path(root, c, &active)?,
        };
        let mut entries = Vec::new();
        let level_volume_units = volumes.level_volume_units(root, k as usize);
        for _ in 0..MAX_VISITS_PER_PAGE {
            let top = *path.last().expect("the root frame stays");
            let top_step = if top.node == root { 1 } else { step(&self.plan, active(top.node)) as u32 };
            let child = if top.level + top_step <= k { g.first_child_at(top.node) } else { NONE };
            let next = if child != NONE {
                let node_active = active(child);
                Some(Frame {
                    node: child,
                    level: top.level + top_step,
                    sponsor_level: top.sponsor_level + 1,
                    skippable: compression && !node_active,
                    listed: false,
                })
            } else {
                next_sibling_up(g, &mut path, |x| compression && !active(x))
            };
            let Some(mut frame) = next else {
                return Ok(LevelPage { entries, next: None, level_volume_units });
            };
            frame.listed = !frame.skippable;
            path.push(frame);
            if frame.level != k {
                continue;
            }
            // A member: list the pending skipped partners above it first.
            // When the page fills on the way, it ends at the last partner
            // listed here: it was pending, so no member below it was listed
            // yet, and the next page walks down to this member again.
            let mut listed_here = None;
            for i in 1..path.len() {
                let last = i + 1 == path.len();
                if path[i].listed && !last {
                    continue;
                }
                if entries.len() == page_size {
                    let j = listed_here.expect("a page is never full when a member's listing starts");
                    path.truncate(j + 1);
                    return Ok(LevelPage { entries, next: Some(cursor_at(&path)), level_volume_units });
                }
                path[i].listed = true;
                listed_here = Some(i);
                let f = path[i];
                let (role, node_active) =
                    if f.level == k { (LevelRole::Member, active(f.node)) } else { (LevelRole::Skipped, false) };
                entries.push(entry(volumes, &f, role, node_active));
            }
            if entries.len() == page_size {
                return Ok(LevelPage { entries, next: Some(cursor_at(&path)), level_volume_units });
            }
        }
        Ok(LevelPage { entries, next: Some(cursor_at(&path)), level_volume_units })
    }

    /// Rebuilds the path from the root down to a cursor's partner.
    fn rebuild_path(&self, root: u32, cursor: LevelCursor, active: &impl Fn(u32) -> bool) -> EngineResult<Vec<Frame>> {
        let g = &self.genealogy;
        let stale = || EngineError::invalid("page_token", "is stale: the partner moved since; start the listing again");
        let mut chain = Vec::new();
        let mut x = cursor.node;
        while x != root {
            if x == NONE || x as usize >= g.len() {
                return Err(stale());
            }
            chain.push(x);
            x = g.sponsor_at(x);
        }
        chain.reverse();
        let mut path = vec![Frame { node: root, level: 0, sponsor_level: 0, skippable: false, listed: true }];
        let mut remaining = cursor.listed_skipped;
        for (i, &node) in chain.iter().enumerate() {
            let parent = path[i];
            let level = if i == 0 { 1 } else { parent.level + step(&self.plan, active(parent.node)) as u32 };
            let skippable = self.plan.compression && !active(node);
            let listed = !skippable || remaining > 0;
            if skippable && remaining > 0 {
                remaining -= 1;
            }
            path.push(Frame { node, level, sponsor_level: i as u32 + 1, skippable, listed });
        }
        Ok(path)
    }
}

/// The cursor of a walk standing at the end of `path`.
fn cursor_at(path: &[Frame]) -> LevelCursor {
    let listed_skipped = path.iter().filter(|f| f.skippable && f.listed).count() as u32;
    LevelCursor { node: path.last().expect("never empty").node, listed_skipped }
}

/// Pops finished frames and moves to the next sibling of the nearest one
/// that has one; `None` when the walk is back at the root.
fn next_sibling_up(g: &Genealogy, path: &mut Vec<Frame>, skippable: impl Fn(u32) -> bool) -> Option<Frame> {
    while path.len() > 1 {
        let done = path.pop().expect("len > 1");
        let sibling = g.next_sibling_at(done.node);
        if sibling != NONE {
            let skippable = skippable(sibling);
            return Some(Frame {
                node: sibling,
                level: done.level,
                sponsor_level: done.sponsor_level,
                skippable,
                listed: false,
            });
        }
    }
    None
}

fn entry(
    volumes: &crate::engine::volumes::period_volumes::PeriodVolumes,
    f: &Frame,
    role: LevelRole,
    active: bool,
) -> LevelEntry {
    LevelEntry {
        partner_ix: PartnerIx::new(f.node),
        role,
        pv_units: volumes.pv_of(f.node),
        active,
        sponsor_level: f.sponsor_level,
        level: f.level,
    }
}
