//! The actix side of the runtime: what ties the task core to actors and mailboxes.
//!
//! - `local_link`: the in-process [`Link`](super::core::Link), a consumer task's mailbox.

mod local_link;

pub(crate) use local_link::LocalLink;
