//! Counters a running topology updates while it runs, for progress displays.

use std::sync::atomic::{AtomicU64, Ordering};

use super::live_board::Board;

/// Tuples emitted by spouts and executed by bolts so far, over all tasks of a run, and how many
/// of the spouts' emits were replays (a failed tree emitted again, or what a rollback rewound).
///
/// Put one in [`crate::Config::live`] and read it from another thread while the run lasts;
/// tasks add to it once per batch, so it lags by at most a batch per task. A watcher that wants
/// every component's numbers, the graph, latency and dead letters takes a
/// [`LiveCounters::snapshot`].
///
/// ```
/// use std::sync::Arc;
/// let live = Arc::new(squall::LiveCounters::default());
/// let mut config = squall::Config::default();
/// config.live = Some(live.clone());
/// assert_eq!(live.spout_emitted(), 0);
/// ```
#[derive(Debug, Default)]
pub struct LiveCounters {
    spout_emitted: AtomicU64,
    executed: AtomicU64,
    replayed: AtomicU64,
    restarts: AtomicU64,
    checkpoints: AtomicU64,
    rollbacks: AtomicU64,
    /// Per-task numbers for [`LiveCounters::snapshot`].
    board: Board,
}

impl LiveCounters {
    /// Tuples emitted by spout tasks so far.
    pub fn spout_emitted(&self) -> u64 {
        self.spout_emitted.load(Ordering::Relaxed)
    }

    /// Tuples executed by bolt tasks so far.
    pub fn executed(&self) -> u64 {
        self.executed.load(Ordering::Relaxed)
    }

    /// Spout emits that were emitted again so far: replays of failed trees (at-least-once)
    /// and what rollbacks rewound (exactly-once). `spout_emitted() - replayed()` is the input
    /// read once, however often it was replayed.
    pub fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Relaxed)
    }

    /// Task restarts so far.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Checkpoints completed so far.
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints.load(Ordering::Relaxed)
    }

    /// Rollbacks of the whole topology to a checkpoint so far.
    pub fn rollbacks(&self) -> u64 {
        self.rollbacks.load(Ordering::Relaxed)
    }

    pub(crate) fn board(&self) -> &Board {
        &self.board
    }

    pub(crate) fn add_restarts(&self, n: u64) {
        self.restarts.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_checkpoint(&self) {
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_rollback(&self) {
        self.rollbacks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_replayed(&self, n: u64) {
        self.replayed.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_spout_emitted(&self, n: u64) {
        self.spout_emitted.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_executed(&self, n: u64) {
        self.executed.fetch_add(n, Ordering::Relaxed);
    }
}
