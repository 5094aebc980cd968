//! The processing side of a topology.

use super::{BoltCollector, State, TaskContext, Tuple};
use crate::ComponentError;

/// A processing step (Storm's `IBolt`). One instance runs per task, built by the factory given
/// to [`crate::TopologyBuilder::set_bolt`]; a restarted task gets a fresh instance.
///
/// Tuples emitted from `execute` descend from the input being executed: they inherit its emit
/// time (for end-to-end latency) and, with acking, its tuple tree.
pub trait Bolt: 'static {
    /// The type of the tuples this bolt consumes.
    type Input: Tuple;
    /// The type of the tuples this bolt emits (`()` for a sink).
    type Output: Tuple;

    /// Called once on the task before any tuple is executed.
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        let _ = ctx;
        Ok(())
    }

    /// Processes one input tuple.
    fn execute(
        &mut self,
        input: Self::Input,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError>;

    /// Bounded topologies: every input stream has ended; emit final aggregates here.
    /// Runs in topological order: a bolt's `finish` sees every tuple its producers emitted in
    /// theirs.
    fn finish(&mut self, out: &mut BoltCollector<'_, Self::Output>) -> Result<(), ComponentError> {
        let _ = out;
        Ok(())
    }

    /// Called once when the task shuts down.
    fn cleanup(&mut self) {}

    /// How often this bolt wants [`Bolt::on_tick`] (Storm's tick tuples,
    /// `TOPOLOGY_TICK_TUPLE_FREQ_SECS`); `None` (the default): never. Asked once per instance,
    /// after `prepare`. Ticks come from a timer of the task, so an idle bolt costs nothing
    /// between them.
    fn tick_interval(&self) -> Option<std::time::Duration> {
        None
    }

    /// A tick: periodic work (flush a rolling count, emit rankings). Runs between two
    /// `execute` calls, never while the task is crashed or finished; what it emits descends
    /// from no input (untracked).
    fn on_tick(&mut self, out: &mut BoltCollector<'_, Self::Output>) -> Result<(), ComponentError> {
        let _ = out;
        Ok(())
    }

    /// Every producer upstream has emitted all it will: the spouts are finished and, under
    /// at-least-once, wait only for their trees to be acked. A bolt that holds anchors (a
    /// join buffering tuples, a batch waiting to fill) acks or emits them here; without this
    /// their trees would complete only when the message timeout fails them, and `finish`,
    /// which comes after every tree is acked, would wait as long. Replays may follow (a
    /// failed tree); the hook then runs again once they are emitted.
    fn end_of_input(
        &mut self,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError> {
        let _ = out;
        Ok(())
    }

    /// The task's event-time watermark moved to `watermark` (the minimum over its inputs of
    /// their spouts' watermarks, see [`crate::window::Watermarks`]): no more tuples older
    /// than it are expected. Runs between two `execute` calls, in order with them; what it
    /// emits descends from no input and goes out ahead of the watermark, which the runtime
    /// then passes on downstream.
    fn on_watermark(
        &mut self,
        watermark: u64,
        out: &mut BoltCollector<'_, Self::Output>,
    ) -> Result<(), ComponentError> {
        let _ = (watermark, out);
        Ok(())
    }

    /// The bolt's state for a checkpoint; `None` (the default) marks a stateless bolt.
    ///
    /// Called between two `execute` calls when a checkpoint barrier has reached this task on
    /// every input (exactly-once: aligned; at-least-once: not aligned). In at-least-once mode
    /// the inputs executed before the snapshot are acked only once the checkpoint completes
    /// everywhere, so restored state never misses an acked tuple.
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(None)
    }

    /// Replaces the bolt's state with one taken by [`Bolt::snapshot`]; called on recovery,
    /// after `prepare`, before any input.
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let _ = state;
        Ok(())
    }

    /// Checkpoint `checkpoint` is complete in every task: a transactional sink makes the
    /// output it staged up to that checkpoint visible here.
    fn commit(&mut self, checkpoint: u64) -> Result<(), ComponentError> {
        let _ = checkpoint;
        Ok(())
    }
}
