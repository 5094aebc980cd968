//! Settings of a run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::LiveCounters;

use super::guarantee::{Chaos, Guarantee, StateBackend, Supervision};

/// How a topology runs. Start from [`Config::default`] and change what you need.
///
/// ```
/// let mut config = squall::Config::default();
/// config.workers = 2;
/// config.batch_size = 256;
/// assert!(config.linger < std::time::Duration::from_millis(1));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Worker threads (actix arbiters) the tasks are spread over; default: one per core.
    pub workers: usize,
    /// Tuples per batch before a batch is sent.
    pub batch_size: usize,
    /// A partial batch waits at most this long while its task keeps busy; an idle task flushes
    /// at once.
    pub linger: Duration,
    /// Credits per link (producer task to consumer task): batches sent but not yet executed.
    pub max_batches_in_flight: usize,
    /// Encode and decode every batch with MessagePack at every hop (Storm's
    /// `topology.testing.always.try.serialize`), so serialization bugs surface in tests.
    pub always_serialize: bool,
    /// How long a spout that emitted nothing waits before it is polled again. Timers tick in
    /// whole milliseconds; zero polls again at once (a busy poll that still lets the worker's
    /// other tasks run), for fixed-rate sources whose latency must stay below a millisecond.
    pub idle_wait: Duration,
    /// Record end-to-end latency in HdrHistograms.
    pub track_latency: bool,
    /// How long a drain may take before the run is declared failed.
    pub drain_timeout: Duration,
    /// Input batches a bolt executes per wake-up before it yields to other messages (credits,
    /// timers), so a flooded task cannot starve its own control messages.
    pub batches_per_wake: usize,
    /// What the run promises about its data.
    pub guarantee: Guarantee,
    /// How failed tasks are restarted.
    pub supervision: Supervision,
    /// How often spouts inject checkpoint barriers (at-least-once and exactly-once).
    pub checkpoint_interval: Duration,
    /// Where checkpoints are kept.
    pub state_backend: StateBackend,
    /// Acker tasks keeping the XOR ledger of tuple trees (at-least-once); 0 acks every tuple
    /// right after it is emitted, as Storm does with zero ackers.
    pub ackers: usize,
    /// A tracked tuple tree not completed within this time fails (Storm's
    /// `topology.message.timeout.secs`); it fires between one and two timeouts after the emit.
    pub message_timeout: Duration,
    /// At most this many tracked trees per spout task; at the cap `next_tuple` is not called.
    pub max_spout_pending: Option<usize>,
    /// A tuple that failed this many times goes to the dead letters instead of being replayed.
    pub max_tuple_attempts: u32,
    /// Failure injection (tests and `--chaos-panic-rate`).
    pub chaos: Option<Chaos>,
    /// Update the `metrics` facade (counters, gauges, execute latency per task, see
    /// [`crate::report::metric_names`]) and keep an execute-latency histogram per bolt task.
    /// Updated once per batch, so the cost stays a few atomic adds per 1024 tuples.
    pub metrics: bool,
    /// Latency samples whose origin (emit time, or intended emit time for fixed-rate spouts)
    /// is earlier than this instant are not recorded: a benchmark's warm-up. `None` records all.
    pub measure_from: Option<Instant>,
    /// Tuples emitted and executed so far, added to once per batch, for progress displays.
    pub live: Option<Arc<LiveCounters>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch_size: 1024,
            linger: Duration::from_micros(200),
            max_batches_in_flight: 4,
            always_serialize: false,
            idle_wait: Duration::from_millis(1),
            track_latency: true,
            drain_timeout: Duration::from_secs(60),
            batches_per_wake: 8,
            guarantee: Guarantee::AtMostOnce,
            supervision: Supervision::default(),
            checkpoint_interval: Duration::from_secs(1),
            state_backend: StateBackend::Memory,
            ackers: 1,
            message_timeout: Duration::from_secs(30),
            max_spout_pending: None,
            max_tuple_attempts: 5,
            chaos: None,
            metrics: true,
            measure_from: None,
            live: None,
        }
    }
}
