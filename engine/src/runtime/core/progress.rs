//! Where a spout task is in its input: which of its emits repeat earlier ones (`replayed`),
//! where a rollback rewinds it to, and how much of what it emitted a checkpoint committed.

use rustc_hash::FxHashSet;

use crate::component::MessageId;

/// Where a spout task stood when it took part in a checkpoint.
struct Mark {
    checkpoint: u64,
    /// Tuples emitted so far.
    emitted: u64,
    /// Its position in its input (see `Progress::position`).
    position: u64,
}

/// A spout task's progress through its input, across checkpoints and rollbacks.
#[derive(Default)]
pub(crate) struct Progress {
    /// Where the task stood at each uncommitted checkpoint: a rollback to one of them
    /// rewinds there.
    marks: Vec<Mark>,
    /// The position when this generation began.
    gen_start: u64,
    /// Tuples emitted again: counted when they are emitted, not when their replay is decided,
    /// so a spout whose `fail` drops the tuple counts nothing.
    replayed: u64,
    /// How far into its input the spout is, in emits: rewound with the spout, so an emit at a
    /// position at or below `high_water` repeats one made before.
    position: u64,
    /// The furthest position reached.
    high_water: u64,
    /// Message ids failed back to the spout: emitting one again is a replay.
    replay_ids: FxHashSet<MessageId>,
    /// Tuples emitted when the last committed snapshot was taken (or when the checkpoint
    /// rolled back to was): exactly-once, a spout seals once this reaches what it emitted.
    committed: u64,
}

impl Progress {
    /// Tuples emitted again so far.
    pub(crate) fn replayed(&self) -> u64 {
        self.replayed
    }

    /// One `next_tuple` call emitted `new` tuples, and emitted tuples with `ids` (message ids
    /// may repeat within the call). Returns how many of them repeat earlier emits.
    pub(crate) fn emitted(&mut self, new: u64, ids: impl Iterator<Item = MessageId>) -> u64 {
        let mut again = ids.filter(|id| self.replay_ids.remove(id)).count() as u64;
        if new > 0 {
            // Emits below the high-water mark repeat what a rewound spout emitted before.
            again += new.min(self.high_water.saturating_sub(self.position));
            self.position += new;
            self.high_water = self.high_water.max(self.position);
        }
        self.replayed += again;
        again
    }

    /// Message ids failed back to the spout: the spout may emit them again.
    pub(crate) fn failed(&mut self, ids: impl IntoIterator<Item = MessageId>) {
        self.replay_ids.extend(ids);
    }

    /// A fresh spout instance starts its input over from the beginning.
    pub(crate) fn start_over(&mut self) {
        self.replay_ids.clear();
        self.position = 0;
    }

    /// The task snapshotted for checkpoint `id` after emitting `emitted` tuples.
    pub(crate) fn checkpoint_taken(&mut self, id: u64, emitted: u64) {
        self.marks.push(Mark {
            checkpoint: id,
            emitted,
            position: self.position,
        });
    }

    /// Checkpoint `id` completed.
    pub(crate) fn committed(&mut self, id: u64) {
        if let Some(m) = self.marks.iter().find(|m| m.checkpoint == id) {
            self.committed = self.committed.max(m.emitted);
        }
        self.marks.retain(|m| m.checkpoint >= id);
    }

    /// True when some of the `emitted` tuples are in no committed checkpoint yet.
    pub(crate) fn uncommitted(&self, emitted: u64) -> bool {
        self.committed < emitted
    }

    /// A rollback to `checkpoint` (none: to the start of this generation) after `emitted`
    /// tuples. With `rewind` the spout is restored there, so its next emits repeat what came
    /// after; without (at least once) it keeps going and replays through `fail`.
    pub(crate) fn rollback(&mut self, checkpoint: Option<u64>, rewind: bool, emitted: u64) {
        if rewind {
            self.position = checkpoint
                .and_then(|c| self.marks.iter().find(|m| m.checkpoint == c))
                .map_or(self.gen_start, |m| m.position.max(self.gen_start));
        }
        self.marks.clear();
        self.gen_start = self.position;
        // The checkpoint restored is complete: nothing before this point is uncommitted.
        self.committed = emitted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewind_counts_what_is_emitted_again_once() {
        let mut p = Progress::default();
        p.emitted(10, std::iter::empty());
        p.checkpoint_taken(1, 10);
        p.emitted(5, std::iter::empty());
        p.rollback(Some(1), true, 15);
        assert_eq!(p.emitted(7, std::iter::empty()), 5, "positions 11-15 again");
        assert_eq!(p.emitted(3, std::iter::empty()), 0);
        assert_eq!(p.replayed(), 5);
    }

    #[test]
    fn failed_ids_count_when_emitted_again_not_when_failed() {
        let mut p = Progress::default();
        p.failed([4, 9]);
        assert_eq!(p.replayed(), 0);
        assert_eq!(
            p.emitted(0, [4, 4].into_iter()),
            1,
            "one replay per failed id"
        );
        assert_eq!(p.replayed(), 1);
    }

    #[test]
    fn commits_cover_what_was_emitted_before_their_checkpoint() {
        let mut p = Progress::default();
        p.emitted(3, std::iter::empty());
        p.checkpoint_taken(1, 3);
        p.emitted(2, std::iter::empty());
        assert!(p.uncommitted(5));
        p.committed(1);
        assert!(p.uncommitted(5) && !p.uncommitted(3));
    }
}
