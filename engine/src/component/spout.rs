//! The source side of a topology.

use super::{SpoutCollector, State, TaskContext, Tuple};
use crate::ComponentError;

/// Identifies a tracked spout tuple, so the spout can be told it was acked or failed
/// (a file offset, a broker sequence number, a counter).
pub type MessageId = u64;

/// A source of tuples (Storm's `ISpout`). One instance runs per task, built by the factory given
/// to [`crate::TopologyBuilder::set_spout`]; a restarted task gets a fresh instance.
///
/// `next_tuple` must not block: emit what is ready (zero, one or several tuples) and return.
/// While every downstream queue is full the runtime does not call it (backpressure).
///
/// A spout is *bounded* when [`Spout::is_finished`] can become true; a topology whose spouts have
/// all finished completes by itself once every in-flight tuple is processed.
pub trait Spout: 'static {
    /// The type of the tuples this spout emits.
    type Output: Tuple;

    /// Called once on the task before any other hook.
    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let _ = ctx;
        Ok(())
    }

    /// Emits the next tuples, if any are ready. Must not block.
    fn next_tuple(
        &mut self,
        out: &mut SpoutCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError>;

    /// The tuple tree emitted with `msg_id` was fully processed.
    fn ack(&mut self, msg_id: MessageId) {
        let _ = msg_id;
    }

    /// The tuple tree emitted with `msg_id` failed or timed out; the spout may replay it.
    fn fail(&mut self, msg_id: MessageId) {
        let _ = msg_id;
    }

    /// The spout is (re)activated and `next_tuple` will be called.
    fn activate(&mut self) {}

    /// The spout is deactivated: `next_tuple` will not be called until it is activated again.
    fn deactivate(&mut self) {}

    /// Called once when the task shuts down, if the spout opened successfully.
    fn close(&mut self) {}

    /// True once this spout will emit nothing more (a bounded source reached its end).
    fn is_finished(&self) -> bool {
        false
    }

    /// The spout's position for a checkpoint (exactly-once): what it needs to rewind to this
    /// point. `None` (the default) marks a spout that cannot be rewound.
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(None)
    }

    /// Rewinds to a position taken by [`Spout::snapshot`]; called on recovery, after `open`.
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let _ = state;
        Ok(())
    }
}
