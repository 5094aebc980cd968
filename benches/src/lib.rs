//! Benchmark support.

pub mod sensor;
pub mod wordcount;
