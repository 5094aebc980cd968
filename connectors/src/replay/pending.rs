//! Tracked tuples of one spout task: kept until acked, replayed in ascending id order when failed.

use std::collections::{BTreeMap, BTreeSet};

use squall::{Guarantee, MessageId, SpoutCollector, TaskContext, Tuple};

/// Tracked tuples of one spout task, by message id, and the failed ones awaiting replay.
///
/// One message id may name a group of tuples (consecutive emits with the same id in one
/// `next_tuple` call form one tuple tree): the group is acked, failed and replayed as a whole,
/// which lets a spout track blocks of cheap tuples (lines) instead of each one.
#[derive(Debug, Clone)]
pub struct Pending<T> {
    /// True under at-least-once: only then are acks and fails delivered.
    tracking: bool,
    /// Emitted and not yet acked. A `BTreeMap`, so replays go in ascending id order.
    tuples: BTreeMap<MessageId, Vec<T>>,
    /// Failed ids not yet emitted again; a subset of `tuples`' keys.
    failed: BTreeSet<MessageId>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            tracking: false,
            tuples: BTreeMap::new(),
            failed: BTreeSet::new(),
        }
    }
}

impl<T: Tuple> Pending<T> {
    /// Keeps nothing until [`Pending::open`] finds an at-least-once run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tracks tuples when the run is at-least-once; call from the spout's `open`.
    pub fn open(&mut self, ctx: &TaskContext) {
        self.tracking = ctx.guarantee() == Guarantee::AtLeastOnce;
    }

    /// True when tuples are kept for replay.
    pub fn is_tracking(&self) -> bool {
        self.tracking
    }

    /// Keeps `value` as (one more) tuple emitted with `msg_id` (nothing unless tracking).
    pub fn track(&mut self, msg_id: MessageId, value: T) {
        if self.tracking {
            self.tuples.entry(msg_id).or_default().push(value);
        }
    }

    /// Emits `value` with `msg_id`, keeping a copy when tracking.
    pub fn emit(&mut self, out: &mut SpoutCollector<'_, T>, value: T, msg_id: MessageId) {
        if self.tracking {
            self.tuples.entry(msg_id).or_default().push(value.clone());
        }
        out.emit_with_id(value, msg_id);
    }

    /// The tree of `msg_id` completed: forget its tuples.
    pub fn ack(&mut self, msg_id: MessageId) {
        self.tuples.remove(&msg_id);
        self.failed.remove(&msg_id);
    }

    /// The tree of `msg_id` failed: replay it (unless it is unknown, e.g. already acked).
    pub fn fail(&mut self, msg_id: MessageId) {
        if self.tuples.contains_key(&msg_id) {
            self.failed.insert(msg_id);
        }
    }

    /// The failed group with the lowest id, to emit again under the same id; it stays
    /// pending until acked (or fails again).
    pub fn next_replay(&mut self) -> Option<(MessageId, Vec<T>)> {
        while let Some(id) = self.failed.pop_first() {
            if let Some(values) = self.tuples.get(&id) {
                return Some((id, values.clone()));
            }
        }
        None
    }

    /// Emits failed groups again, lowest id first, until about `budget` tuples went out;
    /// returns how many did.
    pub fn replay(&mut self, out: &mut SpoutCollector<'_, T>, budget: usize) -> usize {
        let mut replayed = 0;
        while replayed < budget {
            let Some((id, values)) = self.next_replay() else {
                break;
            };
            replayed += values.len();
            for value in values {
                out.emit_with_id(value, id);
            }
        }
        replayed
    }

    /// True while failed groups wait to be emitted again.
    pub fn has_replays(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Message ids emitted and not yet acked (failed ones included).
    pub fn len(&self) -> usize {
        self.tuples.len()
    }

    /// True when every tracked tuple was acked: a bounded spout may finish.
    pub fn is_empty(&self) -> bool {
        self.tuples.is_empty()
    }

    /// Forgets everything (the spout rewound to a checkpoint).
    pub fn clear(&mut self) {
        self.tuples.clear();
        self.failed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracking() -> Pending<u64> {
        let mut p = Pending::new();
        p.open(&TaskContext::new("t", "s", 0, 1).with_recovery(Guarantee::AtLeastOnce, 0));
        p
    }

    #[test]
    fn replays_failed_tuples_in_ascending_id_order_until_acked() {
        let mut p = tracking();
        for id in 1..=6 {
            p.track(id, id * 10);
        }
        for id in [5, 2, 4] {
            p.fail(id);
        }
        p.ack(4); // acked after failing: no replay
        p.ack(1);
        assert_eq!(p.next_replay(), Some((2, vec![20])));
        assert_eq!(p.next_replay(), Some((5, vec![50])));
        assert_eq!(p.next_replay(), None);
        assert_eq!(p.len(), 4); // 2, 3, 5, 6
        p.fail(2);
        assert_eq!(p.next_replay(), Some((2, vec![20])));
        for id in [2, 3, 5, 6] {
            p.ack(id);
        }
        assert!(p.is_empty());
    }

    #[test]
    fn a_message_id_names_a_group_replayed_whole() {
        let mut p = tracking();
        p.track(7, 1);
        p.track(7, 2);
        p.track(8, 3);
        p.fail(7);
        assert_eq!(p.next_replay(), Some((7, vec![1, 2])));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn unknown_ids_and_other_guarantees_keep_nothing() {
        let mut p = tracking();
        p.fail(9);
        assert_eq!(p.next_replay(), None);
        let mut q = Pending::<u64>::new();
        for guarantee in [Guarantee::AtMostOnce, Guarantee::ExactlyOnce] {
            q.open(&TaskContext::new("t", "s", 0, 1).with_recovery(guarantee, 0));
            q.track(1, 1);
            assert!(q.is_empty() && !q.is_tracking());
        }
    }
}
