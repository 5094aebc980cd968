//! Pending tuples of a replayable spout: what it keeps until a tuple tree is acked, and what it
//! emits again when one fails (at-least-once).
//!
//! Under [`Guarantee::AtLeastOnce`] the runtime tracks every tuple a spout emits with
//! [`SpoutCollector::emit_with_id`] and calls the spout's `ack(msg_id)` when its tree completes
//! or `fail(msg_id)` when it fails (a crash, an explicit fail, a timeout). [`Pending`] keeps a
//! copy of every tracked tuple until its ack, and replays failed ones in ascending message id
//! order, before anything new, so a consumer that needs per-key order (each sensor's seqs
//! ascending) sees replays in the order they were first emitted. Under the other guarantees it
//! keeps nothing: exactly-once rewinds the spout to a checkpointed position instead.
//!
//! ```
//! use squall::{Guarantee, TaskContext};
//! use squall_connectors::replay::Pending;
//!
//! let mut pending = Pending::<String>::new();
//! let ctx = TaskContext::new("t", "lines", 0, 1).with_recovery(Guarantee::AtLeastOnce, 0);
//! pending.open(&ctx);
//! assert!(pending.is_tracking());
//! pending.track(1, "first".to_string());
//! pending.track(2, "second".to_string());
//! pending.fail(2);
//! pending.ack(1);
//! assert_eq!(pending.next_replay(), Some((2, vec!["second".to_string()])));
//! assert_eq!(pending.len(), 1); // still pending until acked
//! ```
//!
//! [`Drill`] exercises a replayable spout's recovery hooks in a test: it snapshots and rewinds
//! the spout partway and fails chosen message ids once, so what a consumer receives can be
//! compared with the spout's uninterrupted output.
//!
//! [`Guarantee::AtLeastOnce`]: squall::Guarantee::AtLeastOnce
//! [`SpoutCollector::emit_with_id`]: squall::SpoutCollector::emit_with_id

mod drill;
mod pending;

pub use drill::Drill;
pub use pending::Pending;
