//! The actix side of the runtime: what ties the task core to actors and mailboxes.
//!
//! - `local_link`: the in-process [`Link`](super::core::Link), a consumer task's mailbox.
//! - `spout_task` and `bolt_task`: the executors, one actor per task, thin shells over
//!   `TaskCore` and the core's structs; `messages.rs` in each holds the messages it answers.

mod bolt_task;
mod local_link;
mod spout_task;

pub(crate) use bolt_task::{BoltFactory, BoltTask};
pub(crate) use local_link::LocalLink;
pub(crate) use spout_task::{SpoutFactory, SpoutTask, Wake};
