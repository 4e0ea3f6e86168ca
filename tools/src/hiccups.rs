//! `downline-tools hiccups`: how often, and for how long, this machine stops
//! running a thread that never sleeps.
//!
//! One busy thread per core reads the clock in a tight loop; any gap
//! between two readings longer than 100 µs is time the thread did not run:
//! the kernel or, on a virtual machine, the hypervisor ran something else.
//! Such gaps set a floor under every latency percentile measured on the
//! machine, whatever the server does: if a core stops for 2 ms twice a
//! second, 1 % of 10,000 requests/s cannot all be answered within 1 ms.
//!
//! Then one sleeping thread per core sleeps `--sleep-us` again and again
//! and records how late it wakes. A server between requests sleeps the
//! same way; on a virtual machine an idle core is handed back to the host,
//! and getting it back can take milliseconds. Busy threads do not see that.
//!
//! Run it alone: it keeps every core busy for `--duration-s`, then sleeps
//! as long.

use downline::cli::stdout::{line, reader_gone};
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// The longest run, in seconds.
pub const MAX_DURATION_S: u64 = 600;
/// The most threads.
pub const MAX_THREADS: usize = 1024;

/// Flags of `downline-tools hiccups`.
#[derive(clap::Args, Debug)]
pub struct HiccupsArgs {
    /// How long to watch, in seconds (at most 600).
    #[arg(long, default_value_t = 5)]
    pub duration_s: u64,
    /// Busy (then sleeping) threads; the default is one per core.
    #[arg(long)]
    pub threads: Option<usize>,
    /// How long each sleep of the sleeping threads asks for, in microseconds.
    #[arg(long, default_value_t = 1000)]
    pub sleep_us: u64,
}

/// The gaps one thread saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GapTally {
    /// Gaps longer than 100 µs.
    pub over_100us: u64,
    /// Gaps longer than 500 µs.
    pub over_500us: u64,
    /// Gaps longer than 1 ms.
    pub over_1ms: u64,
    /// Gaps longer than 5 ms.
    pub over_5ms: u64,
    /// The longest gap.
    pub longest: Duration,
    /// The sum of the gaps longer than 100 µs.
    pub lost: Duration,
    /// The time watched.
    pub watched: Duration,
}

impl GapTally {
    /// Counts one gap between two clock readings.
    pub fn add(&mut self, gap: Duration) {
        self.watched += gap;
        self.longest = self.longest.max(gap);
        if gap <= Duration::from_micros(100) {
            return;
        }
        self.over_100us += 1;
        self.lost += gap;
        self.over_500us += u64::from(gap > Duration::from_micros(500));
        self.over_1ms += u64::from(gap > Duration::from_millis(1));
        self.over_5ms += u64::from(gap > Duration::from_millis(5));
    }

    /// The share of the watched time lost in gaps, in percent.
    pub fn lost_percent(&self) -> f64 {
        100.0 * self.lost.as_secs_f64() / self.watched.as_secs_f64().max(1e-9)
    }
}

/// Runs the watch and prints one line per thread.
pub fn run(args: HiccupsArgs) -> Result<(), String> {
    if !(1..=MAX_DURATION_S).contains(&args.duration_s) {
        return Err(format!("--duration-s must be 1 to {MAX_DURATION_S}"));
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(format!("--threads must be 1 to {MAX_THREADS}"));
    }
    if !(1..=1_000_000).contains(&args.sleep_us) {
        return Err("--sleep-us must be 1 to 1000000".into());
    }
    let duration = Duration::from_secs(args.duration_s);
    line(format_args!("watching {threads} busy threads for {} s (gaps between clock readings)", args.duration_s))?;
    // Its output is its only product: with nobody reading, stop measuring.
    if reader_gone() {
        return Ok(());
    }
    for (k, t) in watch(duration, threads).iter().enumerate() {
        line(format_args!(
            "thread {k}: gaps >0.1 ms {}, >0.5 ms {}, >1 ms {}, >5 ms {}; longest {:.2} ms; lost {:.2} %",
            t.over_100us,
            t.over_500us,
            t.over_1ms,
            t.over_5ms,
            t.longest.as_secs_f64() * 1e3,
            t.lost_percent()
        ))?;
    }
    let sleep = Duration::from_micros(args.sleep_us);
    if reader_gone() {
        return Ok(());
    }
    line(format_args!(
        "{threads} threads sleeping {} µs at a time for {} s (how late they wake)",
        args.sleep_us, args.duration_s
    ))?;
    for (k, late) in sleep_late(duration, threads, sleep).iter().enumerate() {
        let ms = |q: f64| late.value_at_quantile(q) as f64 / 1e3;
        line(format_args!(
            "thread {k}: {} sleeps, late p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3} ms",
            late.len(),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(0.999),
            late.max() as f64 / 1e3
        ))?;
    }
    Ok(())
}

/// Keeps `threads` threads sleeping `sleep` at a time for `duration`; per
/// thread, how late each sleep ended, in microseconds.
pub fn sleep_late(duration: Duration, threads: usize, sleep: Duration) -> Vec<Histogram<u64>> {
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                crate::loadtest_clock::precise_timer_slack();
                let mut late = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
                let end = Instant::now() + duration;
                loop {
                    let asked = Instant::now();
                    if asked >= end {
                        return late;
                    }
                    std::thread::sleep(sleep);
                    let over = asked.elapsed().saturating_sub(sleep);
                    late.saturating_record(u64::try_from(over.as_micros()).unwrap_or(u64::MAX).max(1));
                }
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("a sleeping thread only sleeps")).collect()
}

/// Keeps `threads` threads reading the clock for `duration` each (from
/// the moment all of them are running); one tally each.
pub fn watch(duration: Duration, threads: usize) -> Vec<GapTally> {
    let ready = std::sync::Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let ready = std::sync::Arc::clone(&ready);
            std::thread::spawn(move || {
                ready.wait();
                let mut tally = GapTally::default();
                let mut previous = Instant::now();
                let end = previous + duration;
                while previous < end {
                    let now = Instant::now();
                    tally.add(now - previous);
                    previous = now;
                }
                tally
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("a watching thread only reads the clock")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_counted_in_every_band_they_exceed() {
        let mut t = GapTally::default();
        for micros in [1, 100, 101, 499, 500, 501, 1000, 1001, 5000, 5001, 7000] {
            t.add(Duration::from_micros(micros));
        }
        assert_eq!((t.over_100us, t.over_500us, t.over_1ms, t.over_5ms), (9, 6, 4, 2));
        assert_eq!(t.longest, Duration::from_micros(7000));
        assert_eq!(t.lost, Duration::from_micros(101 + 499 + 500 + 501 + 1000 + 1001 + 5000 + 5001 + 7000));
        assert_eq!(t.watched, t.lost + Duration::from_micros(101));
    }

    #[test]
    fn every_thread_watches_the_whole_time() {
        let tallies = watch(Duration::from_millis(50), 2);
        assert_eq!(tallies.len(), 2);
        for t in tallies {
            assert!(t.watched >= Duration::from_millis(50), "{t:?}");
            assert!(t.lost <= t.watched && t.over_5ms <= t.over_1ms && t.over_1ms <= t.over_100us, "{t:?}");
        }
    }

    #[test]
    fn sleepers_sleep_the_whole_time() {
        let sleep = Duration::from_millis(1);
        let started = Instant::now();
        let late = sleep_late(Duration::from_millis(50), 2, sleep);
        let took = started.elapsed();
        assert_eq!(late.len(), 2);
        for h in late {
            // Each sleep lasts at least 1 ms: at most ~50 fit, and some did.
            assert!((1..=51).contains(&h.len()), "{} sleeps", h.len());
            assert!(took >= sleep * h.len() as u32, "{took:?} for {} sleeps", h.len());
        }
    }
}
