//! Reference topologies and jobs for Squall, and the pieces the `squall` command is made of.
//!
//! # Layout
//!
//! - [`sensor`]: the sensor alarm pipeline: per-sensor alarm runs and a leak detector over all
//!   sensors, from simulated sensors or a CSV file.
//! - [`word_count`]: storm-starter's word count as a bounded topology.
//! - [`rolling_top_words`]: storm-starter's RollingTopWords: sliding counts and rankers on
//!   ticks.
//! - [`window`]: event-time windows over CSV files: counts per key, and a windowed join.
//! - [`mapreduce`]: the MapReduce jobs: word count, inverted index, co-occurrence.
//! - [`words`]: the one definition of a word, shared by every word-counting topology and job.
//! - [`bench`]: fixed-rate spouts and an injected stall, for `squall bench`.
//! - [`cli`]: the `squall` command.
#![deny(missing_docs)]

pub mod bench;
pub mod cli;
pub mod mapreduce;
pub mod rolling_top_words;
pub mod sensor;
#[cfg(test)]
mod testing;
pub mod window;
pub mod word_count;
pub mod words;
