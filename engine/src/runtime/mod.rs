//! How a topology runs: one actix actor per task, spread over one arbiter (thread) per worker.
//!
//! # Layout
//!
//! - `local`: [`LocalCluster`], the controller. It owns the actix `System` thread and the
//!   arbiters, waits for tasks to report their end, and tears everything down.
//! - `launch` and `node`: start every task, then wire it to its neighbours.
//! - `spout_task` and `bolt_task`: the executors. A spout task polls `next_tuple` while it has
//!   credit; a bolt task executes its inbox while its outputs have credit and returns one credit
//!   per executed batch.
//! - `output` and `router`: the output side of a task: groupings, per-target batches, credits.
//! - `hook`: user code runs under `catch_unwind`; a panic becomes an error naming the task.
//! - `metrics` and `live`: what a task measures about itself (metrics facade, execute latency,
//!   capacity, end-to-end latency) and the counters progress displays read.
//! - `run_report`: what a completed run returns.
//!
//! # End of stream
//!
//! A finished spout flushes and sends end-of-stream on every link. A bolt task that has seen
//! end-of-stream on all of its input links (after every batch before it, since a link is FIFO)
//! runs `finish`, flushes, and passes end-of-stream on. So `finish` hooks run in topological
//! order and a bounded topology completes by itself.

mod acker;
mod bolt_task;
mod chaos;
mod checkpoint;
mod controller;
mod env;
mod hook;
mod inbox;
mod latency_counts;
mod launch;
mod live;
mod local;
mod metrics;
mod node;
mod output;
mod router;
mod run_report;
mod spout_task;
mod stats;
mod supervisor;
mod wire;

pub(crate) use acker::AckOp;
pub(crate) use checkpoint::TaskRecord;
pub use live::LiveCounters;
pub use local::{LocalCluster, RunningTopology};
pub(crate) use node::{BoltNode, Node, SpoutNode, Subscription};
pub(crate) use output::Output;
pub use run_report::{ComponentReport, DeadLetter, RunReport};
