//! A background computation's cancel flag. Whoever owns the job (the
//! application's registry, at shutdown) sets it; the computation's rayon
//! loops read it once per chunk of work (a task of a few thousand
//! partners), never per partner, and skip the chunks left once it is set.
//! A cancelled computation's result is meaningless: its caller checks the
//! flag when it returns and drops the result.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once to stop a computation at its next chunk boundary.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    /// A flag not set.
    pub const fn new() -> Cancel {
        Cancel(AtomicBool::new(false))
    }

    /// Asks the computation to stop (idempotent).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether it was asked to stop. One relaxed-enough load: cheap at a
    /// chunk boundary.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_stays_set_once_set() {
        let flag = Cancel::new();
        assert!(!flag.is_cancelled());
        flag.cancel();
        flag.cancel();
        assert!(flag.is_cancelled());
    }
}
