//! The commands' printing to standard output. A reader that goes away
//! (`downline keys new ... | head -1`) is not an error: the rest of the
//! output is dropped quietly and the command still does its work and exits
//! 0, as `println!` (which panics on a broken pipe) would not. Rust ignores
//! SIGPIPE, so a closed pipe shows up here as `ErrorKind::BrokenPipe`.

use std::io::{ErrorKind, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write found the reader gone; later lines are not attempted.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// Prints one line (`format_args!`) and flushes it, so a reader sees each
/// line when it is printed. A closed pipe makes it (and every later call)
/// a quiet no-op; any other failure (a full disk behind `>`) is an error.
pub fn line(args: std::fmt::Arguments<'_>) -> Result<(), String> {
    if READER_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{args}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            READER_GONE.store(true, Ordering::Relaxed);
            tracing::debug!("standard output closed by its reader; the rest of the output is dropped");
            Ok(())
        }
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

/// Whether the reader of standard output went away: a command whose only
/// product is its output (`hiccups`) may stop early.
pub fn reader_gone() -> bool {
    READER_GONE.load(Ordering::Relaxed)
}
