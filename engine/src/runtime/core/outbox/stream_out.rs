//! One output stream of a task: its subscriptions (edges), each with a router and a lane per
//! consumer task. The default stream is one, typed by the component's `Output`; every named
//! stream is another, typed by its declaration, behind [`super::side::AnySide`].

use std::sync::Arc;

use super::credited::Credited;
use super::lane::{Lane, Shared, Shipper};
use super::router::Router;
use super::OutEdge;
use crate::component::{DirectEmitError, Tuple};
use crate::runtime::core::Stamp;
use crate::transport::message::Payload;
use crate::transport::Batch;

/// A control payload every link of a task gets, whatever its tuple type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ctl {
    Barrier(u64),
    Eos,
    Idle,
    Drained,
}

impl Ctl {
    fn payload<T>(self) -> Payload<T> {
        match self {
            Ctl::Barrier(id) => Payload::Barrier(id),
            Ctl::Eos => Payload::Eos,
            Ctl::Idle => Payload::Idle,
            Ctl::Drained => Payload::Drained,
        }
    }
}

/// One subscription: its grouping's state and a lane per consumer task.
pub(super) struct Edge<T> {
    /// The edge's index among all of the producer's edges, as credits name it.
    pub id: u32,
    router: Router<T>,
    pub lanes: Vec<Lane<T>>,
}

/// Everything a task sends on one stream.
pub(crate) struct StreamOut<T> {
    pub(super) name: Arc<str>,
    pub(super) edges: Vec<Edge<T>>,
}

impl<T: Tuple> StreamOut<T> {
    /// The stream `name` of producer task `task` (on `worker`) over `edges`; each link starts
    /// with `credits` batches of credit.
    pub(crate) fn new(
        name: Arc<str>,
        edges: Vec<OutEdge<T>>,
        task: usize,
        worker: usize,
        credits: usize,
    ) -> Self {
        let edges = edges
            .into_iter()
            .map(|edge| Edge {
                id: edge.id,
                router: Router::new(&edge.grouping, task, worker, &edge.target_workers),
                lanes: edge
                    .links
                    .into_iter()
                    .map(|link| Lane::new(Credited::new(link, credits)))
                    .collect(),
            })
            .collect();
        StreamOut { name, edges }
    }

    /// Routes one tuple to every edge; `stamp` (acking on) gives each copy its place in the
    /// tuple trees. `many` is scratch for a grouping that picks several consumer tasks.
    #[inline]
    pub(super) fn emit(
        &mut self,
        value: T,
        origin: u64,
        shared: &mut Shared,
        many: &mut Vec<usize>,
        stamp: Option<Stamp<'_>>,
    ) {
        let mut sink = Shipper { shared, stamp };
        let mut value = Some(value);
        let last = self.edges.len().saturating_sub(1);
        for (i, edge) in self.edges.iter_mut().enumerate() {
            let v = if i == last {
                value.take()
            } else {
                value.clone()
            };
            let Some(v) = v else { return };
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

    /// Sends `value` to task `task` of every direct-grouped consumer of this stream.
    pub(super) fn emit_direct(
        &mut self,
        task: usize,
        value: T,
        origin: u64,
        shared: &mut Shared,
        stamp: Option<Stamp<'_>>,
    ) -> Result<(), DirectEmitError> {
        let mut direct = self
            .edges
            .iter()
            .filter(|e| e.router.is_direct())
            .peekable();
        if direct.peek().is_none() {
            return Err(DirectEmitError::NoDirectConsumer(self.name.to_string()));
        }
        if let Some(e) = direct.find(|e| task >= e.lanes.len()) {
            return Err(DirectEmitError::TaskOutOfRange {
                task,
                tasks: e.lanes.len(),
            });
        }
        let mut sink = Shipper { shared, stamp };
        for edge in self.edges.iter_mut().filter(|e| e.router.is_direct()) {
            sink.push(&mut edge.lanes[task], value.clone(), origin);
        }
        Ok(())
    }

    /// Brings every consumer up to the watermark `shared.wm`: in its open batch when it has
    /// one, else alone now (no credit needed, behind any pending data).
    pub(super) fn sync_watermark(&mut self, shared: &Shared) {
        let wm = shared.wm;
        for lane in self.edges.iter_mut().flat_map(|e| &mut e.lanes) {
            if lane.wm_sent >= wm {
                continue;
            }
            lane.wm_sent = wm;
            if lane.buf.is_empty() {
                lane.link.send_control(shared.gen, Payload::Watermark(wm));
            } else {
                lane.buf.marks.push((lane.buf.len() as u32, wm));
            }
        }
    }

    /// Sends every open batch, as far as credit allows.
    pub(super) fn flush(&mut self, shared: &mut Shared) {
        let mut sink = Shipper {
            shared,
            stamp: None,
        };
        for lane in self.edges.iter_mut().flat_map(|e| &mut e.lanes) {
            if !lane.buf.is_empty() {
                sink.ship(lane);
            }
        }
    }

    /// Sends `ctl` on every link, or queues it behind the link's pending batches.
    pub(super) fn control(&mut self, gen: u64, ctl: Ctl) {
        for lane in self.edges.iter_mut().flat_map(|e| &mut e.lanes) {
            lane.link.send_control(gen, ctl.payload());
        }
    }

    /// A rollback: everything not yet sent is dropped.
    pub(super) fn reset(&mut self) {
        for lane in self.edges.iter_mut().flat_map(|e| &mut e.lanes) {
            lane.buf = Batch::with_capacity(0);
            lane.link.clear();
            lane.wm_sent = 0;
        }
    }

    /// Consumer `target` of edge `local` (this stream's own index) returned one credit.
    /// Returns true if that unblocked the task.
    pub(super) fn credit(&mut self, local: usize, target: u32, shared: &mut Shared) -> bool {
        let Some(lane) = self
            .edges
            .get_mut(local)
            .and_then(|e| e.lanes.get_mut(target as usize))
        else {
            return false;
        };
        let was_blocked = lane.link.is_blocked();
        if lane.link.credit(shared.gen) && was_blocked {
            shared.blocked -= 1;
            return shared.blocked == 0;
        }
        false
    }

    /// Batches and control payloads waiting for credit, over every link.
    #[cfg(test)]
    pub(super) fn pending(&self) -> usize {
        self.edges
            .iter()
            .flat_map(|e| &e.lanes)
            .map(|l| l.link.pending())
            .sum()
    }

    /// Lanes holding an allocated open batch.
    #[cfg(test)]
    pub(super) fn allocated_lanes(&self) -> usize {
        self.edges
            .iter()
            .flat_map(|e| &e.lanes)
            .filter(|l| l.buf.values.capacity() > 0)
            .count()
    }
}
