//! What a finished run reports.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::report::Timeline;

/// Counters of one component, summed over its tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentReport {
    /// The component's id.
    pub id: String,
    /// How many tasks it ran.
    pub tasks: usize,
    /// Tuples its tasks emitted.
    pub emitted: u64,
    /// Tuples its tasks executed (0 for spouts).
    pub executed: u64,
    /// From the first task's start to the last task's end.
    pub elapsed: Duration,
    /// Restarts of its tasks' user instances by the supervisor.
    pub restarts: u64,
    /// Time `execute` took per tuple, in nanoseconds, each batch recorded as its mean per
    /// tuple; one histogram per task, merged. Empty for spouts and when `Config::metrics` is
    /// off.
    pub execute_latency: Histogram<u64>,
}

/// The result of a completed run: per-component counters and end-to-end latency.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The topology's name.
    pub topology: String,
    /// Wall time from start to the end of the drain.
    pub elapsed: Duration,
    /// Components in topological order.
    pub components: Vec<ComponentReport>,
    /// End-to-end latency in nanoseconds: from a spout tuple's emit time (its intended emit
    /// time for fixed-rate spouts) to the moment a tuple descending from it was executed
    /// without emitting anything further, i.e. where each branch of its tree ends. One
    /// histogram per task, merged.
    pub latency: Histogram<u64>,
    /// The samples of `latency` by the second of the run in which they were recorded.
    pub timeline: Timeline,
}

impl RunReport {
    /// The report of component `id`, if the topology has one.
    pub fn component(&self, id: &str) -> Option<&ComponentReport> {
        self.components.iter().find(|c| c.id == id)
    }
}
