//! The task core: plain structs that know nothing of actix, so a test can drive them.
//!
//! - `ack_tracker`: one task's side of the tuple trees (anchors, edge ids, held acks).
//! - `failures`: a bolt's failed inputs: attempts across replays, dead letters.
//! - `progress`: where a spout task is in its input (replays, rewinds, commits).
//! - `clock`: event time: a spout task's watermark generator and a bolt task's input
//!   watermark (the minimum over its links).
//! - `outbox`: everything a task emits, in layers: route, batch, credited [`Link`].
//! - `inbox`: a bolt task's queued input, with generations and barrier alignment.
//! - `hook`: user code runs under `catch_unwind`; a panic becomes an error naming the task.
//! - `chaos`: failure injection inside the bolt executor (`Config::chaos`).
//! - `bench_api`: drivers of the outbox and the inbox for the criterion benchmarks.

mod ack_tracker;
#[doc(hidden)]
pub mod bench_api;
pub(crate) mod chaos;
mod clock;
mod failures;
pub(crate) mod hook;
pub(crate) mod inbox;
mod outbox;
mod progress;

pub(crate) use ack_tracker::{AckTracker, Stamp};
pub(crate) use clock::{InputClock, SpoutClock};
pub(crate) use failures::Failures;
pub(crate) use outbox::{AnySide, Link, OutEdge, Output, StreamOut};
pub(crate) use progress::Progress;
