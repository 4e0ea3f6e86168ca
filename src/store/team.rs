//! Team data on disk: mentor assignments (one key per assigned partner),
//! training modules (one key per module) and training completions (one key
//! per 64 partners, like partner chunks, so start-up reads few keys). A
//! write puts the current state of what its change set names into the same
//! atomic batch as the rest of the change: a move that clears assignments
//! is on disk with them or not at all.

use super::keys::{self, CHUNK_PARTNERS};
use super::manifest::Manifest;
use super::records::{CompletionChunk, StoredCompletion, StoredMentor, StoredModule};
use super::tap::Batch;
use super::{Store, StoreError};
use crate::engine::{Assignment, Audit, Completion, Date, Network, PartnerIx, TeamChange, TrainingModule};
use prost::Message;

impl Store {
    /// Adds the current state of the team data `change` names to a batch.
    pub(super) fn add_team(&self, batch: &mut Batch, change: &TeamChange, net: &Network) {
        for mentee in change.mentors.iter().map(|ix| ix.get()) {
            match net.team.mentors.get(mentee) {
                Some(a) => batch.insert(&keys::mentor(mentee), encode_mentor(a)),
                None => batch.remove(&keys::mentor(mentee)),
            }
        }
        for &ordinal in &change.modules {
            let m = &net.team.training.modules()[ordinal as usize];
            let stored = StoredModule {
                module_id: m.module_id.clone(),
                title: m.title.clone(),
                link: m.link.clone(),
                prepares_for_rank: m.rank.clone(),
            };
            batch.insert(&keys::training_module(ordinal), stored.encode_to_vec());
        }
        let mut chunks: Vec<u32> = change.completions.iter().map(|ix| ix.get() / CHUNK_PARTNERS).collect();
        chunks.sort_unstable();
        chunks.dedup();
        for number in chunks {
            batch.insert(&keys::completion_chunk(number), encode_completions(net, number));
        }
    }
}

/// How a team change staged now changes the manifest (modules are dense,
/// so the highest ordinal tells the count).
pub(super) fn update(change: &TeamChange) -> impl FnOnce(&mut Manifest) + Send + 'static {
    let modules = change.modules.iter().max().map(|&last| u64::from(last) + 1);
    move |m| {
        if let Some(modules) = modules {
            m.modules = m.modules.max(modules);
        }
    }
}

fn encode_mentor(a: &Assignment) -> Vec<u8> {
    let stored = StoredMentor {
        mentor_seq: a.mentor,
        actor: a.audit.actor.clone(),
        reason: a.audit.reason.clone(),
        at_unix_ms: a.audit.at_unix_ms,
    };
    stored.encode_to_vec()
}

/// Every completion of the partners of one chunk.
fn encode_completions(net: &Network, number: u32) -> Vec<u8> {
    let first = number * CHUNK_PARTNERS;
    let end = first.saturating_add(CHUNK_PARTNERS).min(net.genealogy.len() as u32);
    let completions = (first..end)
        .flat_map(|partner| {
            net.team.training.completions_of(PartnerIx::new(partner)).iter().map(move |c| StoredCompletion {
                partner_seq: partner,
                module: c.module,
                completed_on_days: c.completed_on.days(),
            })
        })
        .collect();
    CompletionChunk { completions }.encode_to_vec()
}

/// Restores the team data after the genealogy: modules first (completions
/// name them by ordinal), then completions, then assignments, each checked
/// against what is already loaded.
pub(super) fn load(db: &sled::Db, net: &mut Network) -> Result<(), StoreError> {
    for (expected, entry) in (0u32..).zip(db.scan_prefix([keys::TRAINING_MODULE])) {
        let (key, value) = entry?;
        if keys::team_key_number(&key) != Some(expected) {
            return Err(StoreError::Corrupt(format!("training module {expected} is missing")));
        }
        let m = StoredModule::decode(value.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("training module {expected}: {e}")))?;
        let module = TrainingModule { module_id: m.module_id, title: m.title, link: m.link, rank: m.prepares_for_rank };
        net.team.load_module(module).map_err(StoreError::Corrupt)?;
    }
    for entry in db.scan_prefix([keys::COMPLETION_CHUNK]) {
        let (key, value) = entry?;
        let number = keys::team_key_number(&key).unwrap_or(u32::MAX);
        let chunk = CompletionChunk::decode(value.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("completion chunk {number}: {e}")))?;
        for c in chunk.completions {
            if c.partner_seq / CHUNK_PARTNERS != number {
                return Err(StoreError::Corrupt(format!("completion chunk {number} holds partner {}", c.partner_seq)));
            }
            let completion = Completion { module: c.module, completed_on: Date::from_days(c.completed_on_days) };
            net.team
                .load_completion(&net.genealogy, PartnerIx::new(c.partner_seq), completion)
                .map_err(StoreError::Corrupt)?;
        }
    }
    for entry in db.scan_prefix([keys::MENTOR]) {
        let (key, value) = entry?;
        let mentee = keys::team_key_number(&key).ok_or_else(|| StoreError::Corrupt("bad mentor key".into()))?;
        let m = StoredMentor::decode(value.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("mentor of partner {mentee}: {e}")))?;
        let audit = Audit { actor: m.actor, reason: m.reason, at_unix_ms: m.at_unix_ms };
        let assignment = Assignment { mentor: m.mentor_seq, audit };
        net.team.load_assignment(&net.genealogy, PartnerIx::new(mentee), assignment).map_err(StoreError::Corrupt)?;
    }
    Ok(())
}
