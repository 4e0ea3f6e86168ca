//! Reading the audit trail: all events from a sequence number on, or one
//! partner's. Creation blocks are expanded into one event per partner.

use super::keys;
use super::records::{StoredEvent, CREATED};
use super::{Store, StoreError};
use crate::engine::{Audit, EventKind, Genealogy, GenealogyEvent, PartnerIx, PartnerStatus};
use prost::Message;

/// A page of events and whether more follow.
pub type EventPage = (Vec<(u64, GenealogyEvent)>, bool);

impl Store {
    /// Events after `after_seq`, oldest first, at most `limit`; only those
    /// of `partner_ix` when given. `genealogy` names the partners of
    /// creation blocks.
    pub fn list_events(
        &self,
        g: &Genealogy,
        partner_ix: Option<PartnerIx>,
        after_seq: u64,
        limit: usize,
    ) -> Result<EventPage, StoreError> {
        let mut out = Vec::with_capacity(limit.min(1024) + 1);
        match partner_ix {
            None => self.all_events(g, after_seq, limit + 1, &mut out)?,
            Some(ix) => self.partner_events(g, ix.get(), after_seq, limit + 1, &mut out)?,
        }
        let more = out.len() > limit;
        out.truncate(limit);
        Ok((out, more))
    }

    fn all_events(
        &self,
        g: &Genealogy,
        after: u64,
        want: usize,
        out: &mut Vec<(u64, GenealogyEvent)>,
    ) -> Result<(), StoreError> {
        let from = after.saturating_add(1);
        // The block that holds `from` may start before it.
        let start = match self.db.range(..=keys::event(from)).next_back() {
            Some(entry) => {
                let key = entry?.0;
                match key.first() {
                    Some(&keys::EVENT) => keys::event_seq(&key).unwrap_or(from),
                    _ => from,
                }
            }
            None => from,
        };
        for entry in self.db.range(keys::event(start)..=keys::event(u64::MAX)) {
            let (key, value) = entry?;
            let seq = keys::event_seq(&key).ok_or_else(|| StoreError::Corrupt("bad event key".into()))?;
            let stored = decode(seq, &value)?;
            expand(g, seq, &stored, after, want, out)?;
            if out.len() >= want {
                break;
            }
        }
        Ok(())
    }

    fn partner_events(
        &self,
        g: &Genealogy,
        partner: u32,
        after: u64,
        want: usize,
        out: &mut Vec<(u64, GenealogyEvent)>,
    ) -> Result<(), StoreError> {
        if let Some(entry) = self.db.range(keys::creation(0)..=keys::creation(partner)).next_back() {
            let (key, value) = entry?;
            let first = keys::creation_partner(&key).ok_or_else(|| StoreError::Corrupt("bad creation key".into()))?;
            let block_seq = u64::from_be_bytes(
                value.as_ref().try_into().map_err(|_| StoreError::Corrupt("bad creation index value".into()))?,
            );
            let raw = self
                .db
                .get(keys::event(block_seq))?
                .ok_or_else(|| StoreError::Corrupt(format!("event {block_seq} is missing")))?;
            let block = decode(block_seq, &raw)?;
            if partner - first < block.count {
                let seq = block_seq + u64::from(partner - first);
                if seq > after {
                    out.push((seq, created_event(g, &block, partner - first)?));
                }
            }
        }
        let from = keys::partner_event(partner, after.saturating_add(1));
        for entry in self.db.range(from..=keys::partner_event(partner, u64::MAX)) {
            if out.len() >= want {
                break;
            }
            let seq = keys::partner_event_seq(&entry?.0).ok_or_else(|| StoreError::Corrupt("bad index key".into()))?;
            let raw =
                self.db.get(keys::event(seq))?.ok_or_else(|| StoreError::Corrupt(format!("event {seq} is missing")))?;
            let event = decode(seq, &raw)?
                .to_event()
                .ok_or_else(|| StoreError::Corrupt(format!("event {seq} has bad codes")))?;
            out.push((seq, event));
        }
        Ok(())
    }
}

fn decode(seq: u64, raw: &[u8]) -> Result<StoredEvent, StoreError> {
    StoredEvent::decode(raw).map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))
}

/// Appends the events of one stored entry with seq > `after`, up to `want` in all.
fn expand(
    g: &Genealogy,
    seq: u64,
    stored: &StoredEvent,
    after: u64,
    want: usize,
    out: &mut Vec<(u64, GenealogyEvent)>,
) -> Result<(), StoreError> {
    if stored.kind != CREATED {
        if seq > after {
            let event = stored.to_event().ok_or_else(|| StoreError::Corrupt(format!("event {seq} has bad codes")))?;
            out.push((seq, event));
        }
        return Ok(());
    }
    // Events seq..=after of the block were on earlier pages.
    let first = if after >= seq { (after - seq + 1).min(u64::from(stored.count)) as u32 } else { 0 };
    for i in first..stored.count {
        if out.len() >= want {
            break;
        }
        out.push((seq + u64::from(i), created_event(g, stored, i)?));
    }
    Ok(())
}

/// The creation event of the `i`-th partner of a creation block.
fn created_event(g: &Genealogy, block: &StoredEvent, i: u32) -> Result<GenealogyEvent, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("creation block of partner seq {} is damaged", block.partner_seq));
    let partner = block.partner_seq.checked_add(i).filter(|&p| (p as usize) < g.len()).ok_or_else(corrupt)?;
    let sponsor = block.sponsor_seqs_plus_one.get(i as usize).copied().ok_or_else(corrupt)?;
    let sponsor_ix = PartnerIx::new(sponsor.checked_sub(1).unwrap_or(PartnerIx::NONE.get()));
    let new_sponsor_id = match sponsor_ix {
        PartnerIx::NONE => String::new(),
        s if s.as_usize() < g.len() => g.id(s).to_owned(),
        _ => return Err(corrupt()),
    };
    Ok(GenealogyEvent {
        kind: EventKind::Created,
        partner_id: g.id(PartnerIx::new(partner)).to_owned(),
        partner_ix: PartnerIx::new(partner),
        old_sponsor_id: String::new(),
        new_sponsor_id,
        old_status: None,
        new_status: PartnerStatus::Enrolled,
        audit: Audit { actor: block.actor.clone(), reason: block.reason.clone(), at_unix_ms: block.at_unix_ms },
    })
}
