//! Benchmark support.

pub mod windowed;
pub mod wordcount;
