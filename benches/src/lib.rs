//! Benchmark support.

pub mod wordcount;
