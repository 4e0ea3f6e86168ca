//! Closed periods on disk: their frozen figures in chunks of 64 partners,
//! then the summary key that makes the close durable. A close that crashed
//! before its summary was flushed never happened; its chunks are
//! overwritten by the next close of that period.

use super::keys::{self, CHUNK_PARTNERS};
use super::records::{ClosedSummary, FrozenChunk, FrozenPartner};
use super::tap::Batch;
use super::{Store, StoreError};
use crate::engine::{FrozenPeriod, LevelTotals, Network, OfficialRun, PartnerIx, Period, VolumeView};
use prost::Message;

/// Chunks per sled batch when writing a closed period.
const CHUNKS_PER_BATCH: u32 = 256;

impl Store {
    /// Writes every partner's frozen figures of a closed period (not yet
    /// durable: the summary staged by [`Store::stage_closed`] and its flush
    /// cover them).
    pub fn write_frozen(&self, frozen: &FrozenPeriod) -> Result<(), StoreError> {
        let chunks = (frozen.len() as u32).div_ceil(CHUNK_PARTNERS);
        let code = frozen.period.code();
        let mut first = 0;
        while first < chunks {
            let end = chunks.min(first + CHUNKS_PER_BATCH);
            let mut batch = Batch::default();
            for chunk in first..end {
                batch.insert(&keys::frozen(code, chunk), encode_chunk(frozen, chunk).encode_to_vec());
            }
            self.apply_now(batch, None)?;
            first = end;
        }
        Ok(())
    }

    /// Stages the summary that marks a period closed; returns the ticket.
    pub fn stage_closed(
        &self,
        period: Period,
        order_count: u64,
        fee_units: i128,
        official: Option<&OfficialRun>,
    ) -> Result<u64, StoreError> {
        let summary = ClosedSummary {
            order_count,
            fee_units: i64::try_from(fee_units).unwrap_or(i64::MAX),
            official: official.map(super::compensation::official_record),
        };
        let mut batch = Batch::default();
        batch.insert(keys::closed_period(period.code()), summary.encode_to_vec());
        // The engine closes a period once: each summary is a new key.
        self.stage_batch(batch, Box::new(|m| m.closed_periods += 1))
    }

    /// One partner's frozen figures of a closed period and its entry of
    /// the official run's rank column (0: not in the run, else the rank
    /// code plus one); `None` when the partner did not exist when it closed.
    pub fn read_frozen_ranked(&self, period: Period, ix: PartnerIx) -> Result<Option<(VolumeView, u8)>, StoreError> {
        let partner = ix.get();
        let key = keys::frozen(period.code(), partner / CHUNK_PARTNERS);
        let Some(raw) = self.db.get(key)? else {
            return Ok(None);
        };
        let chunk = FrozenChunk::decode(raw.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("frozen figures of {period}: {e}")))?;
        let partner = chunk.partners.get((partner % CHUNK_PARTNERS) as usize);
        Ok(partner.map(|p| (to_view(p), u8::try_from(p.rank).unwrap_or(0))))
    }

    /// One partner's frozen figures of a closed period; `None` when the
    /// partner did not exist when the period closed.
    pub fn read_frozen(&self, period: Period, ix: PartnerIx) -> Result<Option<VolumeView>, StoreError> {
        let partner = ix.get();
        let key = keys::frozen(period.code(), partner / CHUNK_PARTNERS);
        let Some(raw) = self.db.get(key)? else {
            return Ok(None);
        };
        let chunk = FrozenChunk::decode(raw.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("frozen figures of {period}: {e}")))?;
        Ok(chunk.partners.get((partner % CHUNK_PARTNERS) as usize).map(to_view))
    }
}

fn encode_chunk(frozen: &FrozenPeriod, chunk: u32) -> FrozenChunk {
    let first = (chunk * CHUNK_PARTNERS) as usize;
    let end = (first + CHUNK_PARTNERS as usize).min(frozen.len());
    let partners = (first..end)
        .map(|i| {
            let levels = frozen.profile.row(i);
            FrozenPartner {
                pv: frozen.pv[i],
                rv: frozen.rv[i],
                gv: frozen.gv[i],
                level_volumes: levels.iter().map(|l| l.volume_units).collect(),
                level_partners: levels.iter().map(|l| l.partners).collect(),
                level_active: levels.iter().map(|l| l.active).collect(),
                active: frozen.active[i],
                frontline: frozen.frontline[i],
                active_frontline: frozen.active_frontline[i],
                rank: u32::from(frozen.rank_of(i as u32)),
            }
        })
        .collect();
    FrozenChunk { partners }
}

fn to_view(p: &FrozenPartner) -> VolumeView {
    let levels = p
        .level_volumes
        .iter()
        .zip(&p.level_partners)
        .zip(&p.level_active)
        .map(|((&volume_units, &partners), &active)| LevelTotals { volume_units, partners, active })
        .collect();
    VolumeView {
        pv_units: p.pv,
        rv_units: p.rv,
        gv_units: p.gv,
        levels,
        active: p.active,
        frontline: p.frontline,
        active_frontline: p.active_frontline,
    }
}

/// Registers the closed periods with the network (their figures stay on
/// disk); returns how many there are.
pub(super) fn load(db: &sled::Db, net: &mut Network) -> Result<u64, StoreError> {
    let mut closed = 0;
    for entry in db.scan_prefix(keys::META_CLOSED) {
        closed += 1;
        let (key, value) = entry?;
        let code = keys::closed_period_code(&key).ok_or_else(|| StoreError::Corrupt("bad closed period key".into()))?;
        let summary = ClosedSummary::decode(value.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("closed period summary: {e}")))?;
        let official = summary.official.map(super::compensation::official_run).transpose()?;
        net.add_closed(Period::from_code(code), summary.order_count, i128::from(summary.fee_units), official);
    }
    Ok(closed)
}
