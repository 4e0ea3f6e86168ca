//! `downline-tools faults`: what faulting fresh memory in costs on this
//! machine, and how many TLB shootdowns a read before the first write adds.
//!
//! Each round allocates `--mib` MiB of zeroed memory (the allocator maps
//! fresh pages for a block this size), touches one byte a page, rewrites the
//! whole block, and frees it. The first touch is the page faults; the
//! rewrite is the same memory once mapped: their ratio is what a job pays
//! for allocating instead of reusing. With `--read-first` every page is
//! read before it is written, as a `+=` into `vec![0; n]` does: the kernel
//! maps the shared zero page at the read and replaces it at the write,
//! flushing the TLB of every other core that runs the process (on a VM, an
//! interrupt that exits to the hypervisor on both sides): this tool runs on
//! one thread, so it shows the double fault, and shootdowns only if the
//! kernel moves it between cores; a server's request threads are on the
//! other cores. The TLB shootdowns of the whole machine are read from
//! `/proc/interrupts`.
//!
//! Run it beside a load test to see how a job's faults slow other work
//! (docs/bench-log.md, "Fresh pages stall the whole VM").

use downline::cli::stdout::{line, reader_gone};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The largest block, MiB.
pub const MAX_MIB: usize = 65_536;
/// The most rounds.
pub const MAX_ROUNDS: usize = 100;
/// The page size assumed (a larger page is touched by its first 4 KiB all the same).
const PAGE_BYTES: usize = 4096;

/// Flags of `downline-tools faults`.
#[derive(clap::Args, Debug)]
pub struct FaultsArgs {
    /// The block each round allocates, MiB (at most 65,536).
    #[arg(long, default_value_t = 1024)]
    pub mib: usize,
    /// Rounds, each with a block of its own (at most 100).
    #[arg(long, default_value_t = 4)]
    pub rounds: usize,
    /// Read every page before writing it (the zero page, then a TLB flush).
    #[arg(long)]
    pub read_first: bool,
}

/// What one round measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    /// Touching one byte a page of the fresh block.
    pub first_touch: Duration,
    /// Rewriting the whole block once mapped.
    pub rewrite: Duration,
    /// Pages touched.
    pub pages: usize,
    /// TLB shootdowns of the machine during the first touch (`None` where
    /// `/proc/interrupts` has none).
    pub tlb_shootdowns: Option<u64>,
}

/// Runs the rounds and prints one line each.
pub fn run(args: FaultsArgs) -> Result<(), String> {
    if args.mib == 0 || args.mib > MAX_MIB {
        return Err(format!("--mib must be 1..={MAX_MIB}"));
    }
    if args.rounds == 0 || args.rounds > MAX_ROUNDS {
        return Err(format!("--rounds must be 1..={MAX_ROUNDS}"));
    }
    for r in 0..args.rounds {
        let round = measure(args.mib << 20, args.read_first);
        let per_page_us = round.first_touch.as_secs_f64() * 1e6 / round.pages as f64;
        let shootdowns = round.tlb_shootdowns.map_or_else(|| "n/a".to_owned(), |n| n.to_string());
        line(format_args!(
            "round {r}: first touch {:.0} ms ({per_page_us:.2} µs a page), rewrite {:.0} ms, TLB shootdowns {shootdowns}",
            round.first_touch.as_secs_f64() * 1e3,
            round.rewrite.as_secs_f64() * 1e3,
        ))?;
        if reader_gone() {
            break;
        }
    }
    Ok(())
}

/// One round on a fresh block of `bytes`.
pub fn measure(bytes: usize, read_first: bool) -> Round {
    let mut block = vec![0u8; bytes];
    let pages = bytes.div_ceil(PAGE_BYTES);
    let before = tlb_shootdowns();
    let started = Instant::now();
    let block_ref = black_box(&mut block[..]);
    for page in block_ref.chunks_mut(PAGE_BYTES) {
        if read_first {
            let seen = black_box(page[0]);
            page[0] = seen.wrapping_add(1);
        } else {
            page[0] = 1;
        }
    }
    let first_touch = started.elapsed();
    let tlb = before.zip(tlb_shootdowns()).map(|(a, b)| b.saturating_sub(a));
    let started = Instant::now();
    black_box(&mut block[..]).fill(2);
    let rewrite = started.elapsed();
    drop(black_box(block));
    Round { first_touch, rewrite, pages, tlb_shootdowns: tlb }
}

/// The machine's TLB shootdowns so far, all cores (Linux x86).
fn tlb_shootdowns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/interrupts").ok()?;
    let row = text.lines().find(|l| l.trim_start().starts_with("TLB:"))?;
    Some(row.split_whitespace().skip(1).map_while(|n| n.parse::<u64>().ok()).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_touches_every_page_and_times_both_passes() {
        let round = measure(3 * PAGE_BYTES + 1, true);
        assert_eq!(round.pages, 4);
        assert!(round.first_touch > Duration::ZERO && round.rewrite > Duration::ZERO);
    }

    #[test]
    fn out_of_range_flags_are_refused_before_any_allocation() {
        let refused = |mib, rounds| run(FaultsArgs { mib, rounds, read_first: false }).unwrap_err();
        assert!(refused(0, 1).contains("--mib"));
        assert!(refused(MAX_MIB + 1, 1).contains("--mib"));
        assert!(refused(1, 0).contains("--rounds"));
    }
}
