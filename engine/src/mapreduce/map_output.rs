//! What a mapper emits into.

use std::borrow::Borrow;
use std::hash::Hash;

use super::sort_buffer::SortBuffer;
use super::{JobError, Key, Value};

/// What a [`super::Mapper`] emits into: its attempt's sort buffer.
pub struct MapOutput<'a, K, V> {
    pub(crate) buffer: &'a mut SortBuffer<K, V>,
}

impl<K: Key, V: Value> MapOutput<'_, K, V> {
    /// Emits a `(key, value)` pair. May spill a sorted run to disk, hence the `Result`.
    pub fn emit(&mut self, key: K, value: V) -> Result<(), JobError> {
        self.buffer.counters.map_output_records += 1;
        self.buffer.add(key, value)
    }

    /// Emits a pair whose key is given borrowed (`&str` for a `String` key): with a combiner,
    /// a key already in the buffer costs no allocation.
    pub fn emit_ref<Q>(&mut self, key: &Q, value: V) -> Result<(), JobError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.buffer.counters.map_output_records += 1;
        self.buffer.add_ref(key, value)
    }

    /// Increments user counter `name` by `by` (counted only if the attempt commits).
    pub fn increment(&mut self, name: &str, by: u64) {
        self.buffer.counters.increment(name, by);
    }
}
