//! Latency over the course of a run: one histogram per whole second.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The percentiles of one second of a [`Timeline`], as [`crate::report::plot_timeline`] draws
/// them.
#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct TimelinePoint {
    /// Start of the second, in seconds since the start of the run.
    pub second: f64,
    /// Median latency in that second, in nanoseconds.
    pub p50_ns: u64,
    /// 99th percentile latency in that second, in nanoseconds.
    pub p99_ns: u64,
    /// Largest latency in that second, in nanoseconds.
    pub max_ns: u64,
}

/// Latency samples bucketed by the whole second, since the start of the run, in which they
/// completed.
///
/// Each task keeps its own timeline and the report [`merge`](Timeline::merge)s them: histograms
/// are added, never percentiles averaged.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// Key `i` holds the samples recorded in `[i s, i+1 s)`. A map rather than a vector indexed
    /// by second, so a gap (or a bogus timestamp hours out) costs nothing.
    seconds: BTreeMap<u64, Histogram<u64>>,
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a latency of `latency_ns` for a sample that completed `at_ns_since_start`
    /// nanoseconds after the start of the run.
    pub fn record(&mut self, at_ns_since_start: u64, latency_ns: u64) {
        let second = at_ns_since_start / NANOS_PER_SECOND;
        record_n(self.second_mut(second), latency_ns, 1);
    }

    /// Adds every sample of `other` to this timeline, second by second.
    pub fn merge(&mut self, other: &Timeline) {
        for (&second, src) in &other.seconds {
            self.add_histogram(second, src);
        }
    }

    /// Adds a whole histogram of samples recorded in `[second s, second+1 s)`.
    pub fn add_histogram(&mut self, second: u64, hist: &Histogram<u64>) {
        let dst = self.second_mut(second);
        for v in hist.iter_recorded() {
            record_n(dst, v.value_iterated_to(), v.count_at_value());
        }
    }

    /// Every sample of every second in one histogram.
    pub fn total(&self) -> Histogram<u64> {
        let mut total = new_histogram();
        for h in self.seconds.values() {
            for v in h.iter_recorded() {
                record_n(&mut total, v.value_iterated_to(), v.count_at_value());
            }
        }
        total
    }

    /// Every second that has samples, with its histogram, in time order.
    pub(crate) fn seconds(&self) -> impl Iterator<Item = (u64, &Histogram<u64>)> {
        self.seconds.iter().map(|(s, h)| (*s, h))
    }

    /// The samples recorded in `[second s, second+1 s)`, if there are any.
    pub fn histogram(&self, second: u64) -> Option<&Histogram<u64>> {
        self.seconds.get(&second)
    }

    /// One point per second that has samples, in time order; seconds without samples are left
    /// out rather than drawn as zero latency.
    pub fn points(&self) -> Vec<TimelinePoint> {
        self.seconds
            .iter()
            .map(|(&second, h)| TimelinePoint {
                second: second as f64,
                p50_ns: h.value_at_quantile(0.5),
                p99_ns: h.value_at_quantile(0.99),
                max_ns: h.max(),
            })
            .collect()
    }

    fn second_mut(&mut self, second: u64) -> &mut Histogram<u64> {
        self.seconds.entry(second).or_insert_with(new_histogram)
    }
}

/// Records into an auto-resizing histogram, which grows to fit any `u64` on a 64-bit target;
/// should growing ever fail, the sample is kept at the top of the range rather than dropped.
fn record_n(hist: &mut Histogram<u64>, value: u64, count: u64) {
    if hist.record_n(value, count).is_err() {
        hist.saturating_record_n(value, count);
    }
}

fn new_histogram() -> Histogram<u64> {
    let mut h =
        Histogram::new(3).expect("invariant: 3 significant digits is a valid histogram precision");
    h.auto(true);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn samples_land_in_their_second() {
        let mut t = Timeline::new();
        for i in 1..=100 {
            t.record(10 * MS, i * MS);
        }
        t.record(999 * MS, 5 * MS);
        t.record(2_500 * MS, 7 * MS);

        let points = t.points();
        assert_eq!(points.len(), 2, "second 1 has no samples: {points:?}");
        assert_eq!(points[0].second, 0.0);
        let first = t.histogram(0).unwrap();
        assert_eq!(first.len(), 101);
        assert_eq!(points[0].p50_ns, first.value_at_quantile(0.5));
        assert!((49 * MS..=51 * MS).contains(&points[0].p50_ns));
        assert!((99 * MS..=100 * MS + MS / 10).contains(&points[0].p99_ns));
        assert!((100 * MS..=100 * MS + MS / 10).contains(&points[0].max_ns));
        assert_eq!(points[1].second, 2.0);
        assert!((7 * MS..=7 * MS + MS / 100).contains(&points[1].max_ns));
        assert!(t.histogram(1).is_none());
    }

    #[test]
    fn merge_adds_histograms() {
        let mut a = Timeline::new();
        let mut b = Timeline::new();
        a.record(0, MS);
        b.record(0, 3 * MS);
        b.record(3 * 1_000 * MS, 9 * MS);
        a.merge(&b);

        assert_eq!(a.histogram(0).unwrap().len(), 2);
        assert_eq!(a.histogram(3).unwrap().len(), 1);
        let points = a.points();
        assert_eq!(points.len(), 2);
        assert!(points[0].max_ns >= 3 * MS);
        assert_eq!(points[1].second, 3.0);
        // `other` is unchanged.
        assert_eq!(b.histogram(0).unwrap().len(), 1);
    }

    #[test]
    fn large_latencies_and_far_timestamps_are_kept() {
        let mut t = Timeline::new();
        t.record(0, 3_600 * 1_000 * MS);
        t.record(u64::MAX, MS);
        let points = t.points();
        assert!(points[0].max_ns >= 3_600 * 1_000 * MS);
        assert_eq!(points[1].second, (u64::MAX / 1_000_000_000) as f64);
    }
}
