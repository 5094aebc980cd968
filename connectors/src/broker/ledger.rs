//! Exactly-once bookkeeping of a broker spout: which emitted messages each checkpoint covers,
//! so that a message is acknowledged to the broker only once a checkpoint that includes it is
//! complete, and a rollback knows what to emit again.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use squall::MessageId;

/// Where a spout stands in a checkpoint: its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// Tuples emitted along the restored history (re-emits after a rollback count again,
    /// since the rollback took the first emits back).
    pub emitted: u64,
    /// Messages taken from the client, malformed ones included (for `with_max_records`).
    pub received: u64,
}

/// Messages emitted and not yet committed, in emission order, and the position each snapshot
/// of a checkpoint not yet committed was taken at.
#[derive(Debug)]
pub(crate) struct Ledger<T> {
    /// The position of the first entry.
    base: u64,
    /// Each emitted message's id, and its value when the spout replays locally.
    entries: VecDeque<(MessageId, Option<T>)>,
    /// (checkpoint, position) of each snapshot taken and not yet committed, oldest first.
    marks: VecDeque<(u64, u64)>,
}

impl<T> Default for Ledger<T> {
    fn default() -> Self {
        Ledger {
            base: 0,
            entries: VecDeque::new(),
            marks: VecDeque::new(),
        }
    }
}

impl<T> Ledger<T> {
    /// Tuples emitted along the restored history.
    pub(crate) fn position(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// True when every emit is committed.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records an emit.
    pub(crate) fn push(&mut self, id: MessageId, value: Option<T>) {
        self.entries.push_back((id, value));
    }

    /// Notes that checkpoint `checkpoint`'s snapshot was taken now; returns the position.
    pub(crate) fn mark(&mut self, checkpoint: u64) -> u64 {
        let at = self.position();
        self.marks.push_back((checkpoint, at));
        at
    }

    /// Checkpoint `checkpoint` is complete: returns the messages its snapshot (or an earlier
    /// one) covers, which may now be acknowledged, and forgets them.
    pub(crate) fn commit(&mut self, checkpoint: u64) -> Vec<MessageId> {
        let mut upto = None;
        while let Some(&(c, at)) = self.marks.front() {
            if c > checkpoint {
                break;
            }
            upto = Some(at);
            self.marks.pop_front();
        }
        match upto {
            Some(at) => self.take_before(at),
            None => Vec::new(),
        }
    }

    /// Rolls back to a complete checkpoint taken at position `at`: returns the messages
    /// before it (committed, to acknowledge) and those from it on (to emit again or hand back
    /// to the broker), and continues from `at`. A fresh ledger (a new spout instance restored
    /// from an older one's checkpoint) just continues from `at`.
    pub(crate) fn rewind(&mut self, at: u64) -> (Vec<MessageId>, Vec<(MessageId, Option<T>)>) {
        self.marks.clear();
        let committed = self.take_before(at);
        let rewound = self.entries.drain(..).collect();
        self.base = at;
        (committed, rewound)
    }

    /// Every message still held (at close: never committed).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (MessageId, Option<T>)> + '_ {
        self.entries.drain(..)
    }

    fn take_before(&mut self, at: u64) -> Vec<MessageId> {
        let n = at.saturating_sub(self.base).min(self.entries.len() as u64) as usize;
        self.base += n as u64;
        self.entries.drain(..n).map(|(id, _)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(ids: std::ops::Range<u64>) -> Ledger<u64> {
        let mut l = Ledger::default();
        ids.for_each(|id| l.push(id, Some(id * 10)));
        l
    }

    #[test]
    fn a_commit_releases_what_its_snapshot_covers_and_no_more() {
        let mut l = ledger(0..3);
        assert_eq!(l.mark(1), 3);
        l.push(3, Some(30));
        assert_eq!(l.mark(2), 4);
        l.push(4, Some(40));
        assert_eq!(l.commit(1), vec![0, 1, 2]);
        assert_eq!(
            l.commit(1),
            Vec::<u64>::new(),
            "a repeated commit releases nothing"
        );
        assert_eq!(l.commit(2), vec![3]);
        assert_eq!(l.position(), 5);
        assert_eq!(
            l.drain().count(),
            1,
            "the emit after the last snapshot waits"
        );
    }

    #[test]
    fn a_skipped_commit_is_covered_by_the_next_one() {
        let mut l = ledger(0..2);
        l.mark(4);
        l.push(2, None);
        l.mark(5);
        assert_eq!(l.commit(5), vec![0, 1, 2]);
        assert_eq!(l.drain().count(), 0);
    }

    #[test]
    fn an_abandoned_snapshot_commits_nothing() {
        let mut l = ledger(0..2);
        l.mark(7);
        assert_eq!(l.commit(6), Vec::<u64>::new());
    }

    #[test]
    fn a_rewind_settles_what_came_before_and_returns_what_came_after() {
        let mut l = ledger(0..5);
        l.mark(1);
        let (committed, rewound) = l.rewind(2);
        assert_eq!(committed, vec![0, 1]);
        assert_eq!(rewound, vec![(2, Some(20)), (3, Some(30)), (4, Some(40))]);
        assert_eq!(l.position(), 2);
        assert_eq!(l.commit(1), Vec::<u64>::new(), "marks are gone");
        l.push(9, Some(20));
        assert_eq!(l.position(), 3);
    }

    #[test]
    fn a_fresh_ledger_continues_from_the_restored_position() {
        let mut l = Ledger::<u64>::default();
        let (committed, rewound) = l.rewind(40);
        assert!(committed.is_empty() && rewound.is_empty());
        l.push(1, None);
        assert_eq!(l.mark(3), 41);
        assert_eq!(l.commit(3), vec![1]);
    }
}
