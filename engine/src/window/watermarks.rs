//! How a spout's tuples get their event time and its watermarks.

use std::sync::Arc;
use std::time::Duration;

/// Reads a tuple's event time (milliseconds, or any unit the windows use alike).
pub type TimestampFn<T> = Arc<dyn Fn(&T) -> u64 + Send + Sync>;

/// Watermark generation at a spout (Flink's `WatermarkStrategy.forBoundedOutOfOrderness`):
/// the watermark is the highest timestamp the spout task has emitted minus `lag`. A tuple
/// older than the watermark when it reaches a window operator may be late there.
///
/// The watermark travels in band with the tuples (inside their batches, or alone when no
/// batch goes out), through every grouping, ahead of checkpoint barriers; a bolt task's
/// watermark is the minimum over its input links, and each bolt passes its own on. It goes
/// out on every link at least every [`Watermarks::every_tuples`] emits and every
/// [`Watermarks::every`], and before any tuple that is behind it, so lateness is decided
/// exactly as a sequential reader of the spout's output would decide it.
///
/// Under at-least-once a tracked tuple holds the watermark back until its tree is acked, so
/// a replayed tuple is never late because of the tuples emitted after it.
///
/// ```
/// use std::time::Duration;
/// use squall::window::Watermarks;
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Click { ts_ms: u64, page: String }
///
/// let w = Watermarks::bounded(500, |c: &Click| c.ts_ms).idle_after(Duration::from_secs(5));
/// assert_eq!(w.lag_ms(), 500);
/// ```
pub struct Watermarks<T> {
    pub(crate) extract: TimestampFn<T>,
    pub(crate) lag_ms: u64,
    pub(crate) idle: Option<Duration>,
    pub(crate) every_tuples: u32,
    pub(crate) every: Duration,
}

impl<T> Watermarks<T> {
    /// Bounded out-of-orderness: tuples may arrive up to `lag_ms` behind the highest
    /// timestamp seen; `extract` reads a tuple's timestamp.
    pub fn bounded(lag_ms: u64, extract: impl Fn(&T) -> u64 + Send + Sync + 'static) -> Self {
        Watermarks {
            extract: Arc::new(extract),
            lag_ms,
            idle: None,
            every_tuples: 1000,
            every: Duration::from_millis(200),
        }
    }

    /// A spout task that emits nothing for `after` (and holds no unacked tuple) is marked
    /// idle: its consumers leave it out of their minimum until it emits again, so a quiet
    /// input does not stall every window downstream (Flink's `withIdleness`).
    pub fn idle_after(mut self, after: Duration) -> Self {
        self.idle = Some(after);
        self
    }

    /// Sends the watermark on every link at least every `n` emits (default 1,000).
    pub fn every_tuples(mut self, n: u32) -> Self {
        self.every_tuples = n.max(1);
        self
    }

    /// Sends the watermark on every link at least every `interval` (default 200 ms).
    pub fn every(mut self, interval: Duration) -> Self {
        self.every = interval;
        self
    }

    /// The lag.
    pub fn lag_ms(&self) -> u64 {
        self.lag_ms
    }
}

impl<T> Clone for Watermarks<T> {
    fn clone(&self) -> Self {
        Watermarks {
            extract: self.extract.clone(),
            lag_ms: self.lag_ms,
            idle: self.idle,
            every_tuples: self.every_tuples,
            every: self.every,
        }
    }
}
