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
            explicit: Vec::new(),
            outgoing: Vec::new(),
            stateful: false,
            held: Vec::new(),
            awaiting: Vec::new(),
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

    /// Sorts the trees opened by the last `next_tuple` call: a tree that was sent somewhere is
    /// announced to its acker (as spout task `spout`) and handed to `pending`; one that is
    /// untracked, or reached nobody, is complete as it is and pushed onto `complete`.
    pub(crate) fn register_opened(
        &mut self,
        spout: u32,
        complete: &mut Vec<MessageId>,
        mut pending: impl FnMut(u64, MessageId),
    ) {
        for (msg_id, root, xor) in self.opened.drain(..) {
            if root == 0 || xor == 0 {
                complete.push(msg_id);
            } else {
                pending(root, msg_id);
                self.outgoing.push(AckOp::Init { root, xor, spout });
            }
        }
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

    /// The bolt snapshotted for checkpoint `id`: the acks held so far wait for it.
    pub(crate) fn snapshot_taken(&mut self, id: u64) {
        if !self.held.is_empty() {
            self.awaiting.push((id, std::mem::take(&mut self.held)));
        }
    }

    /// Checkpoint `id` completed: the acks it holds the effect of may go out.
    pub(crate) fn committed(&mut self, id: u64) {
        let outgoing = &mut self.outgoing;
        self.awaiting.retain_mut(|(c, ops)| {
            let ready = *c <= id;
            if ready {
                outgoing.append(ops);
            }
            !ready
        });
    }

    /// A rollback: ops not sent belong to trees the spouts fail and replay now.
    pub(crate) fn rollback(&mut self) {
        self.current.clear();
        self.explicit.clear();
        self.outgoing.clear();
        self.held.clear();
        self.awaiting.clear();
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
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::runtime::acker::Ledger;

    /// Feeds ops to a ledger; returns the outcomes.
    fn apply(ledger: &mut Ledger, ops: &mut Vec<AckOp>) -> Vec<(u32, u64, bool)> {
        let now = Instant::now();
        ops.drain(..)
            .filter_map(|op| ledger.apply(op, now))
            .collect()
    }

    /// A spout task emits `copies` tuples under one message id, as one tree.
    fn spout_emits(spout: &mut AckTracker, msg_id: MessageId, copies: usize) -> Batch<u32> {
        let mut batch = Batch::with_capacity(copies);
        for i in 0..copies {
            spout.open_tree(msg_id);
            if let Some(mut s) = spout.stamp(None) {
                s.stamp(&mut batch);
            }
            batch.push(i as u32, 0);
            spout.close_tree(msg_id);
        }
        batch
    }

    fn register(spout: &mut AckTracker) -> (Vec<MessageId>, Vec<u64>) {
        let (mut complete, mut roots) = (Vec::new(), Vec::new());
        spout.register_opened(0, &mut complete, |root, _| roots.push(root));
        (complete, roots)
    }

    #[test]
    fn a_tree_with_a_fan_out_completes_when_every_tuple_is_acked() {
        let mut ledger = Ledger::default();
        let mut spout = AckTracker::new(true, 1);
        let input = spout_emits(&mut spout, 7, 3);
        let (complete, roots) = register(&mut spout);
        assert!(complete.is_empty());
        assert_eq!(roots.len(), 1, "one message id, one tree");
        assert!(apply(&mut ledger, spout.outgoing()).is_empty());

        // A bolt executes the three copies; each fans out to four children.
        let mut bolt = AckTracker::new(true, 2);
        let mut children = Batch::with_capacity(12);
        for i in 0..input.len() {
            bolt.begin_input(input.trees_of(i));
            for c in 0..4 {
                if let Some(mut s) = bolt.stamp(None) {
                    s.stamp(&mut children);
                }
                children.push(c, 0);
            }
            bolt.end_input(true);
            assert!(apply(&mut ledger, bolt.outgoing()).is_empty());
        }
        // A sink acks the children; the last ack returns the root to 0.
        let mut sink = AckTracker::new(true, 3);
        let mut outcomes = Vec::new();
        for i in 0..children.len() {
            sink.begin_input(children.trees_of(i));
            sink.end_input(true);
            outcomes.extend(apply(&mut ledger, sink.outgoing()));
        }
        assert_eq!(outcomes, vec![(0, roots[0], true)]);
    }

    #[test]
    fn a_multi_anchored_tuple_fails_every_root() {
        let mut spout = AckTracker::new(true, 4);
        let a = spout_emits(&mut spout, 1, 1);
        let b = spout_emits(&mut spout, 2, 1);
        let (_, roots) = register(&mut spout);
        assert_eq!(roots.len(), 2);

        // A join takes both inputs' anchors and emits one tuple anchored to both.
        let mut join = AckTracker::new(true, 5);
        join.begin_input(a.trees_of(0));
        let mut first = join.take_anchor();
        join.end_input(true);
        join.begin_input(b.trees_of(0));
        let second = join.take_anchor();
        join.end_input(true);
        let mut anchors = [std::mem::take(&mut first), second];
        let mut out = Batch::with_capacity(1);
        if let Some(mut s) = join.stamp(Some(&mut anchors[..])) {
            s.stamp(&mut out);
        }
        out.push(0u32, 0);
        let [first, second] = anchors;
        join.ack(first);
        join.ack(second);
        join.end_input(true);
        assert_eq!(out.trees_of(0).len(), 2, "the child belongs to both trees");

        let mut sink = AckTracker::new(true, 6);
        sink.begin_input(out.trees_of(0));
        sink.end_input(false);
        let mut failed: Vec<u64> = sink
            .outgoing()
            .iter()
            .filter_map(|op| match *op {
                AckOp::Fail { root } => Some(root),
                _ => None,
            })
            .collect();
        failed.sort_unstable();
        let mut expected = roots.clone();
        expected.sort_unstable();
        assert_eq!(failed, expected, "a fail op for every root");

        let mut ledger = Ledger::default();
        apply(&mut ledger, spout.outgoing());
        apply(&mut ledger, join.outgoing());
        let mut outcomes = apply(&mut ledger, sink.outgoing());
        outcomes.sort_unstable();
        let mut want: Vec<_> = roots.iter().map(|&r| (0, r, false)).collect();
        want.sort_unstable();
        assert_eq!(outcomes, want);
    }

    #[test]
    fn a_stateful_bolt_holds_acks_until_the_checkpoint_commits() {
        let mut spout = AckTracker::new(true, 7);
        let input = spout_emits(&mut spout, 9, 2);
        let (_, roots) = register(&mut spout);
        let mut ledger = Ledger::default();
        apply(&mut ledger, spout.outgoing());

        let mut bolt = AckTracker::new(true, 8);
        bolt.set_stateful(true);
        bolt.begin_input(input.trees_of(0));
        bolt.end_input(true);
        bolt.snapshot_taken(1);
        bolt.begin_input(input.trees_of(1));
        bolt.end_input(true);
        assert!(bolt.outgoing().is_empty(), "acks wait for a checkpoint");

        bolt.committed(1);
        assert!(
            apply(&mut ledger, bolt.outgoing()).is_empty(),
            "half the tree"
        );
        bolt.snapshot_taken(2);
        bolt.committed(2);
        assert_eq!(
            apply(&mut ledger, bolt.outgoing()),
            vec![(0, roots[0], true)]
        );
    }

    #[test]
    fn a_rollback_drops_held_acks_and_fails_go_out_at_once() {
        let mut spout = AckTracker::new(true, 10);
        let input = spout_emits(&mut spout, 3, 1);
        register(&mut spout);
        let mut bolt = AckTracker::new(true, 11);
        bolt.set_stateful(true);
        bolt.begin_input(input.trees_of(0));
        bolt.end_input(true);
        bolt.snapshot_taken(4);
        bolt.rollback();
        bolt.committed(4);
        assert!(bolt.outgoing().is_empty());
        bolt.begin_input(input.trees_of(0));
        bolt.end_input(false);
        assert!(matches!(bolt.outgoing()[..], [AckOp::Fail { .. }]));
    }

    #[test]
    fn without_acking_nothing_is_stamped_and_ids_complete_at_once() {
        let mut spout = AckTracker::new(false, 0);
        let batch = spout_emits(&mut spout, 5, 2);
        assert!(batch.trees.is_empty() && batch.tree_ends.is_empty());
        assert_eq!(spout.opened(), &[(5, 0, 0)], "one ack per message id");
        let (complete, roots) = register(&mut spout);
        assert_eq!((complete, roots), (vec![5], vec![]));
        assert!(spout.outgoing().is_empty());
    }
}
