//! sled 0.34 panics on some damaged files (`tried to serialize
//! Uninitialized`) while it opens or reads them. Opening and loading run
//! under [`guarded`]: a panic becomes a [`StoreError::DataDir`] that names
//! the directory, and the panic hook stays quiet meanwhile so that sled's
//! panic text is not the only thing the operator sees.

use super::StoreError;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

thread_local! {
    /// Set while this thread runs guarded code.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();

/// Installs, once, a hook that delegates to the previous one except on a
/// thread inside [`guarded`] (other threads' panics print as before).
fn install_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `work` (which opens or reads the data directory `dir`); a panic
/// inside it is the directory's corruption.
pub fn guarded<T>(dir: &Path, work: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    install_hook();
    let was_quiet = QUIET.with(|q| q.replace(true));
    // The state the closure touched is dropped with the error: nothing
    // half-built escapes, so unwind safety holds.
    let outcome = panic::catch_unwind(AssertUnwindSafe(work));
    QUIET.with(|q| q.set(was_quiet));
    outcome.unwrap_or_else(|payload| {
        let cause = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        tracing::error!(data_dir = %dir.display(), %cause, "sled panicked on the data directory");
        Err(StoreError::data_dir(dir, format!("corrupt: sled panicked: {cause}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_that_names_the_directory() {
        let outcome: Result<(), StoreError> = guarded(Path::new("/x"), || panic!("tried to serialize Uninitialized"));
        let message = outcome.expect_err("refused").to_string();
        assert_eq!(message, "the data directory /x is corrupt: sled panicked: tried to serialize Uninitialized");
        assert!(!QUIET.with(Cell::get), "the thread is loud again");
    }
}
