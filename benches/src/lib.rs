//! Benchmark support.

pub mod sensor;
pub mod windowed;
pub mod wordcount;
