//! How tuples move between tasks.
//!
//! - [`Batch`]: tuples travel in batches, never one message per tuple (an actix message costs
//!   about 300 ns; a batch of 1024 amortises it to well under a nanosecond per tuple).
//! - [`codec`]: the MessagePack encoding of a batch, used at every byte boundary and at every
//!   hop when `always_serialize` is on.
//! - `message`: the actor messages: data, end-of-stream, and the credits that bound every edge.
//!
//! # Flow control
//!
//! actix mailboxes bound nothing (`do_send` always enqueues), so every link from a producer task
//! to a consumer task carries a fixed number of credits (`Config::max_batches_in_flight`). Sending
//! a batch spends one; the consumer returns it once the batch is executed. A producer with a
//! batch and no credit keeps it in its own small pending queue and stops taking input: a spout
//! is not polled, a bolt stops executing its inbox. So backpressure walks back to the spouts and
//! memory stays bounded by `links x credits x batch_size` tuples.

mod batch;
pub mod codec;
pub(crate) mod message;

pub use batch::Batch;
