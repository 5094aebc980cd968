//! What tasks report to the controller.

use std::time::Instant;

use hdrhistogram::Histogram;

use crate::report::Timeline;
use crate::RunError;

/// A task's counters, sent once when it ends.
pub(crate) struct TaskStats {
    /// Index of the component in the topology's declaration order.
    pub node: usize,
    pub emitted: u64,
    pub executed: u64,
    pub started: Instant,
    pub ended: Instant,
    /// End-to-end latency of the tuple trees that ended in this task, in nanoseconds.
    pub latency: Histogram<u64>,
    /// The same latency samples by the second of the run in which they were recorded.
    pub timeline: Timeline,
    /// Execute time per tuple (per-batch means), in nanoseconds; empty for spouts.
    pub execute: Histogram<u64>,
}

/// A task's message to the controller.
pub(crate) enum TaskEvent {
    Done(TaskStats),
    Failed(RunError),
}

/// An empty latency histogram (nanoseconds, 3 significant digits, growing as needed).
pub(crate) fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("invariant: 3 significant digits is a valid precision");
    h.auto(true);
    h
}

/// Records one latency, growing the histogram as needed (auto-resize happens only through
/// `record`; `saturating_record` would clamp to the current range).
#[inline]
pub(crate) fn record(h: &mut Histogram<u64>, ns: u64) {
    if h.record(ns).is_err() {
        h.saturating_record(ns);
    }
}
