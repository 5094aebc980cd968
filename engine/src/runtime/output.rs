//! The output side of a task: per-target batches, credits and pending queues.
//!
//! Every link (this task to one consumer task) holds one open batch, a credit count and a
//! pending queue. A full batch is sent if the link has credit, else it waits in `pending` and
//! the task counts as *blocked*: its owner stops taking input until a credit comes back.
//! End-of-stream waits in the same queue, so it never overtakes data.

use std::collections::VecDeque;
use std::sync::Arc;

use actix::Recipient;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::router::Router;
use crate::component::{Anchor, DirectEmitError, Tuple};
use crate::topology::{Grouping, DEFAULT_STREAM};
use crate::transport::codec::encode_batch;
use crate::transport::message::{Inbound, Payload};
use crate::transport::Batch;

/// The consumer side of one subscription, as a producer task needs it.
pub(crate) struct EdgeSpec<T: Tuple> {
    pub stream: Arc<str>,
    pub grouping: Grouping<T>,
    pub targets: Vec<Recipient<Inbound<T>>>,
    pub target_workers: Vec<usize>,
    /// The consumer's link index for producer task 0; task `p` uses `link_base + p`.
    pub link_base: u32,
}

struct Target<T: Tuple> {
    tx: Recipient<Inbound<T>>,
    link: u32,
    buf: Batch<T>,
    credits: usize,
    /// Batches waiting for credit, with the barriers and end-of-stream queued behind them
    /// (those need no credit but must not overtake data).
    pending: VecDeque<Payload<T>>,
}

struct Edge<T: Tuple> {
    router: Router<T>,
    targets: Vec<Target<T>>,
}

/// Everything a task emits goes through here.
pub(crate) struct Output<T: Tuple> {
    edges: Vec<Edge<T>>,
    /// Stream name and the edges subscribed to it; index 0 is the default stream.
    streams: Vec<(Arc<str>, Vec<usize>)>,
    batch_size: usize,
    encode: bool,
    /// Targets whose pending queue is not empty.
    blocked: usize,
    /// Tuples sitting in open batches.
    buffered: usize,
    many: Vec<usize>,
    /// A batch that could not be encoded; the task reports it and fails.
    pub(crate) failure: Option<String>,
    /// Tuples emitted by this task's user code.
    pub(crate) emitted: u64,
    /// Stamped on everything sent, so consumers can drop what a rolled-back generation left
    /// in flight.
    gen: u64,
    /// Acking is on: every tuple sent carries its (root, edge) pairs.
    pub(crate) tracking: Option<Tracking>,
}

/// What anchors the tuples emitted now (at-least-once).
pub(crate) struct Tracking {
    /// The anchors of the current emits: the input being executed (basic bolts) or a new root
    /// (a spout's `emit_with_id`); empty for untracked emits.
    pub current: Vec<Anchor>,
    rng: SmallRng,
    /// Scratch for one child's pairs.
    child: Vec<(u64, u64)>,
}

impl Tracking {
    pub(crate) fn new(seed: u64) -> Self {
        Tracking {
            current: Vec::new(),
            rng: SmallRng::seed_from_u64(seed),
            child: Vec::new(),
        }
    }

    /// A fresh nonzero random id (a root or an edge).
    pub(crate) fn id(&mut self) -> u64 {
        self.rng.gen::<u64>() | 1
    }
}

/// Borrowed tracking state for one emit.
struct Track<'a> {
    anchors: &'a mut [Anchor],
    rng: &'a mut SmallRng,
    child: &'a mut Vec<(u64, u64)>,
}

impl<T: Tuple> Output<T> {
    /// An output with no subscribers (a sink, or a task not yet wired).
    pub(crate) fn unwired(batch_size: usize) -> Self {
        Output {
            edges: Vec::new(),
            streams: vec![(DEFAULT_STREAM.into(), Vec::new())],
            batch_size,
            encode: false,
            blocked: 0,
            buffered: 0,
            many: Vec::new(),
            failure: None,
            emitted: 0,
            gen: 0,
            tracking: None,
        }
    }

    /// Builds the output of producer task `task` (on `worker`) from its edges, in the order the
    /// consumers' credits refer to them.
    pub(crate) fn new(
        specs: Vec<EdgeSpec<T>>,
        task: usize,
        worker: usize,
        batch_size: usize,
        credits: usize,
        encode: bool,
    ) -> Self {
        let mut out = Output::unwired(batch_size);
        out.encode = encode;
        for (e, spec) in specs.into_iter().enumerate() {
            let router = Router::new(&spec.grouping, task, worker, &spec.target_workers);
            let link = spec.link_base + task as u32;
            let targets = spec
                .targets
                .into_iter()
                .map(|tx| Target {
                    tx,
                    link,
                    // Allocated by the first push: with P producers and P consumers there are
                    // P*P links, most of them idle in a small run.
                    buf: Batch::with_capacity(0),
                    credits,
                    pending: VecDeque::new(),
                })
                .collect();
            out.edges.push(Edge { router, targets });
            match out
                .streams
                .iter_mut()
                .find(|(name, _)| *name == spec.stream)
            {
                Some((_, edges)) => edges.push(e),
                None => out.streams.push((spec.stream, vec![e])),
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

    /// Routes one tuple to every edge of `stream`, anchored to the current anchors.
    #[inline]
    pub(crate) fn emit(&mut self, stream: usize, value: T, origin: u64) {
        self.route(stream, value, origin, None);
    }

    /// Routes one tuple anchored to `anchors` instead of the current ones.
    pub(crate) fn emit_anchored(
        &mut self,
        stream: usize,
        value: T,
        origin: u64,
        anchors: &mut [Anchor],
    ) {
        self.route(stream, value, origin, Some(anchors));
    }

    fn route(&mut self, stream: usize, value: T, origin: u64, explicit: Option<&mut [Anchor]>) {
        self.emitted += 1;
        let Output {
            edges,
            streams,
            many,
            tracking,
            ..
        } = self;
        let Some((_, subscribed)) = streams.get(stream) else {
            return;
        };
        let track = tracking.as_mut().map(|t| Track {
            anchors: match explicit {
                Some(a) => a,
                None => &mut t.current[..],
            },
            rng: &mut t.rng,
            child: &mut t.child,
        });
        let mut sink = Shipper {
            batch_size: self.batch_size,
            encode: self.encode,
            blocked: &mut self.blocked,
            buffered: &mut self.buffered,
            failure: &mut self.failure,
            gen: self.gen,
            track,
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
            match edge.router.choose(&v, edge.targets.len(), many) {
                Some(t) => sink.push(&mut edge.targets[t], v, origin),
                None => {
                    let mut v = Some(v);
                    let k = many.len();
                    for (j, &t) in many.iter().enumerate() {
                        let item = if j + 1 == k { v.take() } else { v.clone() };
                        if let Some(item) = item {
                            sink.push(&mut edge.targets[t], item, origin);
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
        if let Some(&e) = direct
            .iter()
            .find(|&&e| task >= self.edges[e].targets.len())
        {
            return Err(DirectEmitError::TaskOutOfRange {
                task,
                tasks: self.edges[e].targets.len(),
            });
        }
        self.emitted += 1;
        let track = self.tracking.as_mut().map(|t| Track {
            anchors: &mut t.current[..],
            rng: &mut t.rng,
            child: &mut t.child,
        });
        let mut sink = Shipper {
            batch_size: self.batch_size,
            encode: self.encode,
            blocked: &mut self.blocked,
            buffered: &mut self.buffered,
            failure: &mut self.failure,
            gen: self.gen,
            track,
        };
        for &e in &direct {
            sink.push(&mut self.edges[e].targets[task], value.clone(), origin);
        }
        Ok(())
    }

    /// True while some link waits for credit: the task must not take more input.
    #[inline]
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked > 0
    }

    /// True when open batches hold tuples not yet sent.
    pub(crate) fn has_partial(&self) -> bool {
        self.buffered > 0
    }

    /// Sends every open batch (as far as credit allows; the rest waits in pending).
    pub(crate) fn flush(&mut self) {
        if self.buffered == 0 {
            return;
        }
        let mut sink = Shipper {
            batch_size: self.batch_size,
            encode: self.encode,
            blocked: &mut self.blocked,
            buffered: &mut self.buffered,
            failure: &mut self.failure,
            gen: self.gen,
            track: None,
        };
        for edge in &mut self.edges {
            for target in &mut edge.targets {
                if !target.buf.is_empty() {
                    sink.ship(target);
                }
            }
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
        let gen = self.gen;
        for edge in &mut self.edges {
            for target in &mut edge.targets {
                if target.pending.is_empty() {
                    target.tx.do_send(Inbound {
                        link: target.link,
                        gen,
                        payload: payload(),
                    });
                } else {
                    target.pending.push_back(payload());
                }
            }
        }
    }

    /// Enters generation `gen` after a rollback: everything not yet sent is dropped. Credits
    /// stay as they are: a dropped batch never took one, and the consumers return the credit
    /// of every batch in flight, whether they execute it or drop it.
    pub(crate) fn reset(&mut self, gen: u64) {
        self.gen = gen;
        self.blocked = 0;
        self.buffered = 0;
        self.failure = None;
        for edge in &mut self.edges {
            for target in &mut edge.targets {
                target.buf = Batch::with_capacity(0);
                target.pending.clear();
            }
        }
    }

    /// True when nothing waits for credit (after `finish`: everything, end-of-stream included,
    /// has been sent).
    pub(crate) fn is_drained(&self) -> bool {
        self.blocked == 0
    }

    /// A consumer returned one credit. Returns true if that unblocked the task.
    pub(crate) fn credit(&mut self, edge: u32, target: u32) -> bool {
        let was_blocked = self.blocked > 0;
        let Some(t) = self
            .edges
            .get_mut(edge as usize)
            .and_then(|e| e.targets.get_mut(target as usize))
        else {
            return false;
        };
        t.credits += 1;
        if !t.pending.is_empty() {
            loop {
                let needs_credit = match t.pending.front() {
                    Some(Payload::Batch(_) | Payload::Encoded(_)) => true,
                    Some(Payload::Barrier(_) | Payload::Eos) => false,
                    None => break,
                };
                if needs_credit {
                    if t.credits == 0 {
                        break;
                    }
                    t.credits -= 1;
                }
                if let Some(payload) = t.pending.pop_front() {
                    t.tx.do_send(Inbound {
                        link: t.link,
                        gen: self.gen,
                        payload,
                    });
                }
            }
            if t.pending.is_empty() {
                self.blocked -= 1;
            }
        }
        was_blocked && self.blocked == 0
    }
}

/// The shared counters a push or a send updates, borrowed apart from the edges.
struct Shipper<'a> {
    batch_size: usize,
    encode: bool,
    blocked: &'a mut usize,
    buffered: &'a mut usize,
    failure: &'a mut Option<String>,
    gen: u64,
    track: Option<Track<'a>>,
}

impl Shipper<'_> {
    /// Appends one tuple to `target`'s open batch and sends the batch when it is full.
    #[inline]
    fn push<T: Tuple>(&mut self, target: &mut Target<T>, value: T, origin: u64) {
        if let Some(t) = self.track.as_mut() {
            // One new edge per (copy, anchor), XORed into every root of that anchor: Storm's
            // anchoring, so each edge id enters the ledger twice (here and when acked).
            t.child.clear();
            for anchor in t.anchors.iter_mut() {
                let edge = t.rng.gen::<u64>() | 1;
                for &(root, _) in &anchor.ids {
                    match t.child.iter_mut().find(|c| c.0 == root) {
                        Some(c) => c.1 ^= edge,
                        None => t.child.push((root, edge)),
                    }
                }
                anchor.ack_val ^= edge;
            }
            target.buf.trees.extend_from_slice(t.child);
            target.buf.tree_ends.push(target.buf.trees.len() as u32);
        }
        if target.buf.is_empty() {
            // One allocation per batch, as before, but only for links that carry tuples.
            target.buf.reserve(self.batch_size);
        }
        target.buf.push(value, origin);
        *self.buffered += 1;
        if target.buf.len() >= self.batch_size {
            self.ship(target);
        }
    }

    /// Sends the open batch of `target`, or queues it when the link has no credit.
    fn ship<T: Tuple>(&mut self, target: &mut Target<T>) {
        let batch = std::mem::replace(&mut target.buf, Batch::with_capacity(0));
        *self.buffered -= batch.len();
        let payload = if self.encode {
            let mut bytes = Vec::new();
            match encode_batch(&batch, &mut bytes) {
                Ok(()) => Payload::Encoded(bytes),
                Err(e) => {
                    *self.failure = Some(e.to_string());
                    return;
                }
            }
        } else {
            Payload::Batch(batch)
        };
        if target.credits > 0 && target.pending.is_empty() {
            target.credits -= 1;
            target.tx.do_send(Inbound {
                link: target.link,
                gen: self.gen,
                payload,
            });
        } else {
            if target.pending.is_empty() {
                *self.blocked += 1;
            }
            target.pending.push_back(payload);
        }
    }
}
