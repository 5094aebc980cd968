//! A batch of tuples with their per-tuple metadata.

use serde::{Deserialize, Serialize};

/// Tuples sent together from one producer task to one consumer task.
///
/// Stored as parallel vectors so the values can be moved out without copying the metadata.
/// `origins` holds each tuple's root emit time in nanoseconds since the run's epoch (0: not
/// measured), so latency can be recorded where the tuple tree ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch<T> {
    /// The tuples.
    pub values: Vec<T>,
    /// Root emit time of each tuple, nanoseconds since the run's epoch.
    pub origins: Vec<u64>,
}

impl<T> Batch<T> {
    /// An empty batch with room for `capacity` tuples.
    pub fn with_capacity(capacity: usize) -> Self {
        Batch {
            values: Vec::with_capacity(capacity),
            origins: Vec::with_capacity(capacity),
        }
    }

    /// Appends one tuple.
    pub fn push(&mut self, value: T, origin: u64) {
        self.values.push(value);
        self.origins.push(origin);
    }

    /// How many tuples the batch holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the batch holds no tuple.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}
