//! The progress bars of `downline import`: rows done, rows per second and
//! the time left, computed here rather than by indicatif's `{per_sec}` and
//! `{eta}`, which count the bar's unit (bytes of the file while reading)
//! and extrapolate from the first milliseconds (a 1 s import once showed
//! "25,323,262.5779/s, 70m left").

use indicatif::{HumanCount, HumanDuration, ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};

/// Rates and times left are shown only after this long: before, a few rows
/// in a few microseconds make an absurd rate.
const SETTLE: Duration = Duration::from_millis(500);

/// The message is recomputed every this many rows (formatting per row
/// would cost more than parsing it).
const EVERY: u64 = 1024;

/// A bar over some measure of the work (bytes of a file, or rows when the
/// total of rows is known) whose text counts rows.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    total: u64,
    rows: u64,
}

impl Progress {
    /// A bar named `label` over `total` units of work (drawn on stderr when
    /// it is a terminal, hidden otherwise).
    pub fn new(label: &str, total: u64) -> Progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{prefix:8} [{bar:40}] {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_owned());
        Progress { bar, started: Instant::now(), total, rows: 0 }
    }

    /// Records `rows` more rows, `done` units done in all.
    pub fn advance(&mut self, rows: u64, done: u64) {
        let before = self.rows / EVERY;
        self.rows += rows;
        if self.rows / EVERY != before || rows >= EVERY {
            self.bar.set_position(done);
            self.bar.set_message(describe(self.rows, done, self.total, self.started.elapsed()));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// "12,288 rows, 24,576 rows/s, 3s left": the rate and the time left only
/// once `SETTLE` has passed, the time left from the share of units done.
pub fn describe(rows: u64, done: u64, total: u64, elapsed: Duration) -> String {
    let mut text = format!("{} rows", HumanCount(rows));
    if elapsed < SETTLE || done == 0 {
        return text;
    }
    let seconds = elapsed.as_secs_f64();
    text.push_str(&format!(", {} rows/s", HumanCount((rows as f64 / seconds) as u64)));
    let left = total.saturating_sub(done) as f64 * seconds / done as f64;
    text.push_str(&format!(", {} left", HumanDuration(Duration::from_secs_f64(left.min(1e7)))));
    text
}

#[cfg(test)]
mod tests {
    use super::describe;
    use std::time::Duration;

    #[test]
    fn counts_rows_and_waits_before_a_rate() {
        assert_eq!(describe(388_698, 388_698, 2_244_014, Duration::from_millis(10)), "388,698 rows");
    }

    #[test]
    fn rate_and_time_left_follow_the_share_done() {
        // A quarter of the bytes in 1 s: 3 s left, whatever the row count.
        let text = describe(50_000, 250, 1000, Duration::from_secs(1));
        assert_eq!(text, "50,000 rows, 50,000 rows/s, 3 seconds left");
        assert_eq!(describe(10, 1000, 1000, Duration::from_secs(2)), "10 rows, 5 rows/s, 0 seconds left");
    }
}
