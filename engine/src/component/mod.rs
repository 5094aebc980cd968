//! What users implement: the [`Spout`] and [`Bolt`] traits, the collectors they emit through,
//! and the [`TaskContext`] that tells a task where it runs; bolts from closures ([`Map`],
//! [`Filter`], [`FlatMap`]), a spout over a `Vec` ([`VecSpout`]) and a collecting sink for tests
//! ([`Collect`]).
//!
//! Every hook has a default no-op except the one that does the work (`next_tuple`, `execute`).
//! Hooks return `Result<(), ComponentError>`, so user code can use `?` on any error.

mod anchor;
mod bolt;
mod closures;
pub(crate) mod collector;
mod context;
mod counter;
mod spout;
mod state;
mod two_inputs;
mod waker;

pub use anchor::Anchor;
pub use bolt::Bolt;
pub use closures::{Collect, Filter, FlatMap, Map, VecSpout};
pub use collector::{BoltCollector, DirectEmitError, Source, SpoutCollector, UndeclaredStream};
pub use context::TaskContext;
pub use counter::Counter;
pub(crate) use counter::{add_into as add_counters, Counters};
pub use spout::{MessageId, Spout};
pub use state::State;
pub use two_inputs::{Either, TwoInputBolt, TwoInputs};
pub use waker::SpoutWaker;

use serde::{de::DeserializeOwned, Serialize};

/// A value that can travel between tasks: owned, cloneable (for `all` groupings and several
/// subscribers) and MessagePack-serializable (for `always_serialize` and every byte boundary).
pub trait Tuple: Serialize + DeserializeOwned + Clone + Send + Unpin + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + Send + Unpin + 'static> Tuple for T {}
