//! The task core: plain structs that know nothing of actix, so a test can drive them.
//!
//! - `ack_tracker`: one task's side of the tuple trees (anchors, edge ids, held acks).

mod ack_tracker;

pub(crate) use ack_tracker::{AckTracker, Stamp};
