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
    /// Times a task of this component was given a fresh instance after a failure.
    pub restarts: u64,
    /// Tuple trees completed (spouts, at-least-once).
    pub acked: u64,
    /// Tuples failed: an `Err` from `execute`, a timeout or a crash.
    pub failed: u64,
    /// Tuples emitted again because of a failure: replays of failed trees, and what a spout
    /// emits a second time after rewinding to a checkpoint.
    pub replayed: u64,
    /// Time `execute` took per tuple, in nanoseconds, each batch recorded as its mean per
    /// tuple; one histogram per task, merged. Empty for spouts and when `Config::metrics` is
    /// off.
    pub execute_latency: Histogram<u64>,
}

/// A tuple given up on: it failed `max_tuple_attempts` times (at-least-once), or once without
/// tracking. Kept with its MessagePack payload and the last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The bolt that failed it.
    pub component: String,
    /// The task index.
    pub task: usize,
    /// The tuple, MessagePack-encoded (decode it with `squall::transport::codec::decode`).
    pub payload: Vec<u8>,
    /// The last error.
    pub error: String,
    /// How many times it was tried.
    pub attempts: u32,
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
    /// Tuples given up on (a bounded sample; `ComponentReport::failed` counts them all).
    pub dead_letters: Vec<DeadLetter>,
    /// Times the whole topology rolled back to a checkpoint.
    pub rollbacks: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// The samples of `latency` by the second of the run in which they were recorded.
    pub timeline: Timeline,
    /// The signal that ended the run early, when it was drained by one
    /// ([`crate::LocalCluster::run_until_signal`]).
    pub interrupted: Option<crate::runtime::StopSignal>,
    /// The components' named counts ([`crate::TaskContext::counter`]), each summed over every
    /// task that reported it, in whichever process the task ran.
    pub counters: std::collections::BTreeMap<String, u64>,
}

impl RunReport {
    /// The report of component `id`, if the topology has one.
    pub fn component(&self, id: &str) -> Option<&ComponentReport> {
        self.components.iter().find(|c| c.id == id)
    }

    /// Restarts over all components.
    pub fn restarts(&self) -> u64 {
        self.components.iter().map(|c| c.restarts).sum()
    }

    /// The sum of the counters named `name` ([`crate::TaskContext::counter`]); 0 when no task
    /// counted it.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }

    /// Replayed tuples over all components.
    pub fn replayed(&self) -> u64 {
        self.components.iter().map(|c| c.replayed).sum()
    }
}
