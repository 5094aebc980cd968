//! How a topology runs: one actix actor per task, spread over one arbiter (thread) per worker.
//!
//! # Layout
//!
//! Five folders, from the plain task core up to the run as a whole:
//!
//! - `core/`: the task core, plain structs without actix that a test can drive:
//!   - `core::ack_tracker`: one task's side of the tuple trees: anchors, edge ids, the XOR of
//!     each ack, and the acks a stateful bolt holds until a checkpoint. Collectors and
//!     executors call it instead of touching anchors themselves.
//!   - `core::outbox`: everything a task emits, in layers: route (groupings, `router`) ->
//!     batch (one lazily allocated open batch per consumer task, sent when full or after the
//!     linger) -> credited link (at most `max_batches_in_flight` batches in flight per link,
//!     the rest pending, barriers and end-of-stream queued behind data) over a `Link`.
//!   - `core::inbox`: a bolt task's queued input, with generations and barrier alignment.
//!   - `core::progress` (a spout's position, replays and commits), `core::failures` (a bolt's
//!     failed inputs: attempts across replays, dead letters) and `core::clock` (event time).
//!   - `core::hook`: user code runs under `catch_unwind`; a panic becomes an error naming the
//!     task. `core::chaos`: failure injection inside the bolt executor.
//!   - `core::bench_api` (re-exported as `runtime::bench_api`, hidden from the docs): drivers
//!     of the outbox and the inbox for the criterion benchmarks in `engine/benches/`.
//! - `actix/`: the shells that run the core as actors. `LocalLink` is the in-process `Link`
//!   into a consumer task's mailbox (a link to another process is another `Link`, with
//!   nothing above it changed). `spout_task` and `bolt_task` are the executors, each a folder:
//!   `mod.rs` for what the task does, `messages.rs` for the actix messages it answers. A spout
//!   task polls `next_tuple` while it has credit; a bolt task executes its inbox while its
//!   outputs have credit and returns one credit per executed batch. `task_core` is what both
//!   executors hold (identity, outbox, ack tracker, generation, phase, metrics) and the
//!   wiring, restart and reporting steps they share; `env` is what a task gets from the
//!   launch (context, config, the controller's channel, the ackers).
//! - `launch/`: starting a run. `local` is [`LocalCluster`]: it owns the actix `System` thread
//!   and the arbiters, and tears everything down at the end. `boot` starts the arbiters and
//!   the ackers, `start` starts every task and then wires it to its neighbours, `node` holds
//!   the type-erased components that start their tasks, `subscription` a bolt's typed
//!   subscriptions to its producers, `wire` the one-time message that connects a task, and
//!   `streams` the named output streams from declaration to wiring.
//! - `control/`: the control plane. `control_plane` is the controller's own thread, so
//!   restarts, checkpoints, timeouts and the drain happen whether or not the caller waits on
//!   the run; `controller` collects what tasks report; `supervisor` decides which tasks
//!   restart after a failure (restart intensity, backoff); `checkpoint` is the checkpoint
//!   coordinator (barriers, the records of every task, the state backend); `acker` is Storm's
//!   XOR ledger of tuple trees (at-least-once), as actors beside the tasks; `signal` turns
//!   SIGINT and SIGTERM into flags, so that the first one drains a run
//!   ([`LocalCluster::run_until_signal`]) and a second one ends the process.
//! - `observability/`: what a run tells about itself. `metrics` and `live`: what a task
//!   measures about itself (metrics facade, execute latency, capacity, end-to-end latency)
//!   and the counters progress displays read; `latency_counts`: the per-tuple latency
//!   counts; `live_board`: each task's slot of live numbers, and the snapshots a watcher (the
//!   web UI) takes of them; `stats`: what a task reports to the controller; `run_report`: what
//!   a completed run returns.
//!
//! The rest of the crate uses the runtime through the names re-exported here, never through
//! these folders (the distributed runner, which boots parts of a run itself, is the one
//! exception).
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

pub(crate) mod actix;
pub(crate) mod control;
pub(crate) mod core;
pub(crate) mod launch;
pub(crate) mod observability;

#[doc(hidden)]
pub use core::bench_api;

pub(crate) use control::acker::AckOp;
pub(crate) use control::checkpoint::TaskRecord;
pub use control::signal::{catch_stop_signals, stop_requested, StopSignal};
pub(crate) use core::AckTracker;
pub(crate) use core::Output;
pub(crate) use core::SpoutClock;
pub use launch::local::{LocalCluster, RunningTopology};
pub(crate) use launch::node::{BoltNode, Node, SpoutNode};
pub(crate) use launch::streams::StreamDecl;
pub(crate) use launch::subscription::{Convert, Subscription};
pub use observability::live::LiveCounters;
pub use observability::live_board::{LiveComponent, LiveSnapshot};
pub use observability::run_report::{ComponentReport, DeadLetter, RunReport};
