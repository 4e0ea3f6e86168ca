//! Orders and closed periods on disk: orders are append-only, so they are
//! written in blocks (one per write, up to `MAX_ORDER_BLOCK` orders), which
//! keeps a bulk load of millions to a few hundred sled keys.

use super::keys;
use super::manifest::Manifest;
use super::records::{OrderBlock, StoredOrder};
use super::tap::Batch;
use super::{Store, StoreError};
use crate::engine::Network;
use prost::Message;
use std::ops::Range;
use std::sync::atomic::Ordering;

/// The most orders in one block.
const MAX_ORDER_BLOCK: u32 = 4096;

impl Store {
    /// Adds the orders `range` of the book to a batch, in blocks.
    pub(super) fn add_orders(&self, batch: &mut Batch, net: &Network, range: Range<u32>) {
        let mut first = range.start;
        while first < range.end {
            let end = range.end.min(first + MAX_ORDER_BLOCK);
            let orders = (first..end).map(|ix| StoredOrder::from_order(&net.orders.get(ix))).collect();
            let seq = self.next_order_block.fetch_add(1, Ordering::AcqRel);
            batch.insert(&keys::order_block(seq), OrderBlock { orders }.encode_to_vec());
            first = end;
        }
    }

    /// Persists orders recorded offline (`downline import --orders`), then
    /// flushes. `progress` answers whether to go on, as for
    /// [`Store::write_import`].
    pub fn write_orders(
        &self,
        net: &Network,
        range: Range<u32>,
        mut progress: impl FnMut(u64) -> bool,
    ) -> Result<(), StoreError> {
        let mut first = range.start;
        while first < range.end {
            let end = range.end.min(first.saturating_add(64 * MAX_ORDER_BLOCK));
            let mut batch = Batch::default();
            self.add_orders(&mut batch, net, first..end);
            self.apply_now(batch, Some(Box::new(self.orders_update(end))))?;
            if !progress(u64::from(end - first)) && end < range.end {
                self.flush()?;
                return Err(StoreError::Interrupted);
            }
            first = end;
        }
        self.flush()
    }

    /// Counts the orders up to `end` and the blocks written so far in the
    /// manifest (block seqs start at 1 and have no gaps).
    /// How orders up to `end`, staged now, change the manifest: the block
    /// counter is read now, when it counts these orders and earlier ones.
    pub(super) fn orders_update(&self, end: u32) -> impl FnOnce(&mut Manifest) + Send + 'static {
        let order_blocks = self.next_order_block.load(Ordering::Acquire) - 1;
        move |m| {
            m.orders = m.orders.max(u64::from(end));
            m.order_blocks = m.order_blocks.max(order_blocks);
        }
    }
}

/// The block seq the next order block gets.
pub(super) fn next_block_seq(db: &sled::Db) -> Result<u64, StoreError> {
    match db.scan_prefix([keys::ORDER_BLOCK]).next_back() {
        None => Ok(1),
        Some(entry) => {
            let key = entry?.0;
            Ok(keys::order_block_seq(&key).ok_or_else(|| StoreError::Corrupt("bad order block key".into()))? + 1)
        }
    }
}

/// Loads every order into the network's book, in recording order;
/// returns the number of blocks.
pub(super) fn load(db: &sled::Db, net: &mut Network) -> Result<u64, StoreError> {
    let mut blocks = 0;
    for entry in db.scan_prefix([keys::ORDER_BLOCK]) {
        blocks += 1;
        let (key, value) = entry?;
        let seq = keys::order_block_seq(&key).unwrap_or(0);
        let block =
            OrderBlock::decode(value.as_ref()).map_err(|e| StoreError::Corrupt(format!("order block {seq}: {e}")))?;
        net.orders.reserve(block.orders.len());
        for stored in &block.orders {
            let order = stored
                .to_order()
                .filter(|o| o.partner_ix.as_usize() < net.genealogy.len())
                .ok_or_else(|| StoreError::Corrupt(format!("order '{}' in block {seq} is damaged", stored.order_id)))?;
            if net.orders.find(&order.order_id).is_some() {
                return Err(StoreError::Corrupt(format!("order '{}' is stored twice", order.order_id)));
            }
            net.orders.push(&order).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
    }
    Ok(blocks)
}
