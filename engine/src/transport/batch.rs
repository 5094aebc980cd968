//! A batch of tuples with their per-tuple metadata.

use serde::{Deserialize, Serialize};

/// Tuples sent together from one producer task to one consumer task.
///
/// Stored as parallel vectors so the values can be moved out without copying the metadata.
/// `origins` holds each tuple's root emit time in nanoseconds since the run's epoch (0: not
/// measured), so latency can be recorded where the tuple tree ends. With acking on, `trees`
/// holds each tuple's (root id, edge id) pairs, Storm's message id, laid out flat: tuple `i`
/// owns `trees[tree_ends[i-1]..tree_ends[i]]`; without acking both are empty.
///
/// `marks` carries event-time watermarks in band: `(i, w)` says the producer's watermark was
/// `w` before tuple `i` (`i == len()`: after the last tuple). Empty where no watermark moved,
/// so topologies without event time pay nothing for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch<T> {
    /// The tuples.
    pub values: Vec<T>,
    /// Root emit time of each tuple, nanoseconds since the run's epoch.
    pub origins: Vec<u64>,
    /// (root, edge) pairs of the tracked tuples, flat.
    pub trees: Vec<(u64, u64)>,
    /// End of each tuple's pairs in `trees` (empty when nothing is tracked).
    pub tree_ends: Vec<u32>,
    /// Watermarks in band: `(position, watermark)`, positions ascending.
    #[serde(default)]
    pub marks: Vec<(u32, u64)>,
}

impl<T> Batch<T> {
    /// An empty batch with room for `capacity` tuples.
    pub fn with_capacity(capacity: usize) -> Self {
        Batch {
            values: Vec::with_capacity(capacity),
            origins: Vec::with_capacity(capacity),
            trees: Vec::new(),
            tree_ends: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Makes room for `additional` more tuples.
    pub fn reserve(&mut self, additional: usize) {
        self.values.reserve(additional);
        self.origins.reserve(additional);
    }

    /// Appends one tuple.
    pub fn push(&mut self, value: T, origin: u64) {
        self.values.push(value);
        self.origins.push(origin);
    }

    /// An untracked batch of these tuples.
    pub fn from_parts(values: Vec<T>, origins: Vec<u64>) -> Self {
        Batch {
            values,
            origins,
            trees: Vec::new(),
            tree_ends: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// The (root, edge) pairs of tuple `i` (empty when untracked).
    pub fn trees_of(&self, i: usize) -> &[(u64, u64)] {
        let Some(&end) = self.tree_ends.get(i) else {
            return &[];
        };
        let start = if i == 0 { 0 } else { self.tree_ends[i - 1] };
        self.trees.get(start as usize..end as usize).unwrap_or(&[])
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
