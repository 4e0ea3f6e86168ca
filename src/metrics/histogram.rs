//! A histogram recorded with atomics only: the request path, the flusher
//! and the jobs observe into it without a lock (prometheus-client's own
//! histogram takes a mutex per observation). Values are whole units (µs,
//! writes); they are divided by `units_per_exposed` (1e6 µs a second) at
//! scrape, a division so that bounds like 100 µs print as 0.0001.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Request and job latencies, in µs: 100 µs to 10 s.
pub const LATENCY_BOUNDS_US: &[u64] = &[
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];
/// Background job durations, in µs: 10 ms to 1 h.
pub const JOB_BOUNDS_US: &[u64] =
    &[10_000, 100_000, 500_000, 1_000_000, 5_000_000, 15_000_000, 60_000_000, 300_000_000, 900_000_000, 3_600_000_000];
/// Writes sharing one flush: 1 to 1,024.
pub const GROUP_BOUNDS: &[u64] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024];
/// Microseconds in the exposed unit, a second.
pub const MICROS: f64 = 1e6;

/// A cumulative histogram over fixed bounds; clones share the counts.
#[derive(Debug, Clone)]
pub struct AtomicHistogram {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Upper bounds (inclusive), ascending, in units.
    bounds: &'static [u64],
    /// Observations per bucket, not cumulative; one more for +Inf.
    counts: Box<[AtomicU64]>,
    /// The sum of every observation, in units.
    sum: AtomicU64,
    /// Units in one exposed unit.
    units_per_exposed: f64,
}

impl AtomicHistogram {
    /// An empty histogram over `bounds` (ascending, in units), exposed
    /// divided by `units_per_exposed`.
    pub fn new(bounds: &'static [u64], units_per_exposed: f64) -> AtomicHistogram {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        let sum = AtomicU64::new(0);
        AtomicHistogram { inner: Arc::new(Inner { bounds, counts, sum, units_per_exposed }) }
    }

    /// A latency histogram in seconds (recorded in µs).
    pub fn latency() -> AtomicHistogram {
        AtomicHistogram::new(LATENCY_BOUNDS_US, MICROS)
    }

    /// Records one observation of `value` units: two relaxed atomic adds.
    pub fn observe(&self, value: u64) {
        let inner = &*self.inner;
        let bucket = inner.bounds.partition_point(|&bound| bound < value);
        inner.counts[bucket].fetch_add(1, Ordering::Relaxed);
        inner.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// Records a duration, in µs (saturating at `u64::MAX` µs).
    pub fn observe_duration(&self, elapsed: std::time::Duration) {
        self.observe(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.inner.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The sum, the count and the buckets' own counts (the encoder makes
    /// them cumulative) in the exposed unit; the last bucket is +Inf. Read
    /// without a lock, so a scrape during observations may miss those in
    /// flight; each value only grows.
    fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let inner = &*self.inner;
        let mut count = 0;
        let mut buckets = Vec::with_capacity(inner.counts.len());
        for (i, observed) in inner.counts.iter().enumerate() {
            let observed = observed.load(Ordering::Relaxed);
            count += observed;
            let bound = inner.bounds.get(i).map_or(f64::INFINITY, |&b| b as f64 / inner.units_per_exposed);
            buckets.push((bound, observed));
        }
        let sum = inner.sum.load(Ordering::Relaxed) as f64 / inner.units_per_exposed;
        (sum, count, buckets)
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.snapshot();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them_and_add_up() {
        let h = AtomicHistogram::new(&[1, 10], 2.0);
        for value in [0, 1, 2, 10, 11] {
            h.observe(value);
        }
        let (sum, count, buckets) = h.snapshot();
        assert_eq!(count, 5);
        assert_eq!(sum, 24.0 / 2.0);
        assert_eq!(buckets, vec![(0.5, 2), (5.0, 2), (f64::INFINITY, 1)]);
        assert_eq!(h.clone().count(), 5, "clones share the counts");
    }
}
