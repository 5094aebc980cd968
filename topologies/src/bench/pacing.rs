//! The fixed-rate schedule shared by a bench's spout, its stall and its report, and the spout
//! that keeps it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use squall::{ComponentError, Spout, SpoutCollector};

use super::generate::Generate;

/// Tuples emitted per `next_tuple` call at most, so a spout with a backlog still returns to its
/// executor (which flushes batches and handles credits) often.
const MAX_PER_CALL: u64 = 256;

/// When each tuple of a fixed-rate run is meant to be sent: tuple `i` at `start + i / rate`,
/// `i` from 0 to [`Pacing::total`], the first `warmup * rate` of them warm-up. Nothing is sent
/// after [`Pacing::end`], so a rate the topology cannot keep up with still ends on time.
#[derive(Debug)]
pub struct Pacing {
    start: Instant,
    rate: f64,
    warmup: Duration,
    duration: Duration,
    ns_per_tuple: f64,
    total: u64,
    first_measured: u64,
    /// Measured tuples emitted so far.
    measured: AtomicU64,
    /// When the last measured tuple was really emitted, in nanoseconds since `start`.
    last_measured_ns: AtomicU64,
}

impl Pacing {
    /// A schedule of `rate` tuples per second starting at `start`: `warmup` unmeasured, then
    /// `duration` measured. A rate that is not positive and finite is treated as 1 per second.
    pub fn new(start: Instant, rate: f64, warmup: Duration, duration: Duration) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        let count = |d: Duration| (d.as_secs_f64() * rate).round() as u64;
        let first_measured = count(warmup);
        Pacing {
            start,
            rate,
            warmup,
            duration,
            ns_per_tuple: 1e9 / rate,
            total: first_measured + count(duration),
            first_measured,
            measured: AtomicU64::new(0),
            last_measured_ns: AtomicU64::new(0),
        }
    }

    /// Tuples per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// How many tuples the run emits, warm-up included.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The length of the measured period.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// When tuple `i` is meant to be sent.
    pub fn intended(&self, i: u64) -> Instant {
        self.start + Duration::from_nanos((i as f64 * self.ns_per_tuple) as u64)
    }

    /// How many tuples are due by `now` (never more than [`Pacing::total`]; none before the
    /// start).
    pub fn due(&self, now: Instant) -> u64 {
        if now < self.start {
            return 0;
        }
        let elapsed = now.saturating_duration_since(self.start).as_nanos() as f64;
        ((elapsed / self.ns_per_tuple) as u64 + 1).min(self.total)
    }

    /// The end of the warm-up: latency samples of tuples intended before it are left out.
    pub fn measure_from(&self) -> Instant {
        self.start + self.warmup
    }

    /// The end of the measured period: the source sends nothing after it.
    pub fn end(&self) -> Instant {
        self.measure_from() + self.duration
    }

    /// The middle of the measured period, where an injected stall happens.
    pub fn midpoint(&self) -> Instant {
        self.measure_from() + self.duration / 2
    }

    /// Measured tuples emitted so far.
    pub fn measured(&self) -> u64 {
        self.measured.load(Ordering::Relaxed)
    }

    /// Tuples per second the spout really sent in the measured period: measured tuples over the
    /// time from the measured period's start to the moment the last of them was sent. Equals the
    /// target rate when the topology keeps up, and falls below it when backpressure holds the
    /// spout back. (`squall bench` reports the rate at which tuples completed instead.)
    pub fn send_rate(&self) -> f64 {
        let last = Duration::from_nanos(self.last_measured_ns.load(Ordering::Relaxed));
        let span = last.saturating_sub(self.warmup).as_secs_f64();
        let n = self.measured();
        if n == 0 || span <= 0.0 {
            return 0.0;
        }
        // `span` runs from the first tuple's intended time to the last one's send time: n - 1
        // intervals, so one more makes the rate exact for a spout on schedule.
        n as f64 / (span + self.ns_per_tuple / 1e9)
    }

    fn note_emitted(&self, from: u64, to: u64, now: Instant) {
        let measured = to.saturating_sub(from.max(self.first_measured));
        if measured > 0 {
            self.measured.fetch_add(measured, Ordering::Relaxed);
            let ns = now.saturating_duration_since(self.start).as_nanos();
            self.last_measured_ns
                .store(u64::try_from(ns).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }
}

/// Emits what `G` generates on the [`Pacing`] schedule, each tuple with its intended emit time.
/// Run it as one task: the schedule is the whole run's.
#[derive(Debug)]
pub struct PacedSpout<G> {
    generate: G,
    pacing: Arc<Pacing>,
    next: u64,
    /// The measured period is over: tuples not sent by then never are.
    stopped: bool,
}

impl<G> PacedSpout<G> {
    /// A spout emitting `generate`'s tuples on `pacing`.
    pub fn new(generate: G, pacing: Arc<Pacing>) -> Self {
        PacedSpout {
            generate,
            pacing,
            next: 0,
            stopped: false,
        }
    }
}

impl<G: Generate> Spout for PacedSpout<G> {
    type Output = G::Item;

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, G::Item>) -> Result<(), ComponentError> {
        let now = Instant::now();
        if now >= self.pacing.measure_from() {
            // A warm-up backlog (a rate beyond reach) would eat into the measured period.
            self.next = self.next.max(self.pacing.first_measured);
        }
        // One last call at or after the end sends what was due by then, up to the usual limit.
        self.stopped = now >= self.pacing.end();
        let due = self.pacing.due(now).min(self.next + MAX_PER_CALL);
        let from = self.next;
        while self.next < due {
            let i = self.next;
            out.emit_at(self.generate.generate(i), self.pacing.intended(i));
            self.next += 1;
        }
        self.pacing.note_emitted(from, self.next, now);
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.stopped || self.next >= self.pacing.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_counts_and_times() {
        let start = Instant::now();
        let p = Pacing::new(
            start,
            1000.0,
            Duration::from_secs(1),
            Duration::from_secs(2),
        );
        assert_eq!(p.total(), 3000);
        assert_eq!(p.intended(1500) - start, Duration::from_millis(1500));
        assert_eq!(p.due(start), 1);
        assert_eq!(p.due(start - Duration::from_millis(1)), 0);
        assert_eq!(p.due(start + Duration::from_micros(2500)), 3);
        assert_eq!(p.due(start + Duration::from_secs(60)), 3000);
        assert_eq!(p.measure_from() - start, Duration::from_secs(1));
        assert_eq!(p.midpoint() - start, Duration::from_secs(2));
        assert_eq!(p.end() - start, Duration::from_secs(3));
        // Only tuples from 1000 on count as measured.
        p.note_emitted(900, 1100, start + Duration::from_millis(1100));
        assert_eq!(p.measured(), 100);
    }
}
