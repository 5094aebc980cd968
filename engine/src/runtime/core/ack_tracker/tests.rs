//! Tuple trees driven through trackers and the acker's ledger, as tasks would.

use std::time::Instant;

use super::*;
use crate::runtime::control::acker::Ledger;

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
    let mut complete = Vec::new();
    spout.register_opened(0, 0, &mut complete);
    let roots = spout
        .outgoing()
        .iter()
        .filter_map(|op| match *op {
            AckOp::Init { root, .. } => Some(root),
            _ => None,
        })
        .collect();
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

#[test]
fn verdicts_map_roots_back_to_message_ids_once() {
    let mut spout = AckTracker::new(true, 12);
    spout_emits(&mut spout, 21, 1);
    spout_emits(&mut spout, 22, 1);
    spout_emits(&mut spout, 23, 1);
    let (_, roots) = register(&mut spout);
    assert_eq!(spout.open_trees(), 3);
    let (acked, failed) = spout.trees_done(&[roots[0], 99], &[roots[1]]);
    assert_eq!(acked, vec![(21, 0)]);
    assert_eq!(failed, vec![22]);
    assert_eq!(
        spout.trees_done(&[roots[0]], &[]).0,
        vec![],
        "a verdict counts once"
    );
    assert_eq!(spout.fail_open_trees(), vec![23]);
    assert_eq!(spout.open_trees(), 0);
}
