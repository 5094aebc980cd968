//! A link: how one producer task's payloads reach one consumer task.
//!
//! The outbox above it routes, batches and counts credits; a link only carries what it is
//! given, in order. The in-process link hands payloads to the consumer's actor
//! (`runtime::actix::LocalLink`); a link to another process implements the same trait and
//! feeds the credits its consumer returns into the same `Output::credit` call.

use crate::transport::message::Payload;

/// Carries payloads from one producer task to one consumer task, first in, first out.
///
/// Called once per batch (or barrier, or end-of-stream), never per tuple, so the dynamic
/// dispatch of `Box<dyn Link<T>>` costs nothing measurable.
pub(crate) trait Link<T>: Send {
    /// Sends `payload`, stamped with the producer's generation `gen` so the consumer can drop
    /// what a rolled-back generation left in flight. A data payload is sent only against a
    /// credit the outbox holds; barriers and end-of-stream need none.
    fn send(&mut self, gen: u64, payload: Payload<T>);
}
