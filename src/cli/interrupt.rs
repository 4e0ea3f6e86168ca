//! SIGINT and SIGTERM during `downline import`. Before the write phase
//! nothing is on disk yet, so a signal ends the process at once. During it,
//! the signal only asks the writer to stop at the next batch boundary: what
//! was written is flushed, the import marker stays, and the import tells
//! what to do and exits with 130 (SIGINT) or 143 (SIGTERM).

use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The step of [`Interrupt::pause`].
const PAUSE_STEP: Duration = Duration::from_millis(10);

/// Reading and linking: a signal exits at once.
const READING: u8 = 0;
/// Writing: a signal asks for a stop at a batch boundary.
const WRITING: u8 = 1;
/// A stop was asked for.
const STOP: u8 = 2;

/// The listener's state, shared with the import.
#[derive(Debug)]
struct Shared {
    state: AtomicU8,
    exit_code: AtomicI32,
}

/// Listens for SIGINT and SIGTERM for as long as it lives.
#[derive(Debug)]
pub struct Interrupt {
    shared: Arc<Shared>,
}

impl Interrupt {
    /// Starts listening (on a thread of its own with a small runtime).
    pub fn listen() -> Result<Interrupt, String> {
        let shared = Arc::new(Shared { state: AtomicU8::new(READING), exit_code: AtomicI32::new(0) });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start tokio: {e}"))?;
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            // Registered here, before the import starts, so no signal is missed.
            let (mut int, mut term) = {
                let _entered = runtime.enter();
                let int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
                let term = signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
                (int, term)
            };
            let heard = Arc::clone(&shared);
            std::thread::spawn(move || {
                let (name, code) = runtime.block_on(async {
                    tokio::select! {
                        _ = int.recv() => ("SIGINT", 130),
                        _ = term.recv() => ("SIGTERM", 143),
                    }
                });
                heard.exit_code.store(code, Ordering::Release);
                if heard.state.swap(STOP, Ordering::AcqRel) == WRITING {
                    eprintln!("{name} received: stopping after the batch being written");
                } else {
                    eprintln!("{name} received before anything was written: nothing was imported");
                    std::process::exit(code);
                }
            });
        }
        Ok(Interrupt { shared })
    }

    /// Enters the write phase; false when a signal already came (the
    /// process is exiting).
    pub fn start_writing(&self) -> bool {
        self.shared.state.compare_exchange(READING, WRITING, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Whether a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.shared.state.load(Ordering::Acquire) == STOP
    }

    /// Sleeps `pause` in steps of 10 ms, or until a stop is asked for.
    pub fn pause(&self, pause: Duration) {
        let started = Instant::now();
        while started.elapsed() < pause && !self.stop_requested() {
            std::thread::sleep(PAUSE_STEP.min(pause.saturating_sub(started.elapsed())));
        }
    }

    /// The exit code of the signal that asked for the stop.
    pub fn exit_code(&self) -> i32 {
        self.shared.exit_code.load(Ordering::Acquire)
    }
}
