//! The actor messages of the data plane.

use actix::Message;

use super::Batch;

/// Data or end-of-stream from one producer task, on one link of the consumer.
pub(crate) struct Inbound<T> {
    /// The consumer-side index of the link (producer task x subscription) it came on.
    pub link: u32,
    pub payload: Payload<T>,
}

/// What travels on a link.
pub(crate) enum Payload<T> {
    /// Typed tuples (in-process hop).
    Batch(Batch<T>),
    /// A MessagePack-encoded batch (`always_serialize`).
    Encoded(Vec<u8>),
    /// The producer task will send nothing more on this link.
    Eos,
}

impl<T: Send + 'static> Message for Inbound<T> {
    type Result = ();
}

/// One batch's worth of credit returned by a consumer task to a producer task.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub(crate) struct Credit {
    /// The producer's outgoing edge.
    pub edge: u32,
    /// The consumer task within that edge's targets.
    pub target: u32,
}

/// Commands from the controller to a task.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub(crate) enum Control {
    /// Stop emitting (spouts) and drain: in-flight tuples finish, then the task ends.
    Drain,
}
