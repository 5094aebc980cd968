//! What a run tells about itself, while it runs and when it ends.
//!
//! - `metrics`: what a task measures about itself (metrics facade, execute latency, capacity,
//!   end-to-end latency).
//! - `latency_counts`: the per-tuple latency counts, a flat array with the buckets of an
//!   HdrHistogram, moved into a real histogram once per second.
//! - `live`: the counters progress displays read; `live_board`: each task's slot of live
//!   numbers, and the snapshots a watcher (the web UI) takes of them.
//! - `stats`: what a task reports to the controller (its events and final counters).
//! - `run_report`: what a completed run returns.

pub(crate) mod latency_counts;
pub(crate) mod live;
pub(crate) mod live_board;
pub(crate) mod metrics;
pub(crate) mod run_report;
pub(crate) mod stats;
