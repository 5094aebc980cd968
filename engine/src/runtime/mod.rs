//! How a topology runs: one actix actor per task, spread over one arbiter (thread) per worker.
//!
//! # Layout
//!
//! - `local`: [`LocalCluster`]. It owns the actix `System` thread and the arbiters, and tears
//!   everything down at the end.
//! - `control_plane`: the controller's own thread, so restarts, checkpoints, timeouts and the
//!   drain happen whether or not the caller waits on the run.
//! - `controller`: collects what tasks report, and holds the
//!   `supervisor` (which tasks restart after a failure, restart intensity, backoff) and the
//!   `checkpoint` coordinator (barriers, the records of every task, the state backend).
//! - `acker`: Storm's XOR ledger of tuple trees (at-least-once), as actors beside the tasks.
//! - `core`: the task core, plain structs without actix that a test can drive:
//!   - `core::ack_tracker`: one task's side of the tuple trees: anchors, edge ids, the XOR of
//!     each ack, and the acks a stateful bolt holds until a checkpoint. Collectors and
//!     executors call it instead of touching anchors themselves.
//!   - `core::outbox`: everything a task emits, in layers: route (groupings, `router`) ->
//!     batch (one lazily allocated open batch per consumer task, sent when full or after the
//!     linger) -> credited link (at most `max_batches_in_flight` batches in flight per link,
//!     the rest pending, barriers and end-of-stream queued behind data) over a `Link`.
//!   - `core::progress` (a spout's position, replays and commits) and `core::failures` (a
//!     bolt's failed inputs: attempts across replays, dead letters).
//! - `actix`: the shells that run the core as actors. `LocalLink` is the in-process `Link`
//!   into a consumer task's mailbox (a link to another process is another `Link`, with
//!   nothing above it changed). `spout_task` and `bolt_task` are the executors, each a folder:
//!   `mod.rs` for what the task does, `messages.rs` for the actix messages it answers. A spout
//!   task polls `next_tuple` while it has credit; a bolt task executes its inbox while its
//!   outputs have credit and returns one credit per executed batch.
//! - `task_core`: what both executors hold (identity, outbox, ack tracker, generation, phase,
//!   metrics) and the wiring, restart and reporting steps they share; each executor keeps
//!   only what differs beside it.
//! - `inbox`: a bolt task's queued input, with generations and barrier alignment.
//! - `chaos`: failure injection inside the executor.
//! - `launch` and `node`: start every task, then wire it to its neighbours.
//! - `hook`: user code runs under `catch_unwind`; a panic becomes an error naming the task.
//! - `metrics` and `live`: what a task measures about itself (metrics facade, execute latency,
//!   capacity, end-to-end latency) and the counters progress displays read; `live_board`: each
//!   task's slot of live numbers, and the snapshots a watcher (the web UI) takes of them.
//! - `run_report`: what a completed run returns.
//! - `signal`: SIGINT and SIGTERM as flags, so that the first one drains a run
//!   ([`LocalCluster::run_until_signal`]) and a second one ends the process.
//!
//! # Failures
//!
//! A panic in a hook never ends the actor: the task drops its user instance and reports the
//! crash; after the supervisor's backoff it gets a `Restart` (a fresh instance from its
//! factory), with the same address and links, so no producer notices. At most once, that is
//! all: the tuple in hand is lost. In the checkpointing modes every task also rolls back to the
//! last complete checkpoint: the generation goes up, whatever an older generation left in
//! flight is dropped (its credits still return), stateful bolts `restore`; exactly once the
//! spouts rewind to their checkpointed position, at least once they keep going and fail every
//! open tree at once, so the spout replays it.
//!
//! # End of stream
//!
//! A finished spout flushes and sends end-of-stream on every link. A bolt task that has seen
//! end-of-stream on all of its input links (after every batch before it, since a link is FIFO)
//! runs `finish`, flushes, and passes end-of-stream on. So `finish` hooks run in topological
//! order and a bounded topology completes by itself.

pub(crate) mod acker;
mod actix;
pub(crate) mod boot;
mod chaos;
pub(crate) mod checkpoint;
pub(crate) mod control_plane;
pub(crate) mod controller;
pub(crate) mod core;
mod env;
mod hook;
mod inbox;
mod latency_counts;
pub(crate) mod launch;
mod live;
mod live_board;
pub(crate) mod local;
mod metrics;
pub(crate) mod node;
mod run_report;
mod signal;
pub(crate) mod stats;
mod streams;
mod supervisor;
mod task_core;
pub(crate) mod wire;

pub(crate) use acker::AckOp;
pub(crate) use checkpoint::TaskRecord;
pub(crate) use core::AckTracker;
pub(crate) use core::Output;
pub(crate) use core::SpoutClock;
pub use live::LiveCounters;
pub use live_board::{LiveComponent, LiveSnapshot};
pub use local::{LocalCluster, RunningTopology};
pub(crate) use node::{BoltNode, Convert, Node, SpoutNode, Subscription};
pub use run_report::{ComponentReport, DeadLetter, RunReport};
pub use signal::{catch_stop_signals, stop_requested, StopSignal};
pub(crate) use streams::StreamDecl;
