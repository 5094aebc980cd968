//! At least once, a stateful bolt task that has crashed keeps a snapshot of its own state in the
//! task shell, which outlives the user instance, so that the next crash costs only the trees
//! executed since that snapshot.
//!
//! Without it a stateful bolt holds every ack until a checkpoint completes, and a crash fails
//! every held tree; when crashes come faster than checkpoints (each pending restart defers the
//! next one), the held trees grow with the run and every crash replays all of them. A local
//! snapshot needs no barrier: at least once, a restarted task restores only its own state, and
//! the acks held for the inputs whose effect the snapshot holds may go out at once.
//!
//! The shell takes them for `ACTIVE` after each crash (a run without failures pays nothing,
//! and one that stops failing stops paying), once `MIN_HELD` acks wait, and only while
//! snapshotting costs at most half the time since the last one, so a large state is
//! snapshotted less often.

use std::time::{Duration, Instant};

use crate::State;

/// Acks that must wait before a local snapshot is worth taking.
const MIN_HELD: usize = 16;

/// Time between two snapshots, as a multiple of what the last one cost.
const COST_RATIO: u32 = 1;

/// How long after a crash snapshots go on.
const ACTIVE: Duration = Duration::from_secs(10);

/// A bolt task's local snapshots (at least once, stateful bolts, after a first crash).
#[derive(Default)]
pub(crate) struct LocalSnapshots {
    /// The last crash under at least once: snapshots are worth their cost for `ACTIVE`.
    crashed: Option<Instant>,
    /// The latest snapshot, `Some(None)` for a stateful bolt that returned no state.
    latest: Option<Option<State>>,
    /// When the latest was taken, and what it cost.
    taken: Option<(Instant, Duration)>,
}

impl LocalSnapshots {
    /// The task crashed under at least once: keep snapshots from now on.
    pub(crate) fn crashed(&mut self) {
        if !self.is_on() {
            // Kept before a quiet spell: checkpoints taken since are newer.
            self.forget();
        }
        self.crashed = Some(Instant::now());
    }

    /// Whether to snapshot now, with `held` acks waiting.
    #[inline]
    pub(crate) fn due(&self, held: usize) -> bool {
        if held < MIN_HELD || !self.is_on() {
            return false;
        }
        match self.taken {
            Some((at, cost)) => at.elapsed() >= cost * COST_RATIO,
            None => true,
        }
    }

    /// Records a snapshot that started at `started`.
    pub(crate) fn keep(&mut self, state: Option<State>, started: Instant) {
        let now = Instant::now();
        self.latest = Some(state);
        self.taken = Some((now, now.saturating_duration_since(started)));
    }

    /// The state a restarted instance restores, if a snapshot was kept: it is newer than any
    /// checkpoint the task took part in, since every checkpoint snapshot is kept here too.
    pub(crate) fn latest(&self) -> Option<Option<State>> {
        self.latest.clone()
    }

    /// A rollback restores every task to a checkpoint; what was kept is older history now.
    pub(crate) fn forget(&mut self) {
        self.latest = None;
        self.taken = None;
    }

    /// Whether snapshots are being kept.
    pub(crate) fn is_on(&self) -> bool {
        self.crashed.is_some_and(|t| t.elapsed() < ACTIVE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_start_after_a_crash_once_enough_acks_wait() {
        let mut s = LocalSnapshots::default();
        assert!(!s.due(1_000), "no crash yet: no cost");
        s.crashed();
        assert!(!s.due(MIN_HELD - 1));
        assert!(s.due(MIN_HELD));
        s.keep(Some(State::from_bytes(vec![1])), Instant::now());
        assert_eq!(s.latest(), Some(Some(State::from_bytes(vec![1]))));
        s.forget();
        assert_eq!(s.latest(), None);
    }

    #[test]
    fn a_snapshot_from_before_a_quiet_spell_is_not_restored() {
        let mut s = LocalSnapshots {
            crashed: Some(Instant::now() - ACTIVE * 2),
            latest: Some(None),
            taken: None,
        };
        assert!(!s.is_on());
        s.crashed();
        assert_eq!(s.latest(), None, "checkpoints taken since are newer");
        assert!(s.is_on());
    }

    #[test]
    fn a_costly_snapshot_waits_for_more_execution() {
        let mut s = LocalSnapshots::default();
        s.crashed();
        let started = Instant::now() - Duration::from_secs(10);
        s.keep(None, started);
        assert!(!s.due(1_000_000), "a 10 s snapshot waits 10 s");
    }
}
