//! `serve` keeps the memory it frees mapped, so the next background job
//! reuses it instead of faulting fresh pages in.
//!
//! Why: on this project's VM the first touch of a page costs 1.5-4 µs and
//! stalls every thread of the machine, the request threads included
//! (docs/bench-log.md, "Fresh pages stall the whole VM"). glibc's malloc
//! gives big freed blocks back to the kernel at once (anything over its
//! mmap threshold, and the top of every heap), so each 10M job faulted
//! 0.3-0.7M pages in again: the first recalculation after a start made the
//! writes wait 161 ms, a later one 15 ms. With one arena that never
//! trims and never maps blocks on their own, a job takes its memory from
//! what the last one freed: 17 faults for a later 10M recalculation, and
//! the writes waited at most 8-16 ms during recalculations.
//!
//! The price: the server's resident memory stays at its high-water mark.
//! At 10M partners: 6.4 GiB right after the start instead of 3.9 (what the
//! load freed stays mapped), 7.1-8.3 GiB after a series of jobs (7.9 GiB
//! without). All threads share one malloc arena: the writes' median
//! during jobs stayed at 0.7-1.0 ms on this 2-core machine.
//!
//! glibc reads these settings only when a process starts, from
//! `GLIBC_TUNABLES`, and setting them from inside needs `unsafe` (which the
//! server's crate forbids). So `serve` starts itself again, same process id,
//! arguments and environment, with the variable set: `exec`, before any
//! thread or file is opened. A `GLIBC_TUNABLES` already set (by the
//! operator, or by this first step) is left as it is. Off with
//! `--keep-freed-memory false`.

/// The settings: one arena, no block mapped on its own, never trimmed
/// (a threshold of 64 GiB: the largest value measured with).
pub const TUNABLES: &str = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736";

/// The environment variable glibc reads its tunables from.
const VARIABLE: &str = "GLIBC_TUNABLES";

/// Starts this process again with [`TUNABLES`] unless `GLIBC_TUNABLES` is
/// set already; returns only when it does not (set already, not glibc on
/// Linux, or the `exec` failed, which is logged).
pub fn keep_freed_memory() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    if let Some(set) = std::env::var_os(VARIABLE) {
        tracing::info!(glibc_tunables = %set.to_string_lossy(), "malloc tunables in effect (set before this process started)");
        return;
    }
    restart_with_tunables();
}

#[cfg(unix)]
fn restart_with_tunables() {
    use std::os::unix::process::CommandExt as _;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            tracing::warn!(%error, "cannot find this program to keep freed memory; freed memory goes back to the kernel");
            return;
        }
    };
    let error = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env(VARIABLE, TUNABLES).exec();
    tracing::warn!(%error, "cannot start again to keep freed memory; freed memory goes back to the kernel");
}

#[cfg(not(unix))]
fn restart_with_tunables() {}
