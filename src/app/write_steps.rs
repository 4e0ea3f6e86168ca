//! How long each step of one write took: waiting for a blocking thread,
//! waiting for the write lock, applying the change, staging it in the
//! store, and waiting for the group commit that makes it durable.
//!
//! Why it exists: a write that waits during a background job can wait for
//! very different reasons (a thread, the lock, a copy-on-write chunk copy
//! under the lock, the disk), and only the split says which. Every write
//! logs its steps at DEBUG; a slow one at WARN.

use std::time::{Duration, Instant};

/// A write slower than this, staged and durable, is logged at WARN.
const SLOW_WRITE: Duration = Duration::from_millis(100);

/// The steps of a write, in order.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// A blocking thread picked the write up.
    Scheduled,
    /// The write lock is held.
    Locked,
    /// The engine applied the change.
    Applied,
    /// The store staged it and the lock is released.
    Staged,
}

/// The instants a write reached each [`Step`].
#[derive(Debug, Clone, Copy)]
pub(super) struct WriteSteps {
    started: Instant,
    reached: [Option<Instant>; 4],
}

impl WriteSteps {
    /// A write that starts now.
    pub(super) fn start() -> WriteSteps {
        WriteSteps { started: Instant::now(), reached: [None; 4] }
    }

    /// The write reached `step` now.
    pub(super) fn mark(&mut self, step: Step) {
        self.reached[step as usize] = Some(Instant::now());
    }

    /// The time spent in each step, in microseconds: scheduling, lock wait,
    /// apply, stage (zero for a step not reached).
    fn step_us(&self) -> [u64; 4] {
        let mut last = self.started;
        self.reached.map(|at| match at {
            Some(at) => {
                let spent = at.saturating_duration_since(last);
                last = at;
                spent.as_micros() as u64
            }
            None => 0,
        })
    }

    /// Logs the steps of a write that was staged after `staged` and durable
    /// after `total`: at DEBUG, or at WARN when it took over [`SLOW_WRITE`].
    pub(super) fn log(&self, staged: Duration, total: Duration) {
        let [schedule_us, lock_wait_us, apply_us, stage_us] = self.step_us();
        let durable_us = total.saturating_sub(staged).as_micros() as u64;
        let total_us = total.as_micros() as u64;
        if total >= SLOW_WRITE {
            tracing::warn!(total_us, schedule_us, lock_wait_us, apply_us, stage_us, durable_us, "slow write");
        } else {
            tracing::debug!(total_us, schedule_us, lock_wait_us, apply_us, stage_us, durable_us, "write");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_split_the_time_in_order_and_a_missed_step_counts_zero() {
        let mut steps = WriteSteps::start();
        std::thread::sleep(Duration::from_millis(2));
        steps.mark(Step::Scheduled);
        steps.mark(Step::Locked);
        std::thread::sleep(Duration::from_millis(3));
        steps.mark(Step::Applied);
        let [schedule_us, _, apply_us, stage_us] = steps.step_us();
        assert!(schedule_us >= 2_000, "{schedule_us}");
        assert!(apply_us >= 3_000, "{apply_us}");
        assert_eq!(stage_us, 0);
    }
}
