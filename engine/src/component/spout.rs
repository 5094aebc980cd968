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

    /// True once the spout will emit nothing more unless a tree fails and it replays: its
    /// input is at its end, and acks may still be outstanding. The default is
    /// [`Spout::is_finished`]; a spout that stays unfinished until every tree is acked
    /// overrides it, so that bolts holding anchors are told to release them
    /// ([`crate::Bolt::end_of_input`]) instead of waiting for the message timeout.
    fn is_exhausted(&self) -> bool {
        self.is_finished()
    }

    /// The spout's position for a checkpoint (exactly-once): what it needs to rewind to this
    /// point. `None` (the default) marks a spout that cannot be rewound: a rollback restarts it
    /// with a fresh instance, from the beginning of its input.
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(None)
    }

    /// The spout's position for checkpoint `checkpoint`: what the runtime calls when it
    /// injects that checkpoint's barrier. The default returns [`Spout::snapshot`]; a spout that
    /// settles with its source in [`Spout::commit`] overrides it to note which of its emits
    /// precede the barrier. Checkpoints come in increasing order; one taken here may never
    /// complete (a failure abandons it), and then no `commit` names it.
    fn snapshot_for(&mut self, checkpoint: u64) -> Result<Option<State>, ComponentError> {
        let _ = checkpoint;
        self.snapshot()
    }

    /// Rewinds to a position taken by [`Spout::snapshot`]; called on recovery, after `open`.
    /// The checkpoint restored is complete: whatever was emitted before its snapshot counts as
    /// committed, even if its `commit` did not arrive.
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let _ = state;
        Ok(())
    }

    /// Checkpoint `checkpoint` is complete in every task (Flink's "checkpoint complete"
    /// notification, the spout's twin of [`crate::Bolt::commit`]): what this spout emitted
    /// before its [`Spout::snapshot_for`] of that checkpoint, or of an earlier one, will never
    /// be rolled back. A source that wants acknowledgements (a broker) gets them here under
    /// exactly-once, where `ack` runs right after emit and so means nothing.
    ///
    /// Called in increasing order, at most once per checkpoint, never before the checkpoint
    /// is complete, and never after `close`. A commit may be skipped when a later one follows
    /// (or a rollback restores a later checkpoint). Under exactly-once a spout that finishes
    /// (or is drained) is committed up to its last emit before its `close`: the runtime takes
    /// one more checkpoint first, as Flink takes a final checkpoint.
    fn commit(&mut self, checkpoint: u64) -> Result<(), ComponentError> {
        let _ = checkpoint;
        Ok(())
    }

    /// Exactly-once: true when this spout has nothing to emit and its source holds back more
    /// until what it emitted is acknowledged in [`Spout::commit`] (a broker's window of
    /// unacknowledged messages is full, or it may be). Asked when `next_tuple` emitted nothing;
    /// the runtime then takes a checkpoint at once rather than at the next interval. The
    /// default, false, suits sources that need no acknowledgement.
    fn awaits_commit(&self) -> bool {
        false
    }
}
