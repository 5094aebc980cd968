//! Settings of a run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::LiveCounters;

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
            metrics: true,
            measure_from: None,
            live: None,
        }
    }
}
