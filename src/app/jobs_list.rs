//! The jobs of one period, listed for the admin page's period view: a
//! child of `jobs`, which keeps the registry private.

use super::{Job, JobKind, Jobs};
use crate::engine::Period;
use std::sync::Arc;

impl Jobs {
    /// Every job of a kind on a period that this server keeps (running or
    /// finished, bounded by the kind's retention), the latest start first.
    pub fn of_period(&self, kind: JobKind, period: Period) -> Vec<Arc<Job>> {
        let mut jobs: Vec<Arc<Job>> =
            self.by_id.iter().filter(|j| j.kind == kind && j.period == period).map(|j| Arc::clone(j.value())).collect();
        jobs.sort_unstable_by_key(|j| std::cmp::Reverse(j.seq));
        jobs
    }
}
