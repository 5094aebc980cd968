//! The outbox: everything a task emits, in three layers.
//!
//! 1. Route (`router`): per edge (one subscription), the grouping picks the consumer tasks.
//! 2. Batch (`lane`): per consumer task, one open batch, sent when full, or when the task
//!    flushes because its input ran dry or the linger passed.
//! 3. Credited link (`credited`, over a [`Link`]): a batch goes out only against credit; one
//!    without waits in a pending queue, and the task counts as *blocked* until credit returns.
//!    Barriers and end-of-stream wait in the same queue, so they never overtake data.
//!
//! # Memory bound
//!
//! Per link, at most `credits` batches are in flight, and the pending queue holds what one
//! emit call made past that: a task checks [`Output::is_blocked`] after every input tuple (a
//! bolt) or `next_tuple` call (a spout) and takes no more input while it is blocked. So a
//! link holds at most `credits + ceil(f / batch_size) + 1` batches, where `f` is the most
//! tuples one input sends to that link, whatever the consumer's speed.

mod credited;
mod lane;
mod link;
mod router;
mod side;
mod stream_out;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Stamp;
use crate::component::{DirectEmitError, Tuple, UndeclaredStream};
use crate::topology::{Grouping, DEFAULT_STREAM};
use lane::Shared;
pub(crate) use link::Link;
pub(crate) use side::AnySide;
use stream_out::Ctl;
pub(crate) use stream_out::StreamOut;

/// One subscription to a stream of this task, with a link to each consumer task.
pub(crate) struct OutEdge<T> {
    /// The edge's index among all of the producer's edges (every stream's), as the
    /// consumers' credits name it.
    pub id: u32,
    pub grouping: Grouping<T>,
    /// One link per consumer task, in task order.
    pub links: Vec<Box<dyn Link<T>>>,
    /// The worker each consumer task runs on (for `local_or_shuffle`).
    pub target_workers: Vec<usize>,
}

/// Everything a task emits goes through here: the default stream, typed by the component's
/// output, and the named streams it declared, each typed by its declaration.
pub(crate) struct Output<T: Tuple> {
    main: StreamOut<T>,
    /// The named streams, in declaration order (subscribed or not: emitting on a declared
    /// stream nobody subscribed to drops the tuple, as in Storm).
    sides: Vec<Box<dyn AnySide>>,
    /// The sides' names, apart so that finding one is a scan of a short slice.
    side_names: Vec<Arc<str>>,
    /// Per producer-wide edge index: its stream (0: default, `k + 1`: side `k`) and its index
    /// within that stream. Credits arrive by edge index, once per batch.
    credit_map: Vec<(u32, u32)>,
    /// Settings and counters the lanes of every stream share.
    shared: Shared,
    /// When the open batches started waiting to be sent (for the linger).
    partial_since: Option<Instant>,
    /// Scratch for a grouping that picks several consumer tasks.
    many: Vec<usize>,
    /// The watermark every lane was brought up to at the last sync.
    wm_synced: u64,
    /// Tuples emitted by this task's user code, on every stream.
    pub(crate) emitted: u64,
}

/// The side named `name` when it carries `U`.
#[inline]
fn find_side<'a, U: Tuple>(
    names: &[Arc<str>],
    sides: &'a mut [Box<dyn AnySide>],
    name: &str,
) -> Option<&'a mut StreamOut<U>> {
    let k = names.iter().position(|n| **n == *name)?;
    sides[k].as_any_mut().downcast_mut::<StreamOut<U>>()
}

impl<T: Tuple> Output<T> {
    /// An output with no subscribers (a sink, or a task not yet wired).
    pub(crate) fn unwired(batch_size: usize) -> Self {
        Output {
            main: StreamOut::new(DEFAULT_STREAM.into(), Vec::new(), 0, 0, 0),
            sides: Vec::new(),
            side_names: Vec::new(),
            credit_map: Vec::new(),
            shared: Shared {
                batch_size,
                encode: false,
                blocked: 0,
                buffered: 0,
                failure: None,
                gen: 0,
                wm: 0,
                precise: false,
            },
            wm_synced: 0,
            partial_since: None,
            many: Vec::new(),
            emitted: 0,
        }
    }

    /// The output of a lone producer task with one edge, `grouping` over `links` (one per
    /// consumer task, all on worker 0), no named streams and no encoding: what the unit tests
    /// and the benchmark drivers drive.
    pub(crate) fn single_edge(
        grouping: Grouping<T>,
        links: Vec<Box<dyn Link<T>>>,
        batch_size: usize,
        credits: usize,
    ) -> Self {
        let edge = OutEdge {
            id: 0,
            grouping,
            target_workers: vec![0; links.len()],
            links,
        };
        Output::new(vec![edge], Vec::new(), 0, 0, batch_size, credits, false)
    }

    /// Builds the output of producer task `task` (on `worker`) from the edges of its default
    /// stream and its named streams (`sides`, built for this task); each link starts with
    /// `credits` batches of credit.
    pub(crate) fn new(
        edges: Vec<OutEdge<T>>,
        sides: Vec<Box<dyn AnySide>>,
        task: usize,
        worker: usize,
        batch_size: usize,
        credits: usize,
        encode: bool,
    ) -> Self {
        let mut out = Output::unwired(batch_size);
        out.shared.encode = encode;
        out.main = StreamOut::new(DEFAULT_STREAM.into(), edges, task, worker, credits);
        let mut ids: Vec<(u32, u32, u32)> = Vec::new();
        ids.extend(
            out.main
                .edges
                .iter()
                .enumerate()
                .map(|(l, e)| (e.id, 0, l as u32)),
        );
        for (k, side) in sides.iter().enumerate() {
            let ids_of = side.edge_ids().into_iter().enumerate();
            ids.extend(ids_of.map(|(l, id)| (id, k as u32 + 1, l as u32)));
        }
        let len = ids
            .iter()
            .map(|&(id, _, _)| id as usize + 1)
            .max()
            .unwrap_or(0);
        out.credit_map = vec![(u32::MAX, 0); len];
        for (id, stream, local) in ids {
            out.credit_map[id as usize] = (stream, local);
        }
        out.side_names = sides.iter().map(|s| Arc::from(s.name())).collect();
        out.sides = sides;
        out
    }

    /// Routes one tuple to every edge of the default stream; `stamp` (acking on) gives each
    /// copy its place in the tuple trees.
    #[inline]
    pub(crate) fn emit(&mut self, value: T, origin: u64, stamp: Option<Stamp<'_>>) {
        self.emitted += 1;
        self.main
            .emit(value, origin, &mut self.shared, &mut self.many, stamp);
    }

    /// Routes one tuple to every edge of the named stream `name`, which must have been
    /// declared with type `U` (the default stream too is found by its name, for `U = T`).
    #[inline]
    pub(crate) fn emit_to<U: Tuple>(
        &mut self,
        name: &str,
        value: U,
        origin: u64,
        stamp: Option<Stamp<'_>>,
    ) -> Result<(), UndeclaredStream> {
        match find_side::<U>(&self.side_names, &mut self.sides, name) {
            Some(side) => {
                self.emitted += 1;
                side.emit(value, origin, &mut self.shared, &mut self.many, stamp);
                Ok(())
            }
            None => match as_output::<T, U>(name, value) {
                Some(value) => {
                    self.emit(value, origin, stamp);
                    Ok(())
                }
                None => Err(UndeclaredStream::new::<U>(name)),
            },
        }
    }

    /// Sends `value` to task `task` of every direct-grouped consumer of the default stream.
    pub(crate) fn emit_direct(
        &mut self,
        task: usize,
        value: T,
        origin: u64,
        stamp: Option<Stamp<'_>>,
    ) -> Result<(), DirectEmitError> {
        self.main
            .emit_direct(task, value, origin, &mut self.shared, stamp)?;
        self.emitted += 1;
        Ok(())
    }

    /// Sends `value` to task `task` of every direct-grouped consumer of the named stream
    /// `name`, declared with type `U`.
    pub(crate) fn emit_direct_to<U: Tuple>(
        &mut self,
        name: &str,
        task: usize,
        value: U,
        origin: u64,
        stamp: Option<Stamp<'_>>,
    ) -> Result<(), DirectEmitError> {
        match find_side::<U>(&self.side_names, &mut self.sides, name) {
            Some(side) => side.emit_direct(task, value, origin, &mut self.shared, stamp)?,
            None => match as_output::<T, U>(name, value) {
                Some(value) => {
                    return self.emit_direct(task, value, origin, stamp);
                }
                None => {
                    let e = UndeclaredStream::new::<U>(name);
                    return Err(DirectEmitError::UndeclaredStream(e));
                }
            },
        }
        self.emitted += 1;
        Ok(())
    }

    /// A batch that could not be encoded since the last call: the task reports it and fails.
    pub(crate) fn take_failure(&mut self) -> Option<String> {
        self.shared.failure.take()
    }

    /// True while some link waits for credit: the task must not take more input.
    #[inline]
    pub(crate) fn is_blocked(&self) -> bool {
        self.shared.blocked > 0
    }

    /// The task's watermark moved to `wm` (it never goes back): it goes to each consumer in
    /// front of the next tuple that needs it, with the next batch, or at the next sync.
    #[inline]
    pub(crate) fn set_watermark(&mut self, wm: u64) {
        if wm > self.shared.wm {
            self.shared.wm = wm;
        }
    }

    /// The watermark to propagate (0: none).
    pub(crate) fn watermark(&self) -> u64 {
        self.shared.wm
    }

    /// Whether the next emits carry the watermark in front of them (see `Shared::precise`).
    #[inline]
    pub(crate) fn set_precise(&mut self, precise: bool) {
        self.shared.precise = precise;
    }

    /// Brings every consumer up to the watermark: in its open batch when it has one (it
    /// travels with that batch), else alone now (no credit needed, behind any pending data).
    pub(crate) fn sync_watermark(&mut self) {
        if self.shared.wm <= self.wm_synced {
            return;
        }
        self.wm_synced = self.shared.wm;
        self.main.sync_watermark(&self.shared);
        for side in &mut self.sides {
            side.sync_watermark(&self.shared);
        }
    }

    /// Tells every consumer this task has emitted all it will, barring replays (after what
    /// is open).
    pub(crate) fn end_of_input(&mut self) {
        self.flush();
        self.broadcast(Ctl::Drained);
    }

    /// Tells every consumer this task is idle (see `Payload::Idle`), after what is open.
    pub(crate) fn idle(&mut self) {
        self.flush();
        self.broadcast(Ctl::Idle);
    }

    /// Sends every open batch (as far as credit allows; the rest waits in pending), and the
    /// watermark to every consumer behind it.
    pub(crate) fn flush(&mut self) {
        self.partial_since = None;
        self.sync_watermark();
        if self.shared.buffered == 0 {
            return;
        }
        self.main.flush(&mut self.shared);
        for side in &mut self.sides {
            side.flush(&mut self.shared);
        }
    }

    /// At the end of a wake-up that left open batches: they wait for more tuples at most
    /// `linger` after `now` first saw them, then go out part full.
    pub(crate) fn linger(&mut self, now: Instant, linger: Duration) {
        if self.shared.buffered == 0 {
            self.partial_since = None;
            return;
        }
        match self.partial_since {
            None => self.partial_since = Some(now),
            Some(since) if now.saturating_duration_since(since) >= linger => self.flush(),
            Some(_) => {}
        }
    }

    /// Flushes, then queues end-of-stream on every link.
    pub(crate) fn finish(&mut self) {
        self.flush();
        self.broadcast(Ctl::Eos);
    }

    /// Flushes, then queues checkpoint barrier `id` on every link, behind the data before it.
    pub(crate) fn barrier(&mut self, id: u64) {
        self.flush();
        self.broadcast(Ctl::Barrier(id));
    }

    /// Sends a control payload (no credit needed) on every link of every stream, or queues
    /// it behind the link's pending batches.
    fn broadcast(&mut self, ctl: Ctl) {
        self.main.control(self.shared.gen, ctl);
        for side in &mut self.sides {
            side.control(self.shared.gen, ctl);
        }
    }

    /// Enters generation `gen` after a rollback: everything not yet sent is dropped, and the
    /// watermark starts over (the task sets the one it restored). Credits
    /// stay as they are: a dropped batch never took one, and the consumers return the credit
    /// of every batch in flight, whether they execute it or drop it.
    pub(crate) fn reset(&mut self, gen: u64) {
        self.shared.gen = gen;
        self.shared.blocked = 0;
        self.shared.buffered = 0;
        self.shared.failure = None;
        self.shared.wm = 0;
        self.wm_synced = 0;
        self.partial_since = None;
        self.main.reset();
        for side in &mut self.sides {
            side.reset();
        }
    }

    /// True when nothing waits for credit (after `finish`: everything, end-of-stream included,
    /// has been sent).
    pub(crate) fn is_drained(&self) -> bool {
        self.shared.blocked == 0
    }

    /// A consumer returned one credit for producer-wide edge `edge`. Returns true if that
    /// unblocked the task.
    pub(crate) fn credit(&mut self, edge: u32, target: u32) -> bool {
        let Some(&(stream, local)) = self.credit_map.get(edge as usize) else {
            return false;
        };
        let shared = &mut self.shared;
        match stream {
            0 => self.main.credit(local as usize, target, shared),
            k => self
                .sides
                .get_mut(k as usize - 1)
                .is_some_and(|s| s.credit(local as usize, target, shared)),
        }
    }

    /// Batches and control payloads waiting for credit, over every link.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.main.pending() + self.sides.iter().map(|s| s.pending()).sum::<usize>()
    }

    /// Lanes of the default stream holding an allocated open batch.
    #[cfg(test)]
    pub(crate) fn allocated_lanes(&self) -> usize {
        self.main.allocated_lanes()
    }
}

/// `value` as the component's output type, when `name` is the default stream and `U` is that
/// type: `emit_to("default", v)` is a plain emit, as in Storm.
#[inline]
fn as_output<T: Tuple, U: Tuple>(name: &str, value: U) -> Option<T> {
    if name != DEFAULT_STREAM {
        return None;
    }
    let mut slot = Some(value);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<T>>()
        .and_then(Option::take)
}
