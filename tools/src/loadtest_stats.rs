//! What a load test measured: counts and three latency histograms, printed
//! at the end of `downline-tools loadtest`; on request also each request's
//! scheduled time and latency, so a window of the run can be summed up on
//! its own (`downline-tools stall`: the writes sent while a job ran).

use downline::cli::stdout::line;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Why a request did not succeed.
pub enum Outcome {
    /// The server answered with an error status.
    Status(tonic::Code),
    /// No answer within the client's timeout.
    ClientTimeout,
    /// The connection or the HTTP/2 exchange failed (lean client).
    Transport(String),
}

/// What a run measured. Times are in microseconds.
#[derive(Clone)]
pub struct Stats {
    start: Instant,
    last_answer: Instant,
    scheduled: u64,
    sent: u64,
    ok: u64,
    unsent: u64,
    errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
    service: Histogram<u64>,
    lag: Histogram<u64>,
    /// Every request's sample, in answer order, when kept ([`Stats::keep_timeline`]).
    timeline: Option<Vec<Sample>>,
}

/// One request of the timeline.
#[derive(Clone, Copy)]
struct Sample {
    /// Its scheduled time, from the start of the run.
    scheduled_us: u32,
    /// Scheduled to answered (or to given up, for a request never sent).
    latency_us: u32,
    /// Whether it was answered with success.
    ok: bool,
}

/// The latency of the requests scheduled in one window of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Requests scheduled in the window.
    pub count: u64,
    /// Of those, the ones that failed or were never sent.
    pub failed: u64,
    /// Latency from the scheduled time, median.
    pub p50_us: u64,
    /// Latency, 99th percentile.
    pub p99_us: u64,
    /// Latency, 99.9th percentile.
    pub p999_us: u64,
    /// Latency, the longest.
    pub max_us: u64,
}

impl Stats {
    /// Empty statistics of a run that schedules `scheduled` requests.
    pub fn new(start: Instant, scheduled: u64) -> Stats {
        Stats {
            start,
            last_answer: start,
            scheduled,
            sent: 0,
            ok: 0,
            unsent: 0,
            errors: BTreeMap::new(),
            latency: histogram(),
            service: histogram(),
            lag: histogram(),
            timeline: None,
        }
    }

    /// Keeps every request's scheduled time and latency from now on (12
    /// bytes a request: the caller bounds the run), for [`Stats::window`].
    pub fn keep_timeline(&mut self, capacity: usize) {
        self.timeline = Some(Vec::with_capacity(capacity));
    }

    /// The instant the run's schedule starts at.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// A run ended early: only `scheduled` requests were scheduled.
    pub fn ended_after(&mut self, scheduled: u64) {
        self.scheduled = scheduled;
    }

    /// The requests scheduled in `from..to` (needs the timeline; an empty
    /// window without it).
    pub fn window(&self, from: Instant, to: Instant) -> Window {
        let micros = |t: Instant| t.saturating_duration_since(self.start).as_micros();
        let (from_us, to_us) = (micros(from), micros(to));
        let mut h = histogram();
        let mut failed = 0;
        for s in self.timeline.iter().flatten() {
            if (from_us..to_us).contains(&u128::from(s.scheduled_us)) {
                h.saturating_record(u64::from(s.latency_us).max(1));
                failed += u64::from(!s.ok);
            }
        }
        Window {
            count: h.len(),
            failed,
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }

    /// Adds a request to the timeline, when it is kept.
    fn sample(&mut self, scheduled: Instant, latency: Duration, ok: bool) {
        if let Some(timeline) = &mut self.timeline {
            let clamp = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
            let scheduled_us = clamp(scheduled.saturating_duration_since(self.start));
            timeline.push(Sample { scheduled_us, latency_us: clamp(latency), ok });
        }
    }

    /// Records one answered (or failed) request.
    pub fn record(&mut self, scheduled: Instant, sent: Instant, answered: Instant, result: Result<(), Outcome>) {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.sent += 1;
        self.last_answer = self.last_answer.max(answered);
        self.latency.saturating_record(micros(answered.saturating_duration_since(scheduled)));
        self.service.saturating_record(micros(answered.saturating_duration_since(sent)));
        self.lag.saturating_record(micros(sent.saturating_duration_since(scheduled)));
        self.sample(scheduled, answered.saturating_duration_since(scheduled), result.is_ok());
        match result {
            Ok(()) => self.ok += 1,
            Err(Outcome::Status(code)) => *self.errors.entry(format!("{code:?}")).or_default() += 1,
            Err(Outcome::ClientTimeout) => *self.errors.entry("client timeout".into()).or_default() += 1,
            Err(Outcome::Transport(why)) => *self.errors.entry(format!("transport ({why})")).or_default() += 1,
        }
    }

    /// How many requests were answered with success.
    pub fn ok(&self) -> u64 {
        self.ok
    }

    /// How many requests were sent.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The failed requests, counted by kind (a status code's name,
    /// `client timeout`, or `transport (why)`).
    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }

    /// Records a request of a closed loop: scheduled when it was sent.
    pub fn record_unscheduled(&mut self, sent: Instant, answered: Instant, result: Result<(), Outcome>) {
        self.scheduled += 1;
        self.record(sent, sent, answered, result);
    }

    /// Records a request that was never sent.
    pub fn unsent(&mut self, scheduled: Instant, now: Instant) {
        self.unsent += 1;
        self.latency.saturating_record(now.saturating_duration_since(scheduled).as_micros() as u64);
        self.sample(scheduled, now.saturating_duration_since(scheduled), false);
    }

    /// Prints the report.
    pub fn print(&self) -> Result<(), String> {
        let elapsed = self.last_answer.saturating_duration_since(self.start).as_secs_f64().max(1e-9);
        let errors = if self.errors.is_empty() {
            "none".to_owned()
        } else {
            self.errors.iter().map(|(code, n)| format!("{code} {n}")).collect::<Vec<_>>().join(", ")
        };
        line(format_args!(
            "scheduled {}, sent {}, ok {}, unsent {}, errors: {errors}",
            self.scheduled, self.sent, self.ok, self.unsent
        ))?;
        line(format_args!(
            "achieved {:.0} ok/s ({:.0} answers/s) over {elapsed:.2} s",
            self.ok as f64 / elapsed,
            self.sent as f64 / elapsed
        ))?;
        print_histogram("latency (from scheduled time)", &self.latency)?;
        print_histogram("service (from send)", &self.service)?;
        print_histogram("send lag (scheduled to sent)", &self.lag)?;
        if self.unsent > 0 {
            line(format_args!("warning: {} requests were never sent (no free slot before the run ended): the target could not keep up; they count in latency with the wait they had", self.unsent))?;
        }
        Ok(())
    }
}

/// An empty latency histogram, in microseconds up to an hour.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

fn print_histogram(name: &str, h: &Histogram<u64>) -> Result<(), String> {
    let ms = |micros: u64| micros as f64 / 1000.0;
    line(format_args!(
        "{name:30} ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (mean {:.3})",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max()),
        h.mean() / 1000.0
    ))
}
