//! The handles user code emits through.
//!
//! A collector borrows the task's output side for the duration of one hook call. Emitting only
//! appends to a per-target batch; batches travel when full, after the linger, or when the task
//! runs out of input.

use std::sync::Arc;
use std::time::Instant;

use super::{Anchor, MessageId, Tuple};
use crate::runtime::{AckTracker, Output, SpoutClock};
use crate::StreamRef;

/// Where the tuple being executed came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The producing component's id.
    pub component: Arc<str>,
    /// The stream it was emitted on (`"default"` unless named).
    pub stream: Arc<str>,
    /// The producing task's index.
    pub task: usize,
}

/// Why [`BoltCollector::emit_direct`] or [`SpoutCollector::emit_direct`] could not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectEmitError {
    /// No consumer subscribes to the stream with a direct grouping.
    #[error("no consumer subscribes to stream `{0}` with a direct grouping")]
    NoDirectConsumer(String),
    /// The stream was never declared by the component (with the emitted type).
    #[error(transparent)]
    UndeclaredStream(UndeclaredStream),
    /// The chosen task index is not a task of the consumer.
    #[error("task {task} is out of range: the consumer has {tasks} tasks")]
    TaskOutOfRange {
        /// The chosen task.
        task: usize,
        /// How many tasks the consumer has.
        tasks: usize,
    },
}

/// Emits from a spout's `next_tuple`.
pub struct SpoutCollector<'a, T: Tuple> {
    pub(crate) out: &'a mut Output<T>,
    pub(crate) origin: u64,
    pub(crate) epoch: Instant,
    /// Opens the tuple trees of emits with a message id and stamps their tuples.
    pub(crate) acks: &'a mut AckTracker,
    /// The spout's watermark generator, when it declared event time.
    pub(crate) clock: Option<&'a mut SpoutClock<T>>,
}

impl<T: Tuple> SpoutCollector<'_, T> {
    /// Before an emit with event time: a tuple behind the watermark carries the watermark in
    /// front of it, so its consumers judge its lateness exactly.
    #[inline]
    fn time_in(&mut self, value: &T) -> Option<u64> {
        let clock = self.clock.as_deref()?;
        let ts = clock.timestamp(value);
        if ts < self.out.watermark() {
            self.out.set_precise(true);
        }
        Some(ts)
    }

    /// After an emit with event time: the watermark takes the tuple into account.
    #[inline]
    fn time_out(&mut self, ts: Option<u64>, msg_id: Option<MessageId>) {
        let Some(clock) = self.clock.as_deref_mut() else {
            return;
        };
        self.out.set_precise(false);
        if let Some(ts) = ts {
            clock.emitted(ts, msg_id.filter(|_| self.acks.is_on()));
            self.out.set_watermark(clock.watermark());
        }
    }

    /// Emits on the default stream, untracked (no acking, no replay).
    pub fn emit(&mut self, value: T) {
        let ts = self.time_in(&value);
        self.out.emit(value, self.origin, self.acks.stamp(None));
        self.time_out(ts, None);
    }

    /// Emits on the default stream with a message id (consecutive emits with the same id in
    /// one `next_tuple` call form one tuple tree). Under at-least-once the spout's
    /// `ack(msg_id)` runs when the whole tuple tree completes, and `fail(msg_id)` when it fails
    /// (an explicit fail, a timeout, or a crash of a task holding part of it); the spout
    /// replays in `fail`. Without acking (the other guarantees, or zero ackers), `ack(msg_id)`
    /// runs right after `next_tuple` returns, as in Storm with zero ackers.
    pub fn emit_with_id(&mut self, value: T, msg_id: MessageId) {
        let ts = self.time_in(&value);
        self.acks.open_tree(msg_id);
        self.out.emit(value, self.origin, self.acks.stamp(None));
        self.acks.close_tree(msg_id);
        self.time_out(ts, Some(msg_id));
    }

    /// Emits on the default stream, measuring end-to-end latency from `intended` instead of now:
    /// a fixed-rate source passes the time the tuple was *meant* to be sent, so a stall is
    /// charged to every tuple it delayed (no coordinated omission).
    pub fn emit_at(&mut self, value: T, intended: Instant) {
        let origin = origin_of(self.epoch, intended);
        let ts = self.time_in(&value);
        self.out.emit(value, origin, self.acks.stamp(None));
        self.time_out(ts, None);
    }

    /// Emits on a named stream declared with [`crate::TopologyBuilder::declare_stream`],
    /// untracked: `stream` is a [`crate::StreamTag<U>`] (the compiler checks that `value` is a
    /// `U`) or the plain name of a stream of the spout's output type. A declared stream no
    /// consumer subscribed to drops the tuple, as in Storm; an undeclared one is an error.
    /// With event time, a tuple of the output type moves the watermark as a default-stream
    /// emit does; a tuple of another type has no timestamp and does not.
    ///
    /// ```
    /// # use squall::{ComponentError, Spout, SpoutCollector, StreamTag};
    /// const SKIPPED: StreamTag<String> = StreamTag::new("skipped");
    /// struct Lines(Vec<String>);
    /// impl Spout for Lines {
    ///     type Output = u64;
    ///     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
    ///         if let Some(line) = self.0.pop() {
    ///             match line.parse() {
    ///                 Ok(n) => out.emit(n),
    ///                 Err(_) => out.emit_to(&SKIPPED, line)?,
    ///             }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn emit_to<S: StreamRef<T>>(
        &mut self,
        stream: S,
        value: S::Item,
    ) -> Result<(), UndeclaredStream> {
        let ts = self.time_in_any(&value);
        let sent = self.out.emit_to(
            stream.stream_name(),
            value,
            self.origin,
            self.acks.stamp(None),
        );
        self.time_out(ts.filter(|_| sent.is_ok()), None);
        sent
    }

    /// Emits on a named stream (see [`SpoutCollector::emit_to`]) with a message id, tracked
    /// as [`SpoutCollector::emit_with_id`] tracks a default-stream emit: the tree's ack or fail
    /// comes back to the spout whichever streams its tuples took.
    pub fn emit_to_with_id<S: StreamRef<T>>(
        &mut self,
        stream: S,
        value: S::Item,
        msg_id: MessageId,
    ) -> Result<(), UndeclaredStream> {
        let ts = self.time_in_any(&value);
        self.acks.open_tree(msg_id);
        let sent = self.out.emit_to(
            stream.stream_name(),
            value,
            self.origin,
            self.acks.stamp(None),
        );
        self.acks.close_tree(msg_id);
        self.time_out(ts.filter(|_| sent.is_ok()), Some(msg_id));
        sent
    }

    /// `time_in` for a value of any type: only the output type has a timestamp.
    #[inline]
    fn time_in_any<U: Tuple>(&mut self, value: &U) -> Option<u64> {
        self.clock.as_ref()?;
        let value = (value as &dyn std::any::Any).downcast_ref::<T>()?;
        self.time_in(value)
    }

    /// Emits to one chosen task of every consumer that subscribed to the default stream with a
    /// direct grouping.
    pub fn emit_direct(&mut self, task: usize, value: T) -> Result<(), DirectEmitError> {
        let ts = self.time_in(&value);
        let sent = self
            .out
            .emit_direct(task, value, self.origin, self.acks.stamp(None));
        self.time_out(ts.filter(|_| sent.is_ok()), None);
        sent
    }

    /// Emits to one chosen task of every consumer that subscribed to the named stream
    /// `stream` with a direct grouping (Storm's `emitDirect(task, streamId, tuple)`).
    pub fn emit_direct_to<S: StreamRef<T>>(
        &mut self,
        stream: S,
        task: usize,
        value: S::Item,
    ) -> Result<(), DirectEmitError> {
        let ts = self.time_in_any(&value);
        let sent = self.out.emit_direct_to(
            stream.stream_name(),
            task,
            value,
            self.origin,
            self.acks.stamp(None),
        );
        self.time_out(ts.filter(|_| sent.is_ok()), None);
        sent
    }

    /// How many tuples this task has emitted so far.
    pub fn emitted(&self) -> u64 {
        self.out.emitted
    }
}

/// An emit on a stream the component never declared, or declared with another type than the
/// emitted value's (the tuple is not sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "emit of {type_name} on stream `{stream}`, which this component never declared with that type"
)]
pub struct UndeclaredStream {
    /// The stream name that was asked for.
    pub stream: String,
    /// The type of the value emitted.
    pub type_name: &'static str,
}

impl UndeclaredStream {
    pub(crate) fn new<U>(stream: &str) -> Self {
        UndeclaredStream {
            stream: stream.to_string(),
            type_name: std::any::type_name::<U>(),
        }
    }
}

/// Emits from a bolt's `execute` or `finish`.
pub struct BoltCollector<'a, T: Tuple> {
    pub(crate) out: &'a mut Output<T>,
    pub(crate) origin: u64,
    pub(crate) source: Option<&'a Source>,
    /// Anchors emits to the input being executed, and takes explicit acks and fails.
    pub(crate) acks: &'a mut AckTracker,
}

impl<T: Tuple> BoltCollector<'_, T> {
    /// Emits on the default stream, descending from the input being executed.
    pub fn emit(&mut self, value: T) {
        self.out.emit(value, self.origin, self.acks.stamp(None));
    }

    /// Emits on a named stream declared with [`crate::BoltDeclarer::declare_stream`],
    /// descending from the input being executed (anchored as [`BoltCollector::emit`] is).
    /// `stream` is a [`crate::StreamTag<U>`], and the compiler checks that `value` is a `U`,
    /// or the plain name of a stream of the bolt's output type. A declared stream no consumer
    /// subscribed to drops the tuple, as in Storm; an undeclared one is an error (returned
    /// with `?` from `execute`, it fails the input).
    ///
    /// ```
    /// # use squall::{Bolt, BoltCollector, ComponentError, StreamTag};
    /// /// Readings above the limit, as (sensor, value).
    /// const ALERTS: StreamTag<(u32, f64)> = StreamTag::new("alerts");
    /// struct Check;
    /// impl Bolt for Check {
    ///     type Input = (u32, f64);
    ///     type Output = f64;
    ///     fn execute(&mut self, (sensor, v): (u32, f64), out: &mut BoltCollector<'_, f64>) -> Result<(), ComponentError> {
    ///         if v > 100.0 {
    ///             out.emit_to(&ALERTS, (sensor, v))?;
    ///         }
    ///         out.emit(v);
    ///         Ok(())
    ///     }
    /// }
    /// ```
    #[inline]
    pub fn emit_to<S: StreamRef<T>>(
        &mut self,
        stream: S,
        value: S::Item,
    ) -> Result<(), UndeclaredStream> {
        self.out.emit_to(
            stream.stream_name(),
            value,
            self.origin,
            self.acks.stamp(None),
        )
    }

    /// Emits on a named stream (see [`BoltCollector::emit_to`]) anchored to every anchor in
    /// `anchors`, as [`BoltCollector::emit_anchored`] does on the default stream.
    pub fn emit_anchored_to<S: StreamRef<T>>(
        &mut self,
        stream: S,
        anchors: &mut [Anchor],
        value: S::Item,
    ) -> Result<(), UndeclaredStream> {
        self.out.emit_to(
            stream.stream_name(),
            value,
            self.origin,
            self.acks.stamp(Some(anchors)),
        )
    }

    /// Emits to one chosen task of every consumer that subscribed to the default stream with a
    /// direct grouping.
    pub fn emit_direct(&mut self, task: usize, value: T) -> Result<(), DirectEmitError> {
        self.out
            .emit_direct(task, value, self.origin, self.acks.stamp(None))
    }

    /// Emits to one chosen task of every consumer that subscribed to the named stream
    /// `stream` with a direct grouping (Storm's `emitDirect(task, streamId, tuple)`).
    pub fn emit_direct_to<S: StreamRef<T>>(
        &mut self,
        stream: S,
        task: usize,
        value: S::Item,
    ) -> Result<(), DirectEmitError> {
        self.out.emit_direct_to(
            stream.stream_name(),
            task,
            value,
            self.origin,
            self.acks.stamp(None),
        )
    }

    /// Takes the input tuple's anchor: the runtime will not ack the input when `execute`
    /// returns; ack or fail it later with [`BoltCollector::ack`] or [`BoltCollector::fail`].
    /// Emits after this call, until the next input, are not anchored unless made with
    /// [`BoltCollector::emit_anchored`]. Without acking the anchor is empty.
    pub fn anchor(&mut self) -> Anchor {
        self.acks.take_anchor()
    }

    /// Emits `value` on the default stream anchored to every anchor in `anchors`
    /// (multi-anchoring): a failure downstream fails, and replays, every root they belong to.
    pub fn emit_anchored(&mut self, anchors: &mut [Anchor], value: T) {
        self.out
            .emit(value, self.origin, self.acks.stamp(Some(anchors)));
    }

    /// Acks a tuple taken with [`BoltCollector::anchor`]: its tree completes once every tuple
    /// anchored to it is acked too.
    pub fn ack(&mut self, anchor: Anchor) {
        self.acks.ack(anchor);
    }

    /// Fails a tuple taken with [`BoltCollector::anchor`]: its spouts' `fail` runs at once.
    pub fn fail(&mut self, anchor: Anchor) {
        self.acks.fail(anchor);
    }

    /// Where the tuple being executed came from; `None` inside `finish`.
    pub fn source(&self) -> Option<&Source> {
        self.source
    }

    /// How many tuples this task has emitted so far.
    pub fn emitted(&self) -> u64 {
        self.out.emitted
    }
}

/// Nanoseconds from the topology's epoch to `at`; 0 means "no latency to record", so the
/// result is at least 1.
pub(crate) fn origin_of(epoch: Instant, at: Instant) -> u64 {
    let ns = at.saturating_duration_since(epoch).as_nanos();
    u64::try_from(ns).unwrap_or(u64::MAX).max(1)
}
