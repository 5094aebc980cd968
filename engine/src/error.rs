//! Errors at the engine's boundaries: building a topology and running one.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The error type user hooks return: any error, boxed, so `?` works on anything a spout or
/// bolt calls. An `Err` from `execute` fails the tuple; from any other hook it fails the task.
pub type ComponentError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error no restart can fix, returned from a hook: an input file without the expected
/// header, a setting that cannot work. The supervisor does not retry it: the run ends at once
/// with [`RunError::TaskFailed`] naming the task and this message. Any other error from a
/// lifecycle hook (and any panic) is taken as transient, and the task is restarted.
///
/// ```
/// use squall::{ComponentError, Unrecoverable};
/// fn open_input(header: &str) -> Result<(), ComponentError> {
///     if header != "sensor,seq,value" {
///         return Err(Unrecoverable::new(format!("unexpected header {header:?}")).into());
///     }
///     Ok(())
/// }
/// assert!(open_input("a,b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Unrecoverable {
    message: String,
}

impl Unrecoverable {
    /// Wraps what went wrong (any error or text).
    pub fn new(what: impl fmt::Display) -> Self {
        Unrecoverable {
            message: what.to_string(),
        }
    }
}

/// Why [`crate::TopologyBuilder::build`] rejected a topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two components were declared with the same id.
    #[error("component id `{0}` is declared more than once")]
    DuplicateId(String),
    /// A bolt subscribes to a component that was never declared.
    #[error("component `{consumer}` subscribes to unknown component `{producer}`")]
    UnknownComponent {
        /// The subscribing bolt.
        consumer: String,
        /// The missing producer.
        producer: String,
    },
    /// The subscriptions form a cycle; the listed ids are on it.
    #[error("the topology has a cycle through {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// A component was declared with zero tasks.
    #[error("component `{0}` has parallelism 0; every component needs at least one task")]
    ZeroParallelism(String),
    /// A consumer expects a different tuple type than its producer emits on the stream it
    /// subscribes to (the default stream carries the producer's `Output`; a named stream, the
    /// type it was declared with).
    #[error(
        "component `{consumer}` expects tuples of type {expected} from stream `{stream}` of `{producer}`, which carries {found}"
    )]
    TypeMismatch {
        /// The subscribing bolt.
        consumer: String,
        /// The producer it subscribes to.
        producer: String,
        /// The stream subscribed to (`default` unless named).
        stream: String,
        /// The consumer's input type.
        expected: &'static str,
        /// The producer's output type.
        found: &'static str,
    },
    /// A bolt subscribes to a named stream its producer never declared.
    #[error(
        "component `{consumer}` subscribes to stream `{stream}` of `{producer}`, which declares no such stream"
    )]
    UndeclaredStream {
        /// The subscribing bolt.
        consumer: String,
        /// The producer it subscribes to.
        producer: String,
        /// The stream name it asked for.
        stream: String,
    },
    /// A component declares the same named stream twice with different types (or the
    /// default stream with a type other than its `Output`).
    #[error(
        "component `{component}` declares stream `{stream}` as {declared} and again as {redeclared}"
    )]
    StreamTypeConflict {
        /// The declaring component.
        component: String,
        /// The stream's name.
        stream: String,
        /// The type it was first declared with.
        declared: &'static str,
        /// The type of the conflicting declaration.
        redeclared: &'static str,
    },
    /// The topology declares no spout, so nothing would ever run.
    #[error("the topology declares no spout")]
    NoSpout,
    /// Watermarks were set on a component that is not a spout (watermarks are generated at
    /// the spouts) or is not declared.
    #[error("watermarks set on `{0}`, which is not a declared spout")]
    NotASpout(String),
}

/// Where a failure happened: component id and task index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskId {
    /// The component's id as declared.
    pub component: String,
    /// The task index within the component, from 0.
    pub task: usize,
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.component, self.task)
    }
}

/// Why a run ended without completing.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A user hook panicked or returned an error, and the task could not be recovered.
    #[error("task {task} failed in `{hook}`: {message}")]
    TaskFailed {
        /// The task that failed.
        task: TaskId,
        /// The hook that failed (`open`, `next_tuple`, `prepare`, `execute`, `finish`...).
        hook: &'static str,
        /// The panic message or the error's text.
        message: String,
    },
    /// A task kept failing faster than the restart intensity allows.
    #[error(
        "task {task} restarted {restarts} times within {window_s:.1}s; last failure: {message}"
    )]
    RestartIntensity {
        /// The task that kept failing.
        task: TaskId,
        /// How many restarts were counted in the window.
        restarts: u32,
        /// The intensity window in seconds.
        window_s: f64,
        /// The last panic message or error text.
        message: String,
    },
    /// The drain (after `shutdown`, a signal or the end of a bounded input) did not finish in
    /// time (`Config::drain_timeout`).
    #[error("the drain did not finish within {timeout:?}")]
    DrainTimeout {
        /// The time the drain was given.
        timeout: Duration,
    },
    /// A checkpoint could not be written to the state backend.
    #[error("cannot store checkpoint{}: {message}", path.as_ref().map(|p| format!(" file {}", p.display())).unwrap_or_default())]
    Checkpoint {
        /// The file that could not be written, for an I/O failure.
        path: Option<PathBuf>,
        /// What went wrong.
        message: String,
    },
    /// The topology was rejected before it ran.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The runtime's threads could not start, or every task vanished (the actor system
    /// stopped under the run).
    #[error("the runtime failed: {0}")]
    Runtime(String),
}
