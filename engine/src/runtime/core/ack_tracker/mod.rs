//! One task's side of Storm's tuple trees (at-least-once): anchors, edge ids, the ops for the
//! ackers, and the acks a stateful bolt holds back until a checkpoint holds their effect.
//!
//! Every tracked tuple carries (root, edge) pairs. An emit anchored to a tuple draws a fresh
//! random edge id per anchor, XORs it into the anchor's `ack_val` and writes it, with each of
//! the anchor's roots, into the child's pairs; acking a tuple sends, per root, its own edge id
//! XOR its `ack_val`. Every edge id thus enters the acker's ledger exactly twice, and a root's
//! value returns to 0 when its whole tree has been executed.
//!
//! With acking off (the other guarantees, or zero ackers) the tracker stamps nothing and sends
//! nothing; a spout's message ids are still recorded, to be acked right after `next_tuple`.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rustc_hash::FxHashMap;

use crate::component::{Anchor, MessageId};
use crate::runtime::AckOp;
use crate::transport::Batch;

/// A tree opened by a spout's `emit_with_id`: its message id, root id and the XOR of the
/// edges sent so far (root 0: untracked, acked at once).
pub(crate) type Opened = (MessageId, u64, u64);

/// The tuple-tree bookkeeping of one task.
pub(crate) struct AckTracker {
    /// Acking is on: emits are stamped and ops go to the ackers.
    on: bool,
    /// Draws root and edge ids; seeded per task so runs are reproducible.
    rng: SmallRng,
    /// The anchors of the current emits: the input being executed (bolts) or the root being
    /// emitted under (a spout's `emit_with_id`); empty for untracked emits.
    current: Vec<Anchor>,
    /// Scratch for one child's pairs, kept to avoid an allocation per emit.
    child: Vec<(u64, u64)>,
    /// Spouts: trees opened during the current `next_tuple` call.
    opened: Vec<Opened>,
    /// Spouts: trees announced to the ackers and not completed or failed yet:
    /// root -> (message id, emit time).
    open: FxHashMap<u64, (MessageId, u64)>,
    /// Bolts: ops the collector recorded for the tuple being executed.
    explicit: Vec<AckOp>,
    /// Ops to send to the ackers at the end of this wake-up.
    outgoing: Vec<AckOp>,
    /// The bolt keeps state: its acks wait for the checkpoint holding their effect.
    stateful: bool,
    /// Acks of inputs executed since the last snapshot (stateful bolts).
    held: Vec<AckOp>,
    /// Acks of inputs in a snapshot, by checkpoint, released when it completes.
    awaiting: Vec<(u64, Vec<AckOp>)>,
    /// A stateful bolt executed an untracked tuple since its last snapshot: no replay would
    /// bring it back if the state were lost.
    untracked_held: bool,
    /// The last checkpoint whose snapshot holds such a tuple, until it completes.
    untracked_awaiting: Option<u64>,
}

impl AckTracker {
    /// A tracker; `on` when tuple trees are tracked, with ids drawn from `seed`.
    pub(crate) fn new(on: bool, seed: u64) -> Self {
        AckTracker {
            on,
            rng: SmallRng::seed_from_u64(seed),
            current: Vec::new(),
            child: Vec::new(),
            opened: Vec::new(),
            open: FxHashMap::default(),
            explicit: Vec::new(),
            outgoing: Vec::new(),
            stateful: false,
            held: Vec::new(),
            awaiting: Vec::new(),
            untracked_held: false,
            untracked_awaiting: None,
        }
    }

    /// True when tuple trees are tracked.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// A fresh nonzero random id (a root or an edge): 0 means "no tree".
    fn id(&mut self) -> u64 {
        self.rng.gen::<u64>() | 1
    }

    /// What stamps the copies of one emit: anchored to `explicit` when given, else to the
    /// current anchors. `None` when acking is off.
    #[inline]
    pub(crate) fn stamp<'a>(&'a mut self, explicit: Option<&'a mut [Anchor]>) -> Option<Stamp<'a>> {
        if !self.on {
            return None;
        }
        Some(Stamp {
            anchors: explicit.unwrap_or(&mut self.current[..]),
            rng: &mut self.rng,
            child: &mut self.child,
        })
    }

    // --- spouts -------------------------------------------------------------------------------

    /// Before a spout's emit with `msg_id`: the emit joins the tree of the previous emit when
    /// that had the same id in this call, else it roots a new tree.
    pub(crate) fn open_tree(&mut self, msg_id: MessageId) {
        if !self.on {
            return;
        }
        let (root, sent) = match self.opened.last() {
            Some(&(id, root, xor)) if id == msg_id && root != 0 => {
                self.opened.pop();
                (root, xor)
            }
            _ => (self.id(), 0),
        };
        self.current.clear();
        self.current.push(Anchor {
            ids: vec![(root, 0)],
            ack_val: sent,
        });
    }

    /// After a spout's emit with `msg_id`: records the tree with the edges sent under it.
    pub(crate) fn close_tree(&mut self, msg_id: MessageId) {
        if !self.on {
            // One ack per message id, however many tuples it named.
            if self.opened.last().is_none_or(|&(id, _, _)| id != msg_id) {
                self.opened.push((msg_id, 0, 0));
            }
            return;
        }
        let Some(anchor) = self.current.pop() else {
            return;
        };
        let root = anchor.ids.first().map_or(0, |&(root, _)| root);
        self.opened.push((msg_id, root, anchor.ack_val));
    }

    /// Trees opened since the last `register_opened`.
    pub(crate) fn opened(&self) -> &[Opened] {
        &self.opened
    }

    /// Sorts the trees opened by the last `next_tuple` call (emitted at `origin`): a tree
    /// that was sent somewhere is announced to its acker (as spout task `spout`) and stays
    /// open; one that is untracked, or reached nobody, is complete as it is and its message
    /// id is pushed onto `complete`.
    pub(crate) fn register_opened(
        &mut self,
        spout: u32,
        origin: u64,
        complete: &mut Vec<MessageId>,
    ) {
        for (msg_id, root, xor) in self.opened.drain(..) {
            if root == 0 || xor == 0 {
                complete.push(msg_id);
            } else {
                self.open.insert(root, (msg_id, origin));
                self.outgoing.push(AckOp::Init { root, xor, spout });
            }
        }
    }

    /// Trees announced and not completed or failed yet.
    pub(crate) fn open_trees(&self) -> usize {
        self.open.len()
    }

    /// The ackers' verdicts on some roots: the completed trees' message ids with their emit
    /// times, and the failed trees' message ids. Roots no longer open (failed at a rollback
    /// meanwhile) are ignored.
    pub(crate) fn trees_done(
        &mut self,
        completed: &[u64],
        failed: &[u64],
    ) -> (Vec<(MessageId, u64)>, Vec<MessageId>) {
        let acked = completed
            .iter()
            .filter_map(|root| self.open.remove(root))
            .collect();
        let failed = failed
            .iter()
            .filter_map(|root| self.open.remove(root).map(|(id, _)| id))
            .collect();
        (acked, failed)
    }

    /// Fails every open tree at once (a rollback lost what of them was in flight); returns
    /// their message ids.
    pub(crate) fn fail_open_trees(&mut self) -> Vec<MessageId> {
        self.open.drain().map(|(_, (id, _))| id).collect()
    }

    // --- bolts --------------------------------------------------------------------------------

    /// Whether the bolt keeps state, so that its acks wait for a checkpoint.
    pub(crate) fn set_stateful(&mut self, stateful: bool) {
        self.stateful = stateful;
    }

    /// Before executing an input whose (root, edge) pairs are `trees`: emits anchor to it.
    #[inline]
    pub(crate) fn begin_input(&mut self, trees: &[(u64, u64)]) {
        if self.on {
            self.current.clear();
            self.current.push(Anchor::new(trees));
        }
    }

    /// Takes the current input's anchor from the runtime (the bolt acks it itself later);
    /// empty when acking is off or it was taken already.
    pub(crate) fn take_anchor(&mut self) -> Anchor {
        self.current.pop().unwrap_or_default()
    }

    /// Acks `anchor` on the bolt's behalf: per root, its edge XOR the edges anchored to it.
    pub(crate) fn ack(&mut self, anchor: Anchor) {
        for (root, edge) in anchor.ids {
            self.explicit.push(AckOp::Ack {
                root,
                xor: edge ^ anchor.ack_val,
            });
        }
    }

    /// Fails every root of `anchor`: the spouts' `fail` runs at once.
    pub(crate) fn fail(&mut self, anchor: Anchor) {
        for (root, _) in anchor.ids {
            self.explicit.push(AckOp::Fail { root });
        }
    }

    /// After executing the current input: acks it (`ack`) or fails it, unless the bolt took
    /// its anchor; then queues the ops recorded for it. Fails go out at once; acks of a
    /// stateful bolt wait for the checkpoint that holds their effect.
    pub(crate) fn end_input(&mut self, ack: bool) {
        if let Some(anchor) = self.current.pop() {
            if self.stateful && anchor.ids.is_empty() {
                self.untracked_held = true;
            }
            if ack {
                self.ack(anchor);
            } else {
                self.fail(anchor);
            }
        }
        for op in self.explicit.drain(..) {
            match op {
                AckOp::Ack { .. } if self.stateful => self.held.push(op),
                _ => self.outgoing.push(op),
            }
        }
    }

    /// After a hook without an input (`on_tick`, `on_watermark`, `end_of_input`,
    /// `finish`): queues the acks and fails the bolt recorded in it.
    pub(crate) fn end_hook(&mut self) {
        for op in self.explicit.drain(..) {
            match op {
                AckOp::Ack { .. } if self.stateful => self.held.push(op),
                _ => self.outgoing.push(op),
            }
        }
    }

    /// The bolt snapshotted for checkpoint `id`: the acks held so far wait for it.
    pub(crate) fn snapshot_taken(&mut self, id: u64) {
        if !self.held.is_empty() {
            self.awaiting.push((id, std::mem::take(&mut self.held)));
        }
        if std::mem::take(&mut self.untracked_held) {
            self.untracked_awaiting = Some(id);
        }
    }

    /// Checkpoint `id` completed: the acks it holds the effect of may go out.
    pub(crate) fn committed(&mut self, id: u64) {
        if self.untracked_awaiting.is_some_and(|c| c <= id) {
            self.untracked_awaiting = None;
        }
        let outgoing = &mut self.outgoing;
        self.awaiting.retain_mut(|(c, ops)| {
            let ready = *c <= id;
            if ready {
                outgoing.append(ops);
            }
            !ready
        });
    }

    /// A rollback: ops not sent belong to trees the spouts fail and replay now. A spout's
    /// open trees stay, for it to fail with `fail_open_trees` (at least once).
    pub(crate) fn rollback(&mut self) {
        self.current.clear();
        self.explicit.clear();
        self.outgoing.clear();
        self.held.clear();
        self.awaiting.clear();
        self.untracked_held = false;
        self.untracked_awaiting = None;
    }

    /// The bolt instance crashed (at least once): fails now, and only, the trees whose work
    /// went with it: the input being executed (its emits may be partial) and, for a stateful
    /// bolt, the inputs whose acks wait for a checkpoint (the fresh instance restores the last
    /// complete one, without their effect). What is still queued stays for the fresh instance,
    /// and every other task keeps its trees. Returns false when that cannot bring back all
    /// that was lost (acking is off, or an untracked tuple was executing or is in the lost
    /// state): then every task must roll back.
    pub(crate) fn fail_lost(&mut self) -> bool {
        if !self.on {
            return false;
        }
        let untracked_executing = self.current.iter().any(|a| a.ids.is_empty());
        let untracked_lost =
            std::mem::take(&mut self.untracked_held) || self.untracked_awaiting.take().is_some();
        let mut roots: Vec<u64> = self
            .current
            .drain(..)
            .flat_map(|a| a.ids.into_iter().map(|(root, _)| root))
            .collect();
        self.explicit.clear();
        let held = std::mem::take(&mut self.held);
        let awaiting = std::mem::take(&mut self.awaiting);
        roots.extend(
            held.iter()
                .chain(awaiting.iter().flat_map(|(_, ops)| ops))
                .map(AckOp::root),
        );
        roots.sort_unstable();
        roots.dedup();
        self.outgoing
            .extend(roots.into_iter().map(|root| AckOp::Fail { root }));
        !untracked_executing && !untracked_lost
    }

    // --- both ---------------------------------------------------------------------------------

    /// The ops ready for the ackers; the caller sends and clears them.
    pub(crate) fn outgoing(&mut self) -> &mut Vec<AckOp> {
        &mut self.outgoing
    }
}

/// Stamps the copies of one emit with their (root, edge) pairs, borrowed from the tracker.
pub(crate) struct Stamp<'a> {
    anchors: &'a mut [Anchor],
    rng: &'a mut SmallRng,
    child: &'a mut Vec<(u64, u64)>,
}

impl Stamp<'_> {
    /// Stamps the copy about to be pushed onto `batch`: one new edge per anchor, XORed into
    /// every root of that anchor (Storm's anchoring), so each edge id enters the ledger twice,
    /// here and when the copy is acked.
    #[inline]
    pub(crate) fn stamp<T>(&mut self, batch: &mut Batch<T>) {
        self.child.clear();
        for anchor in self.anchors.iter_mut() {
            let edge = self.rng.gen::<u64>() | 1;
            for &(root, _) in &anchor.ids {
                match self.child.iter_mut().find(|c| c.0 == root) {
                    Some(c) => c.1 ^= edge,
                    None => self.child.push((root, edge)),
                }
            }
            anchor.ack_val ^= edge;
        }
        batch.trees.extend_from_slice(self.child);
        batch.tree_ends.push(batch.trees.len() as u32);
    }
}

#[cfg(test)]
mod tests;
