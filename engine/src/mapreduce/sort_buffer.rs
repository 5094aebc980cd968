//! The map side's sort buffer (Hadoop's `MapOutputBuffer`): map output is held in memory up to
//! a byte budget, then sorted by partition and key and spilled to disk as one sorted run per
//! partition. All map output reaches disk, so an attempt's output is a set of files that can be
//! committed (renamed into place) or thrown away whole.
//!
//! With a combiner the buffer is a hash table from key to that key's pending values, and the
//! combiner runs whenever a key gathers [`COMBINE_AT`] values and once more at spill time: a
//! word count then holds one counter per distinct word instead of one record per word, which
//! is what makes the map side as cheap as a hand-written counting loop.

use std::borrow::Borrow;
use std::hash::Hash;
use std::mem::size_of;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::FxBuildHasher;

use super::run_file::{RunRef, RunWriter};
use super::{Combiner, Counters, JobError, Key, Partitioner, Value};

/// Values a key may gather in a combining buffer before the combiner folds them.
pub const COMBINE_AT: usize = 8;

/// Estimated table overhead per distinct key (control byte, load factor slack).
const TABLE_OVERHEAD: usize = 16;

struct Slot<V> {
    partition: u32,
    values: Vec<V>,
    /// Bytes of `values` counted in the buffer's total.
    bytes: usize,
}

enum Table<K, V> {
    Plain(Vec<(u32, K, V)>),
    Combining(hashbrown::HashMap<K, Slot<V>, FxBuildHasher>),
}

/// The in-memory map output of one attempt, and the runs it has spilled.
pub(crate) struct SortBuffer<K, V> {
    table: Table<K, V>,
    combiner: Option<Box<dyn Combiner<K, V>>>,
    partitioner: Arc<dyn Partitioner<K>>,
    partitions: usize,
    limit: usize,
    bytes: usize,
    dir: PathBuf,
    /// Sorted runs spilled so far, by partition.
    runs: Vec<Vec<RunRef>>,
    pub(crate) counters: Counters,
}

impl<K: Key, V: Value> SortBuffer<K, V> {
    /// A buffer spilling into `dir` once it holds about `limit` bytes.
    pub(crate) fn new(
        dir: PathBuf,
        limit: usize,
        partitions: usize,
        partitioner: Arc<dyn Partitioner<K>>,
        combiner: Option<Box<dyn Combiner<K, V>>>,
    ) -> Self {
        let table = match combiner {
            Some(_) => Table::Combining(hashbrown::HashMap::with_hasher(FxBuildHasher)),
            None => Table::Plain(Vec::new()),
        };
        SortBuffer {
            table,
            combiner,
            partitioner,
            partitions: partitions.max(1),
            limit,
            bytes: 0,
            dir,
            runs: vec![Vec::new(); partitions.max(1)],
            counters: Counters::default(),
        }
    }

    fn partition(&self, key: &K) -> u32 {
        let p = self.partitioner.partition(key, self.partitions);
        p.min(self.partitions - 1) as u32
    }

    fn add(&mut self, key: K, value: V) -> Result<(), JobError> {
        match &mut self.table {
            Table::Plain(records) => {
                let bytes = size_of::<(u32, K, V)>() + key.heap_size() + value.heap_size();
                let partition = self.partitioner.partition(&key, self.partitions);
                let partition = partition.min(self.partitions - 1) as u32;
                records.push((partition, key, value));
                self.bytes += bytes;
            }
            Table::Combining(_) => return self.add_ref(&key.clone(), value),
        }
        self.spill_if_full()
    }

    fn add_ref<Q>(&mut self, key: &Q, value: V) -> Result<(), JobError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let value_bytes = size_of::<V>() + value.heap_size();
        let Table::Combining(table) = &mut self.table else {
            return self.add(key.to_owned(), value);
        };
        if let Some((k, slot)) = table.get_key_value_mut(key) {
            slot.values.push(value);
            slot.bytes += value_bytes;
            self.bytes += value_bytes;
            if slot.values.len() >= COMBINE_AT {
                if let Some(c) = self.combiner.as_mut() {
                    combine(c.as_mut(), k, slot, &mut self.counters, &mut self.bytes)?;
                }
            }
        } else {
            let owned = key.to_owned();
            let partition = self.partition(&owned);
            let Table::Combining(table) = &mut self.table else {
                return Ok(());
            };
            self.bytes +=
                size_of::<(K, Slot<V>)>() + TABLE_OVERHEAD + owned.heap_size() + value_bytes;
            let mut values = Vec::with_capacity(2);
            values.push(value);
            table.insert(
                owned,
                Slot {
                    partition,
                    values,
                    bytes: value_bytes,
                },
            );
        }
        self.spill_if_full()
    }

    fn spill_if_full(&mut self) -> Result<(), JobError> {
        if self.bytes >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Sorts what the buffer holds and writes it as one run per non-empty partition.
    pub(crate) fn spill(&mut self) -> Result<(), JobError> {
        let spill = self.counters.spills;
        let mut records: Vec<(u32, K, Vec<V>)> = match &mut self.table {
            Table::Plain(records) if records.is_empty() => return Ok(()),
            Table::Combining(table) if table.is_empty() => return Ok(()),
            Table::Plain(records) => std::mem::take(records)
                .into_iter()
                .map(|(p, k, v)| (p, k, vec![v]))
                .collect(),
            Table::Combining(table) => std::mem::take(table)
                .into_iter()
                .map(|(k, s)| (s.partition, k, s.values))
                .collect(),
        };
        self.bytes = 0;
        records.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut writer: Option<(u32, RunWriter)> = None;
        for (partition, key, mut values) in records {
            if values.len() > 1 {
                if let Some(c) = self.combiner.as_mut() {
                    self.counters.combine_input_records += values.len() as u64;
                    c.combine(&key, &mut values)
                        .map_err(|e| JobError::Spill(format!("combiner failed: {e}")))?;
                    self.counters.combine_output_records += values.len() as u64;
                }
            }
            if writer.as_ref().map(|w| w.0) != Some(partition) {
                if let Some((p, w)) = writer.take() {
                    self.runs[p as usize].push(w.finish()?);
                }
                let path = self.dir.join(format!("s{spill:05}-p{partition:05}.run"));
                writer = Some((partition, RunWriter::create(path)?));
            }
            if let Some((_, w)) = writer.as_mut() {
                for v in &values {
                    w.write(&key, v)?;
                }
            }
            self.counters.spilled_records += values.len() as u64;
        }
        if let Some((p, w)) = writer.take() {
            self.runs[p as usize].push(w.finish()?);
        }
        self.counters.spills += 1;
        Ok(())
    }

    /// Spills what is left; returns the runs by partition and the attempt's counters.
    pub(crate) fn finish(mut self) -> Result<(Vec<Vec<RunRef>>, Counters), JobError> {
        self.spill()?;
        Ok((self.runs, self.counters))
    }
}

/// Folds a slot's values with the combiner, keeping the byte count right.
fn combine<K: Key, V: Value>(
    combiner: &mut dyn Combiner<K, V>,
    key: &K,
    slot: &mut Slot<V>,
    counters: &mut Counters,
    total: &mut usize,
) -> Result<(), JobError> {
    counters.combine_input_records += slot.values.len() as u64;
    combiner
        .combine(key, &mut slot.values)
        .map_err(|e| JobError::Spill(format!("combiner failed: {e}")))?;
    counters.combine_output_records += slot.values.len() as u64;
    let bytes = slot.values.capacity() * size_of::<V>()
        + slot.values.iter().map(V::heap_size).sum::<usize>();
    *total = total.saturating_sub(slot.bytes) + bytes;
    slot.bytes = bytes;
    Ok(())
}

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
