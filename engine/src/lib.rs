//! # Squall
//!
//! An actor-based stream processing engine: Storm's topology model (spouts, bolts, groupings)
//! in typed Rust, every task an actix actor, tuples moving in batches through credit-bounded
//! links, MessagePack at every byte boundary.
//!
//! # Layout
//!
//! - [`topology`]: what users declare: [`TopologyBuilder`], typed [`Stream`] handles (named
//!   output streams of any type through a [`StreamTag`]), groupings, [`Config`].
//! - [`component`]: what users implement: [`Spout`], [`Bolt`], and the collectors they emit
//!   through.
//! - [`runtime`]: how it runs, in five folders: `core/` (the task core without actix: the
//!   outbox's layers route, batch, credited link; the inbox; the ack tracker), `actix/` (the
//!   executors that run it, one actix actor per task), `launch/` (booting, starting and
//!   wiring the tasks; [`LocalCluster`]), `control/` (controller, supervisor, checkpoints,
//!   ackers, stop signals) and `observability/` (metrics, live counters, the [`RunReport`]).
//! - [`transport`]: how tuples move: batches, credits (backpressure), the MessagePack codec.
//! - [`window`]: event time, watermarks and windowed bolts.
//! - [`distributed`]: one topology spread over several processes, each running a part of it
//!   and reaching the others' tasks through a [`distributed::Fabric`].
//! - [`mapreduce`]: batch MapReduce jobs as bounded topologies on the same runtime.
//! - [`report`]: latency reports: percentile tables, `.hgrm` files, plots, `summary.json`
//!   ([`RunReport::write_report`]), and the names of the metrics every task exports through the
//!   `metrics` facade ([`report::metric_names`]).
//!
//! # Example
//!
//! ```
//! use squall::{Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector, TopologyBuilder};
//! use std::collections::HashMap;
//!
//! /// Emits the lines of a small text, then finishes.
//! struct Lines(Vec<String>);
//! impl Spout for Lines {
//!     type Output = String;
//!     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, String>) -> Result<(), ComponentError> {
//!         if let Some(line) = self.0.pop() {
//!             out.emit(line);
//!         }
//!         Ok(())
//!     }
//!     fn is_finished(&self) -> bool {
//!         self.0.is_empty()
//!     }
//! }
//!
//! /// Splits lines into words.
//! struct Split;
//! impl Bolt for Split {
//!     type Input = String;
//!     type Output = String;
//!     fn execute(&mut self, line: String, out: &mut BoltCollector<'_, String>) -> Result<(), ComponentError> {
//!         line.split_whitespace().for_each(|w| out.emit(w.to_string()));
//!         Ok(())
//!     }
//! }
//!
//! /// Counts words; prints its share at the end.
//! #[derive(Default)]
//! struct Count(HashMap<String, u64>);
//! impl Bolt for Count {
//!     type Input = String;
//!     type Output = (String, u64);
//!     fn execute(&mut self, word: String, _: &mut BoltCollector<'_, (String, u64)>) -> Result<(), ComponentError> {
//!         *self.0.entry(word).or_default() += 1;
//!         Ok(())
//!     }
//!     fn finish(&mut self, out: &mut BoltCollector<'_, (String, u64)>) -> Result<(), ComponentError> {
//!         self.0.drain().for_each(|wc| out.emit(wc));
//!         Ok(())
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let text = vec!["the cat".to_string(), "the dog".to_string()];
//! let mut builder = TopologyBuilder::new("word-count");
//! let lines = builder.set_spout("lines", 1, move || Lines(text.clone()));
//! let words = builder.set_bolt("split", 2, || Split).shuffle_grouping(&lines).stream();
//! builder
//!     .set_bolt("count", 2, Count::default)
//!     .fields_grouping(&words, |w: &String| w.clone());
//! let report = LocalCluster::new(Config::default()).run(builder.build()?)?;
//! assert_eq!(report.component("count").map(|c| c.executed), Some(4));
//! assert_eq!(report.component("count").map(|c| c.emitted), Some(3));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod component;
pub mod distributed;
mod error;
pub mod mapreduce;
pub mod report;
pub mod runtime;
pub mod topology;
pub mod transport;
pub mod window;

pub use component::{
    Anchor, Bolt, BoltCollector, Counter, DirectEmitError, MessageId, Source, Spout,
    SpoutCollector, SpoutWaker, State, TaskContext, Tuple, UndeclaredStream,
};
pub use error::{BuildError, ComponentError, RunError, TaskId, Unrecoverable};
pub use runtime::{
    ComponentReport, DeadLetter, LiveComponent, LiveCounters, LiveSnapshot, LocalCluster,
    RunReport, RunningTopology, StopSignal,
};
pub use topology::{
    key_hash, BoltDeclarer, Chaos, Config, CustomGrouping, GraphComponent, GraphEdge, Group,
    Guarantee, StateBackend, Strategy, Stream, StreamRef, StreamTag, Supervision, Topology,
    TopologyBuilder, TopologyGraph, DEFAULT_STREAM,
};
