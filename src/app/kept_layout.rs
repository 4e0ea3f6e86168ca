//! The breadth-first layout kept between background jobs.
//!
//! A recalculation and a commission run both lay the live partners out
//! breadth-first before they sum (`engine/volumes/rollup.rs`). The layout
//! depends only on the genealogy's structure, which changes far less often
//! than the jobs run (a night's runs see the same tree), so the last one is
//! kept here and handed to the next capture, which reuses it when the
//! structure version and the arena length still match and lays out afresh
//! otherwise. Cost: 8 bytes per partner held between jobs (80 MB at 10M),
//! outside the job budget; saved: the forest walk and its fresh pages
//! (~0.2 s at 10M) in every job after the first.

use crate::engine::BfsLayout;
use parking_lot::Mutex;
use std::sync::Arc;

/// The last layout a job captured (none before the first job).
#[derive(Debug, Default)]
pub struct KeptLayout(Mutex<Option<Arc<BfsLayout>>>);

impl KeptLayout {
    /// The kept layout, for a capture to reuse if it still fits.
    pub fn get(&self) -> Option<Arc<BfsLayout>> {
        self.0.lock().clone()
    }

    /// Keeps `layout` (the one a capture just used) for the next job;
    /// returns whether it is the one kept before, i.e. the capture reused
    /// it (for the jobs' log lines).
    pub fn keep(&self, layout: Arc<BfsLayout>) -> bool {
        let mut kept = self.0.lock();
        let reused = kept.as_ref().is_some_and(|k| Arc::ptr_eq(k, &layout));
        *kept = Some(layout);
        reused
    }
}
