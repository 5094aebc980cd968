//! What a run promises about its data, and how it recovers from failures.

use std::path::PathBuf;
use std::time::Duration;

/// Processing guarantee of a topology (`docs/guarantees.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Guarantee {
    /// No tracking and no checkpoints: a tuple in a failed task is lost. Fastest.
    #[default]
    AtMostOnce,
    /// Storm's acking: tuple trees are tracked by acker tasks and failed trees replayed by the
    /// spout; stateful bolts checkpoint without barrier alignment and ack their inputs only
    /// once their state is checkpointed. Counts may be too high after a failure, never too low.
    AtLeastOnce,
    /// Aligned checkpoint barriers (Chandy-Lamport, as Flink does): on a failure every task
    /// rolls back to the last complete checkpoint and the spouts rewind; results are exactly
    /// the failure-free ones.
    ExactlyOnce,
}

/// Which tasks a supervisor restarts when one fails (Erlang/OTP's strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Only the failed task gets a fresh instance.
    #[default]
    OneForOne,
    /// Every task of the topology gets a fresh instance.
    OneForAll,
    /// The failed task and every task of the components declared after its component (in
    /// topological order, i.e. its downstream side) get fresh instances.
    RestForOne,
}

/// How a topology's supervisor restarts failed tasks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Supervision {
    /// Which tasks restart together.
    pub strategy: Strategy,
    /// Restart intensity: at most this many restarts within `within`; one more fails the run.
    pub max_restarts: u32,
    /// The intensity window.
    pub within: Duration,
    /// First backoff before a restart; doubles with each restart in a row, with jitter.
    pub backoff_min: Duration,
    /// The backoff never exceeds this.
    pub backoff_max: Duration,
    /// After this long without a failure the backoff starts again from `backoff_min`.
    pub reset_after: Duration,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            strategy: Strategy::OneForOne,
            max_restarts: 10,
            within: Duration::from_secs(10),
            backoff_min: Duration::from_millis(1),
            backoff_max: Duration::from_secs(1),
            reset_after: Duration::from_secs(5),
        }
    }
}

impl Supervision {
    /// Chaos runs: no intensity limit and a backoff capped at a few milliseconds
    /// (`docs/cli.md`), so a run under injected failures always completes.
    pub fn for_chaos() -> Self {
        Supervision {
            max_restarts: u32::MAX,
            backoff_min: Duration::from_micros(200),
            backoff_max: Duration::from_millis(4),
            ..Supervision::default()
        }
    }
}

/// Failure injection: every bolt task panics with probability `panic_rate` per tuple, seeded
/// by `seed`. A given tuple (by its MessagePack encoding) is failed by chaos at most once per
/// bolt, so a run always makes progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    /// Probability of a panic per executed tuple, in [0, 1].
    pub panic_rate: f64,
    /// Seed of the draws.
    pub seed: u64,
}

/// Where checkpoints are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StateBackend {
    /// In the controller's memory (local mode's default).
    #[default]
    Memory,
    /// One MessagePack file per task and checkpoint under this directory; a checkpoint is
    /// complete once its `_COMPLETE` marker exists. The last two checkpoints are kept.
    Directory(PathBuf),
}
