//! What tasks report to the controller.

use std::time::Instant;

use hdrhistogram::Histogram;

use super::run_report::DeadLetter;
use crate::report::Timeline;
use crate::runtime::control::checkpoint::TaskRecord;
use crate::runtime::control::supervisor::TaskRef;
use crate::RunError;

/// A task's counters, sent when it ends (again after each rollback that revives it).
pub(crate) struct TaskStats {
    pub emitted: u64,
    pub executed: u64,
    /// Tuple trees completed (spouts) .
    pub acked: u64,
    /// Tuples failed: by an `Err` from `execute`, a timeout, or a crash.
    pub failed: u64,
    /// Tuples emitted again because of a failure (replays and rewinds).
    pub replayed: u64,
    pub started: Instant,
    pub ended: Instant,
    /// End-to-end latency of the tuple trees that ended in this task, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Tuples given up on (at most a few per task are kept; `failed` counts them all).
    pub dead_letters: Vec<DeadLetter>,
    /// The same latency samples by the second of the run in which they were recorded.
    pub timeline: Timeline,
    /// Execute time per tuple (per-batch means), in nanoseconds; empty for spouts.
    pub execute: Histogram<u64>,
    /// The task's named counters ([`crate::TaskContext::counter`]), running totals.
    pub counters: Vec<(String, u64)>,
}

/// A task's message to the controller.
pub(crate) enum TaskEvent {
    /// The task finished in generation `gen`; `record` is its final checkpoint record
    /// (checkpointing modes only).
    Done {
        task: TaskRef,
        gen: u64,
        stats: Box<TaskStats>,
        record: Option<TaskRecord>,
    },
    /// A hook panicked (or a lifecycle hook returned an error): the task dropped its user
    /// instance and waits for the supervisor.
    Crashed {
        task: TaskRef,
        gen: u64,
        hook: &'static str,
        message: String,
        /// At least once: failing the trees the task lost (done already) replays all it lost,
        /// so restarting the task alone suffices; otherwise (it lost untracked tuples) every
        /// task rolls back.
        local: bool,
    },
    /// The task's record for checkpoint `checkpoint`.
    Snapshot {
        task: TaskRef,
        gen: u64,
        checkpoint: u64,
        record: TaskRecord,
    },
    /// An at-least-once spout has nothing more to emit for now but trees still open, whose
    /// acks wait for a checkpoint: better take one now than at the next interval.
    AwaitingAcks,
    /// An exactly-once spout waits on a commit: it is sealing (finished or drained, it closes
    /// once a checkpoint covering its last emit completes), or its source holds back input
    /// until what it emitted is acknowledged ([`crate::Spout::awaits_commit`]). Take a
    /// checkpoint now; unlike `AwaitingAcks` this does not make later ones back to back.
    AwaitingCommit,
    /// Something no restart can fix.
    Failed(RunError),
    /// From the run's handle: drain the topology (stop the spouts, finish what is in flight).
    Drain,
    /// From the run's handle: stop controlling the run (it is being torn down).
    Stop,
    /// From a distributed run's part: take a savepoint now (spouts stop emitting after its
    /// barrier) and send its id once it is complete.
    Savepoint(crossbeam_channel::Sender<u64>),
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
