//! The actix side of the runtime: what ties the task core to actors and mailboxes.
//!
//! - `local_link`: the in-process [`Link`](super::core::Link), a consumer task's mailbox.
//! - `spout_task` and `bolt_task`: the executors, one actor per task, thin shells over
//!   `TaskCore` and the core's structs; `messages.rs` in each holds the messages it answers.
//! - `task_core`: what both executors hold (identity, outbox, ack tracker, generation, phase,
//!   metrics) and the wiring, restart and reporting steps they share.
//! - `env`: what a task gets from the launch: its context, the config, the controller's
//!   channel and the ackers' addresses.

mod bolt_task;
pub(crate) mod env;
mod local_link;
mod spout_task;
pub(crate) mod task_core;

pub(crate) use bolt_task::{BoltFactory, BoltTask};
pub(crate) use local_link::LocalLink;
pub(crate) use spout_task::{SpoutFactory, SpoutTask, Wake};
