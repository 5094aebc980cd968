//! A flat array of latency counts with exactly the bucket layout of an HdrHistogram of 3
//! significant digits, for the per-tuple path.
//!
//! `Histogram::record` costs ~4.5 ns here (range checks, auto-resize, min/max and total
//! updates); one array increment costs ~1.8 ns, and the executors record one sample per tuple.
//! The counts move into a real histogram once per second, where each bucket's lowest value is
//! recorded with its count: it lands in the same bucket, so every percentile, the max and the
//! count come out exactly as if each sample had been recorded directly.

use hdrhistogram::Histogram;

use super::stats::record;

/// Sub-bucket bits of a 3-significant-digit histogram: 2048 sub-buckets, half of them per
/// bucket after the first.
const HALF_BITS: u32 = 10;
/// `64 - unit magnitude (0) - HALF_BITS - 1`, as HdrHistogram computes a bucket index.
const LEADING_ZERO_BASE: u32 = 53;
const SUB_BUCKET_MASK: u64 = (1 << (HALF_BITS + 1)) - 1;
/// Samples below 2^40 ns (about 18 minutes) go to the array; longer ones straight to the
/// overflow histogram.
const LIMIT: u64 = 1 << 40;
const SLOTS: usize = ((40 - HALF_BITS as usize) + 1) << HALF_BITS;

/// Counts of latency samples in nanoseconds, bucketed as a 3-digit HdrHistogram buckets them.
#[derive(Default)]
pub(crate) struct LatencyCounts {
    /// Allocated on the first sample, so tasks that never record cost nothing.
    counts: Vec<u64>,
    samples: u64,
}

impl LatencyCounts {
    /// Counts one sample of `ns`; one beyond the array's range goes into `overflow`.
    #[inline]
    pub(crate) fn record(&mut self, ns: u64, overflow: &mut Histogram<u64>) {
        if ns >= LIMIT {
            record(overflow, ns);
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; SLOTS];
        }
        let bucket = LEADING_ZERO_BASE - (ns | SUB_BUCKET_MASK).leading_zeros();
        let index = ((bucket as usize) << HALF_BITS) + (ns >> bucket) as usize;
        if let Some(c) = self.counts.get_mut(index) {
            *c += 1;
            self.samples += 1;
        }
    }

    /// Whether nothing was counted since the last drain.
    pub(crate) fn is_empty(&self) -> bool {
        self.samples == 0
    }

    /// Moves every count into `hist`, leaving the array zeroed.
    pub(crate) fn drain_into(&mut self, hist: &mut Histogram<u64>) {
        if self.samples == 0 {
            return;
        }
        for (index, c) in self.counts.iter_mut().enumerate() {
            if *c > 0 {
                let value = lowest_value(index);
                if hist.record_n(value, *c).is_err() {
                    hist.saturating_record_n(value, *c);
                }
                *c = 0;
            }
        }
        self.samples = 0;
    }
}

/// The lowest value counted at `index`.
fn lowest_value(index: usize) -> u64 {
    let half = 1usize << HALF_BITS;
    if index < 2 * half {
        return index as u64;
    }
    let bucket = (index >> HALF_BITS) - 1;
    let sub = (index & (half - 1)) + half;
    (sub as u64) << bucket
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::observability::stats::new_histogram;

    #[test]
    fn same_buckets_as_recording_directly() {
        let mut direct = new_histogram();
        let mut counts = LatencyCounts::default();
        let mut overflow = new_histogram();
        // Every magnitude from 0 to past the array's limit, with uneven steps.
        let mut v = 0u64;
        while v < LIMIT * 4 {
            record(&mut direct, v);
            counts.record(v, &mut overflow);
            v = v + 1 + v / 7;
        }
        let mut via = new_histogram();
        counts.drain_into(&mut via);
        let _ = via.add(&overflow);
        assert!(counts.is_empty());
        assert_eq!(via.len(), direct.len());
        assert_eq!(via.max(), direct.max());
        assert_eq!(via.min(), direct.min());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
            assert_eq!(
                via.value_at_quantile(q),
                direct.value_at_quantile(q),
                "q {q}"
            );
        }
        for (a, b) in via.iter_recorded().zip(direct.iter_recorded()) {
            assert_eq!(a.value_iterated_to(), b.value_iterated_to());
            assert_eq!(a.count_at_value(), b.count_at_value());
        }
    }
}
