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
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Stamp;
use crate::component::{DirectEmitError, Tuple};
use crate::topology::{Grouping, DEFAULT_STREAM};
use credited::Credited;
use lane::{Lane, Shared, Shipper};
pub(crate) use link::Link;
use router::Router;

use crate::transport::message::Payload;
use crate::transport::Batch;

/// One subscription to this task's output, with a link to each consumer task.
pub(crate) struct OutEdge<T> {
    /// The stream subscribed to.
    pub stream: Arc<str>,
    pub grouping: Grouping<T>,
    /// One link per consumer task, in task order.
    pub links: Vec<Box<dyn Link<T>>>,
    /// The worker each consumer task runs on (for `local_or_shuffle`).
    pub target_workers: Vec<usize>,
}

struct Edge<T> {
    router: Router<T>,
    lanes: Vec<Lane<T>>,
}

/// Everything a task emits goes through here.
pub(crate) struct Output<T: Tuple> {
    edges: Vec<Edge<T>>,
    /// Stream name and the edges subscribed to it; index 0 is the default stream.
    streams: Vec<(Arc<str>, Vec<usize>)>,
    /// Settings and counters the lanes share.
    shared: Shared,
    /// When the open batches started waiting to be sent (for the linger).
    partial_since: Option<Instant>,
    /// Scratch for a grouping that picks several consumer tasks.
    many: Vec<usize>,
    /// The watermark every lane was brought up to at the last sync.
    wm_synced: u64,
    /// Tuples emitted by this task's user code.
    pub(crate) emitted: u64,
}

impl<T: Tuple> Output<T> {
    /// An output with no subscribers (a sink, or a task not yet wired).
    pub(crate) fn unwired(batch_size: usize) -> Self {
        Output {
            edges: Vec::new(),
            streams: vec![(DEFAULT_STREAM.into(), Vec::new())],
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

    /// Builds the output of producer task `task` (on `worker`) from its edges, in the order the
    /// consumers' credits refer to them; each link starts with `credits` batches of credit.
    pub(crate) fn new(
        edges: Vec<OutEdge<T>>,
        task: usize,
        worker: usize,
        batch_size: usize,
        credits: usize,
        encode: bool,
    ) -> Self {
        let mut out = Output::unwired(batch_size);
        out.shared.encode = encode;
        for (e, edge) in edges.into_iter().enumerate() {
            let router = Router::new(&edge.grouping, task, worker, &edge.target_workers);
            let lanes = edge
                .links
                .into_iter()
                .map(|link| Lane::new(Credited::new(link, credits)))
                .collect();
            out.edges.push(Edge { router, lanes });
            match out
                .streams
                .iter_mut()
                .find(|(name, _)| *name == edge.stream)
            {
                Some((_, edges)) => edges.push(e),
                None => out.streams.push((edge.stream, vec![e])),
            }
        }
        out
    }

    /// Gives each declared stream an index, subscribed or not: emitting on a declared stream
    /// nobody subscribed to drops the tuple (as in Storm), on an undeclared one is an error.
    pub(crate) fn declare(&mut self, declared: &[Arc<str>]) {
        for name in declared {
            if !self.streams.iter().any(|(n, _)| n == name) {
                self.streams.push((name.clone(), Vec::new()));
            }
        }
    }

    /// The index of a declared or subscribed stream.
    pub(crate) fn stream_index(&self, name: &str) -> Option<usize> {
        self.streams.iter().position(|(n, _)| &**n == name)
    }

    /// Routes one tuple to every edge of `stream`; `stamp` (acking on) gives each copy its
    /// place in the tuple trees.
    #[inline]
    pub(crate) fn emit(&mut self, stream: usize, value: T, origin: u64, stamp: Option<Stamp<'_>>) {
        self.emitted += 1;
        let Output {
            edges,
            streams,
            many,
            ..
        } = self;
        let Some((_, subscribed)) = streams.get(stream) else {
            return;
        };
        let mut sink = Shipper {
            shared: &mut self.shared,
            stamp,
        };
        let mut value = Some(value);
        let last = subscribed.len().saturating_sub(1);
        for (i, &e) in subscribed.iter().enumerate() {
            let v = if i == last {
                value.take()
            } else {
                value.clone()
            };
            let Some(v) = v else { return };
            let edge = &mut edges[e];
            many.clear();
            match edge.router.choose(&v, edge.lanes.len(), many) {
                Some(t) => sink.push(&mut edge.lanes[t], v, origin),
                None => {
                    let mut v = Some(v);
                    let k = many.len();
                    for (j, &t) in many.iter().enumerate() {
                        let item = if j + 1 == k { v.take() } else { v.clone() };
                        if let Some(item) = item {
                            sink.push(&mut edge.lanes[t], item, origin);
                        }
                    }
                }
            }
        }
    }

    /// Sends `value` to task `task` of every direct-grouped consumer of `stream`.
    pub(crate) fn emit_direct(
        &mut self,
        stream: usize,
        task: usize,
        value: T,
        origin: u64,
        stamp: Option<Stamp<'_>>,
    ) -> Result<(), DirectEmitError> {
        let name = self
            .streams
            .get(stream)
            .map_or_else(|| DEFAULT_STREAM.to_string(), |(n, _)| n.to_string());
        let direct: Vec<usize> = self
            .streams
            .get(stream)
            .map(|(_, edges)| {
                edges
                    .iter()
                    .copied()
                    .filter(|&e| self.edges[e].router.is_direct())
                    .collect()
            })
            .unwrap_or_default();
        if direct.is_empty() {
            return Err(DirectEmitError::NoDirectConsumer(name));
        }
        if let Some(&e) = direct.iter().find(|&&e| task >= self.edges[e].lanes.len()) {
            return Err(DirectEmitError::TaskOutOfRange {
                task,
                tasks: self.edges[e].lanes.len(),
            });
        }
        self.emitted += 1;
        let mut sink = Shipper {
            shared: &mut self.shared,
            stamp,
        };
        for &e in &direct {
            sink.push(&mut self.edges[e].lanes[task], value.clone(), origin);
        }
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
        let wm = self.shared.wm;
        if wm <= self.wm_synced {
            return;
        }
        self.wm_synced = wm;
        for edge in &mut self.edges {
            for lane in &mut edge.lanes {
                if lane.wm_sent >= wm {
                    continue;
                }
                lane.wm_sent = wm;
                if lane.buf.is_empty() {
                    lane.link
                        .send_control(self.shared.gen, Payload::Watermark(wm));
                } else {
                    lane.buf.marks.push((lane.buf.len() as u32, wm));
                }
            }
        }
    }

    /// Tells every consumer this task has emitted all it will, barring replays (after what
    /// is open).
    pub(crate) fn end_of_input(&mut self) {
        self.flush();
        self.broadcast(|| Payload::Drained);
    }

    /// Tells every consumer this task is idle (see `Payload::Idle`), after what is open.
    pub(crate) fn idle(&mut self) {
        self.flush();
        self.broadcast(|| Payload::Idle);
    }

    /// Sends every open batch (as far as credit allows; the rest waits in pending), and the
    /// watermark to every consumer behind it.
    pub(crate) fn flush(&mut self) {
        self.partial_since = None;
        self.sync_watermark();
        if self.shared.buffered == 0 {
            return;
        }
        let mut sink = Shipper {
            shared: &mut self.shared,
            stamp: None,
        };
        for edge in &mut self.edges {
            for lane in &mut edge.lanes {
                if !lane.buf.is_empty() {
                    sink.ship(lane);
                }
            }
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
        self.broadcast(|| Payload::Eos);
    }

    /// Flushes, then queues checkpoint barrier `id` on every link, behind the data before it.
    pub(crate) fn barrier(&mut self, id: u64) {
        self.flush();
        self.broadcast(|| Payload::Barrier(id));
    }

    /// Sends a control payload (no credit needed) on every link, or queues it behind the
    /// link's pending batches.
    fn broadcast(&mut self, payload: impl Fn() -> Payload<T>) {
        for edge in &mut self.edges {
            for lane in &mut edge.lanes {
                lane.link.send_control(self.shared.gen, payload());
            }
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
        for edge in &mut self.edges {
            for lane in &mut edge.lanes {
                lane.buf = Batch::with_capacity(0);
                lane.link.clear();
                lane.wm_sent = 0;
            }
        }
    }

    /// True when nothing waits for credit (after `finish`: everything, end-of-stream included,
    /// has been sent).
    pub(crate) fn is_drained(&self) -> bool {
        self.shared.blocked == 0
    }

    /// A consumer returned one credit. Returns true if that unblocked the task.
    pub(crate) fn credit(&mut self, edge: u32, target: u32) -> bool {
        let Some(lane) = self
            .edges
            .get_mut(edge as usize)
            .and_then(|e| e.lanes.get_mut(target as usize))
        else {
            return false;
        };
        let was_blocked = lane.link.is_blocked();
        if lane.link.credit(self.shared.gen) && was_blocked {
            self.shared.blocked -= 1;
            return self.shared.blocked == 0;
        }
        false
    }

    /// Batches and control payloads waiting for credit, over every link.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.edges
            .iter()
            .flat_map(|e| &e.lanes)
            .map(|l| l.link.pending())
            .sum()
    }

    /// Lanes holding an allocated open batch.
    #[cfg(test)]
    pub(crate) fn allocated_lanes(&self) -> usize {
        self.edges
            .iter()
            .flat_map(|e| &e.lanes)
            .filter(|l| l.buf.values.capacity() > 0)
            .count()
    }
}
