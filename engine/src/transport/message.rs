//! The actor messages of the data plane and the control plane.

use actix::Message;

use super::Batch;
use crate::runtime::TaskRecord;

/// Data, a barrier or end-of-stream from one producer task, on one link of the consumer.
pub(crate) struct Inbound<T> {
    /// The consumer-side index of the link (producer task x subscription) it came on.
    pub link: u32,
    /// The generation the producer was in when it sent this: after a rollback the consumer
    /// drops whatever an older generation left in flight.
    pub gen: u64,
    pub payload: Payload<T>,
}

/// What travels on a link.
pub(crate) enum Payload<T> {
    /// Typed tuples (in-process hop).
    Batch(Batch<T>),
    /// A MessagePack-encoded batch (`always_serialize`).
    Encoded(Vec<u8>),
    /// Checkpoint barrier: everything before it on this link belongs to checkpoint `id`.
    Barrier(u64),
    /// The producer task will send nothing more on this link.
    Eos,
    /// The producer's event-time watermark moved to this value (sent alone when no batch was
    /// going out to carry it; see `Batch::marks`).
    Watermark(u64),
    /// The producer has been idle past its idle timeout: leave this link out of the minimum
    /// until it sends a watermark or a tuple again (Flink's `withIdleness`).
    Idle,
    /// The producer has emitted all it will unless something is replayed: its spouts are
    /// finished and wait only for acks (see `Bolt::end_of_input`).
    Drained,
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

/// How a task comes back after a failure somewhere in the topology.
#[derive(Debug, Clone)]
pub(crate) struct Restart {
    /// The generation the task enters; data of older generations is dropped.
    pub gen: u64,
    /// Throw the user instance away and build a fresh one from the factory.
    pub fresh: bool,
    /// Roll back: restore this state (`None`: initial state) and discard everything in
    /// flight. Without rollback (at-most-once) a fresh instance just starts empty.
    pub rollback: bool,
    /// The checkpoint rolled back to, if any completed.
    pub checkpoint: Option<u64>,
    /// The task's record in that checkpoint.
    pub record: Option<TaskRecord>,
    /// Restarts of this task so far, for `TaskContext::restarts`.
    pub restarts: u32,
}

/// Commands from the controller to a task.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub(crate) enum Control {
    /// Stop emitting (spouts) and drain: in-flight tuples finish, then the task ends.
    Drain,
    /// Come back after a failure (see [`Restart`]).
    Restart(Restart),
    /// Spouts: snapshot your position and inject barrier `id`.
    Checkpoint(u64),
    /// Spouts: as `Checkpoint`, then emit nothing more until a restart: checkpoint `id` then
    /// holds everything emitted (a savepoint to hand the run over from, with nothing to replay).
    Savepoint(u64),
    /// Checkpoint `id` is complete in every task.
    Committed(u64),
}
