//! # Squall connectors
//!
//! Spouts that read tuples from outside a [`squall`] topology and sink bolts that write them
//! out. Each system has its own module behind a cargo feature of the same name, so a topology
//! only compiles the clients it uses.
//!
//! # Modules
//!
//! - [`file`](mod@file) (feature `file`, on by default): bounded spouts over CSV, JSON Lines and plain
//!   text files; sinks writing JSON Lines or TSV to a file or stdout.
//! - [`replay`]: the pending tuples of a replayable spout (at-least-once), shared by every
//!   spout that can emit a failed tuple again.
//!
//! - [`broker`] (any broker feature): endpoints, payload formats, backoff, and the spout and sink
//!   cores shared by:
//!   - `mqtt`: MQTT 3.1.1 spout (QoS 1, persistent session, PUBACK only on ack) and sink.
//!   - `nats`: core NATS and JetStream spouts (durable pull consumer, ack/nak) and sinks
//!     (JetStream with `Nats-Msg-Id` de-duplication).
//!   - `redis`: Redis streams spout (consumer group, XACK on ack) and sink (XADD), lookup bolt.
//!   - `postgres`: idempotent batched PostgreSQL sink.
//! - [`Malformed`]: the shared counter of skipped records.
//!
//! # Example
//!
//! Word lengths from a text file, written as TSV:
//!
//! ```
//! use squall::{Config, LocalCluster, TopologyBuilder};
//! use squall_connectors::file::{Destination, LinesSpout, TsvWriter};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let input = dir.path().join("words.txt");
//! std::fs::write(&input, "storm\nsquall\n")?;
//! let output = dir.path().join("lengths.tsv");
//!
//! let spout = LinesSpout::new(vec![input]);
//! let writer = TsvWriter::new(Destination::File(output.clone()), |word: &String, fields| {
//!     fields.push(word.clone());
//!     fields.push(word.len().to_string());
//! });
//! let mut builder = TopologyBuilder::new("lengths");
//! let words = builder.set_spout("words", 1, move || spout.clone());
//! builder.set_bolt("out", 1, move || writer.clone()).global_grouping(&words);
//! LocalCluster::new(Config::default()).run(builder.build()?)?;
//!
//! assert_eq!(std::fs::read_to_string(&output)?, "storm\t5\nsquall\t6\n");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

#[cfg(feature = "broker")]
pub mod broker;
#[cfg(any(feature = "file", feature = "broker"))]
mod excerpt;
#[cfg(feature = "file")]
pub mod file;
mod malformed;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;

pub mod replay;

pub use malformed::{Malformed, MALFORMED};
