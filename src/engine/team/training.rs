//! Training (spec: team support): the modules the company publishes and
//! the completions recorded per partner.
//!
//! Modules are few (at most [`MAX_MODULES`]) and never deleted, so a module
//! is a dense ordinal in creation order. Completions are kept per partner,
//! sorted by module, and summed up in one dense 8-byte
//! [`CompletionSummary`] per partner: GetTeamProgress reads the summary at
//! the partner's own index (next to its neighbours in the level, not at a
//! heap address that depends on when its first completion came) and needs
//! the list only for later modules or an earlier period.

use crate::engine::cow_column::{ColumnBytes, CowColumn};
use crate::engine::cow_map::CowMap;
use crate::engine::date::Date;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::id_index::{truncate, validate_id};
use crate::engine::partner_ix::PartnerIx;
use crate::engine::text::check_text;
use std::collections::HashMap;

/// The most training modules. Every GetTeamProgress answer lists every
/// module on every level, so this also bounds the answer (about 2 MB at 50
/// levels of 500 modules, under the 4 MiB message limit).
pub const MAX_MODULES: usize = 500;
/// The longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 200;
/// The longest link, in bytes.
pub const MAX_LINK_BYTES: usize = 2048;
/// The longest rank name, in bytes.
pub const MAX_RANK_BYTES: usize = 64;

/// A training module, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingModule {
    /// The id: the syntax of partner ids, in a namespace of its own.
    pub module_id: String,
    /// The title shown to partners.
    pub title: String,
    /// Where the training is: an absolute http(s) URL.
    pub link: String,
    /// The rank it prepares for; empty for none.
    pub rank: String,
}

/// A change to a module: the fields to replace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleUpdate {
    /// A new title.
    pub title: Option<String>,
    /// A new link.
    pub link: Option<String>,
    /// A new rank ("" removes it).
    pub rank: Option<String>,
}

/// Modules whose completions a [`CompletionSummary`] holds: the first 31
/// created (ordinals 0 to 30).
pub const SUMMARY_MODULES: u32 = 31;
/// The summary bit that says "and modules after the first 31".
const LATER_MODULES: u32 = 1 << SUMMARY_MODULES;

/// A partner's completions at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompletionSummary {
    /// Bit `m` for each completed module `m` < 31; bit 31 when the partner
    /// completed any later module (whose completions only the list holds).
    pub mask: u32,
    /// The latest day among the completions of the mask's modules 0 to 30.
    pub latest: Date,
}

impl CompletionSummary {
    /// The summed modules completed by the end of `last_day`, when the summary
    /// alone tells (all of them were completed by then).
    pub fn modules_by(self, last_day: Date) -> Option<u32> {
        (self.latest <= last_day).then_some(self.mask & !LATER_MODULES)
    }

    /// The first module ordinal whose completions by the end of `last_day`
    /// only the partner's list tells: 0 when the summary holds one after
    /// that day, 31 when the partner completed a later module, else `None`
    /// (the summary tells everything).
    pub fn listed_from(self, last_day: Date) -> Option<u32> {
        if self.mask == 0 {
            None
        } else if self.latest > last_day {
            Some(0)
        } else {
            self.has_later_modules().then_some(SUMMARY_MODULES)
        }
    }

    /// Whether [`CompletionSummary::listed_from`] is `Some`, computed
    /// without branches.
    pub fn needs_list(self, last_day: Date) -> bool {
        (self.mask != 0) & ((self.latest > last_day) | (self.mask & LATER_MODULES != 0))
    }

    /// Whether the partner completed a module the summary does not hold.
    pub fn has_later_modules(self) -> bool {
        self.mask & LATER_MODULES != 0
    }
}

/// One completed module of a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The module's ordinal.
    pub module: u32,
    /// The day it was completed.
    pub completed_on: Date,
}

/// A title: 1 to 200 bytes of free text (the one text rule).
pub fn check_title(title: &str) -> EngineResult<()> {
    if title.trim().is_empty() {
        return Err(EngineError::invalid("title", "must not be empty"));
    }
    check_text("title", title, MAX_TITLE_BYTES)
}

/// A link: an absolute `http://` or `https://` URL with a host, at most
/// 2048 bytes, free text (the one text rule) without blanks inside either.
pub fn check_link(link: &str) -> EngineResult<()> {
    check_text("link", link, MAX_LINK_BYTES)?;
    let lower = link.get(..8).unwrap_or(link).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &link[8..]
    } else if lower.starts_with("http://") {
        &link[7..]
    } else {
        let message = format!("'{}' is not an absolute http:// or https:// URL", truncate(link));
        return Err(EngineError::invalid("link", message));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(EngineError::invalid("link", format!("'{}' has no host", truncate(link))));
    }
    if let Some(c) = link.chars().find(|c| c.is_whitespace()) {
        return Err(EngineError::invalid("link", format!("contains {c:?}; encode it (%20 for a blank)")));
    }
    Ok(())
}

/// A rank name: empty (none), or 1 to 64 bytes of free text (the one text
/// rule). Plans of this build name no ranks, so the name is not checked
/// against a plan; this is the one place to add that check.
pub fn check_rank(rank: &str) -> EngineResult<()> {
    check_text("prepares_for_rank", rank, MAX_RANK_BYTES)
}

impl TrainingModule {
    /// Validates the fields of a module, naming the bad one.
    pub fn parse(module_id: &str, title: &str, link: &str, rank: &str) -> EngineResult<TrainingModule> {
        validate_id("module_id", module_id)?;
        check_title(title)?;
        check_link(link)?;
        check_rank(rank)?;
        Ok(TrainingModule {
            module_id: module_id.to_owned(),
            title: title.to_owned(),
            link: link.to_owned(),
            rank: rank.to_owned(),
        })
    }
}

impl ModuleUpdate {
    /// Validates the fields to replace, naming the bad one.
    pub fn check(&self) -> EngineResult<()> {
        self.title.as_deref().map_or(Ok(()), check_title)?;
        self.link.as_deref().map_or(Ok(()), check_link)?;
        self.rank.as_deref().map_or(Ok(()), check_rank)
    }

    /// The module with the update applied.
    pub fn apply(&self, module: &TrainingModule) -> TrainingModule {
        TrainingModule {
            module_id: module.module_id.clone(),
            title: self.title.clone().unwrap_or_else(|| module.title.clone()),
            link: self.link.clone().unwrap_or_else(|| module.link.clone()),
            rank: self.rank.clone().unwrap_or_else(|| module.rank.clone()),
        }
    }
}

/// Every module and every partner's completions.
#[derive(Default, Clone)]
pub struct Training {
    modules: Vec<TrainingModule>,
    by_id: HashMap<String, u32>,
    /// Per partner index; shorter than the genealogy when recent partners
    /// completed nothing.
    summary: CowColumn<CompletionSummary>,
    /// The completions of each partner that has any, sorted by module.
    lists: CowMap<Vec<Completion>>,
    count: u64,
}

impl Training {
    /// Every module, by ordinal.
    pub fn modules(&self) -> &[TrainingModule] {
        &self.modules
    }

    /// The ordinal of a module id.
    pub fn find_module(&self, module_id: &str) -> Option<u32> {
        self.by_id.get(module_id).copied()
    }

    /// Finds a module named by a request field, or says which field named
    /// an unknown one.
    pub fn lookup_module(&self, field: &str, module_id: &str) -> EngineResult<u32> {
        validate_id(field, module_id)?;
        self.find_module(module_id).ok_or_else(|| EngineError::not_found_what(field, "training module", module_id))
    }

    /// The completions of a partner, sorted by module ordinal.
    pub fn completions_of(&self, ix: PartnerIx) -> &[Completion] {
        self.completions_at(ix.get())
    }

    /// [`Training::completions_of`] at a column position.
    pub(in crate::engine) fn completions_at(&self, x: u32) -> &[Completion] {
        self.lists.get(&x).map_or(&[], Vec::as_slice)
    }

    /// The summary of a partner's completions.
    pub fn summary_of(&self, partner: u32) -> CompletionSummary {
        self.summary.get(partner as usize).copied().unwrap_or_default()
    }

    /// The completion of one module by one partner.
    pub fn completion(&self, partner: u32, module: u32) -> Option<Completion> {
        let list = self.completions_at(partner);
        list.binary_search_by_key(&module, |c| c.module).ok().map(|i| list[i])
    }

    /// Bytes held alone and shared with clones (snapshots).
    pub fn bytes(&self) -> ColumnBytes {
        let lists = self.lists.bytes(|list| list.capacity() * std::mem::size_of::<Completion>() + 24);
        self.summary.bytes() + lists
    }

    /// Completions recorded in all.
    pub fn completion_count(&self) -> u64 {
        self.count
    }

    /// Appends a module; RESOURCE_EXHAUSTED beyond [`MAX_MODULES`].
    pub(in crate::engine) fn push_module(&mut self, module: TrainingModule) -> EngineResult<u32> {
        if self.modules.len() >= MAX_MODULES {
            return Err(EngineError::ResourceExhausted(format!(
                "module_id: there are {MAX_MODULES} training modules already, the most this server keeps"
            )));
        }
        let ordinal = self.modules.len() as u32;
        self.by_id.insert(module.module_id.clone(), ordinal);
        self.modules.push(module);
        Ok(ordinal)
    }

    /// Replaces a module's content (its id stays).
    pub(in crate::engine) fn replace_module(&mut self, ordinal: u32, module: TrainingModule) {
        debug_assert_eq!(self.modules[ordinal as usize].module_id, module.module_id);
        self.modules[ordinal as usize] = module;
    }

    /// Adds a completion the caller checked is new.
    pub(in crate::engine) fn add_completion(&mut self, partner: u32, completion: Completion) {
        let p = partner as usize;
        if self.summary.len() <= p {
            self.summary.resize(p + 1, CompletionSummary::default());
        }
        let summary = &mut self.summary[p];
        if completion.module < SUMMARY_MODULES {
            summary.mask |= 1 << completion.module;
            summary.latest = summary.latest.max(completion.completed_on);
        } else {
            summary.mask |= LATER_MODULES;
        }
        let list = self.lists.get_or_default(partner);
        let at = list.partition_point(|c| c.module < completion.module);
        debug_assert!(list.get(at).is_none_or(|c| c.module != completion.module));
        list.insert(at, completion);
        self.count += 1;
    }
}
