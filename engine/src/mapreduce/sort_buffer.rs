//! The map side's sort buffer (Hadoop's `MapOutputBuffer`): map output is held in memory up to
//! a byte budget, then sorted by partition and key and spilled to disk as one sorted run per
//! partition. All map output reaches disk, so an attempt's output is a set of files that can be
//! committed (renamed into place) or thrown away whole.
//!
//! With a combiner the buffer is a hash table from key to that key's pending values
//! ([`Pending`]), folded by the combiner as they arrive and once more at spill time: a word
//! count holds one counter per distinct word instead of one record per word, which is what
//! makes the map side nearly as cheap as a hand-written counting loop.
//!
//! Memory is counted as the table's allocation (by capacity, so growth is charged before it
//! happens) plus the heap bytes of the buffered keys and values ([`super::HeapSize`], rounded
//! up to allocator chunks). A table that would grow past the budget spills first and is then
//! reused at its size, so the buffer's footprint stays near its limit whatever the data.

use std::borrow::Borrow;
use std::hash::Hash;
use std::mem::size_of;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::FxBuildHasher;
use serde::Serialize;

use super::pending::{chunk, Pending};
use super::run_file::{RunRef, RunWriter};
use super::{Combiner, Counters, JobError, Key, Partitioner, Value};

enum Table<K, V> {
    Plain(Vec<(u32, K, V)>),
    Combining {
        table: hashbrown::HashMap<K, Pending<V>, FxBuildHasher>,
        combiner: Box<dyn Combiner<K, V>>,
        /// Reused for folding an inline value with a new one.
        scratch: Vec<V>,
    },
}

/// The in-memory map output of one attempt, and the runs it has spilled.
pub(crate) struct SortBuffer<K, V> {
    table: Table<K, V>,
    partitioner: Arc<dyn Partitioner<K>>,
    partitions: usize,
    limit: usize,
    /// Heap bytes owned by buffered keys and values.
    heap: usize,
    dir: PathBuf,
    /// Sorted runs spilled so far, by partition.
    runs: Vec<Vec<RunRef>>,
    pub(crate) counters: Counters,
}

/// Bytes of a hash table able to hold `capacity` entries of `entry` bytes (7/8 load factor,
/// one control byte per bucket).
fn table_bytes(capacity: usize, entry: usize) -> usize {
    capacity.saturating_mul(8) / 7 * (entry + 1)
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
            Some(combiner) => Table::Combining {
                table: hashbrown::HashMap::with_hasher(FxBuildHasher),
                combiner,
                scratch: Vec::with_capacity(2),
            },
            None => Table::Plain(Vec::new()),
        };
        SortBuffer {
            table,
            partitioner,
            partitions: partitions.max(1),
            limit,
            heap: 0,
            dir,
            runs: vec![Vec::new(); partitions.max(1)],
            counters: Counters::default(),
        }
    }

    fn partition(&self, key: &K) -> u32 {
        let p = self.partitioner.partition(key, self.partitions);
        p.min(self.partitions - 1) as u32
    }

    /// The buffer's footprint: the table's allocation plus the heap of what it holds.
    fn bytes(&self) -> usize {
        self.heap
            + match &self.table {
                Table::Plain(r) => r.capacity() * size_of::<(u32, K, V)>(),
                Table::Combining { table, .. } => {
                    table_bytes(table.capacity(), size_of::<(K, Pending<V>)>())
                }
            }
    }

    pub(crate) fn add(&mut self, key: K, value: V) -> Result<(), JobError> {
        if let Table::Combining {
            table,
            combiner,
            scratch,
        } = &mut self.table
        {
            if let Some((k, pending)) = table.get_key_value_mut(&key) {
                let grew =
                    pending.push(k, value, combiner.as_mut(), scratch, &mut self.counters)?;
                return self.grew(grew);
            }
            return self.insert_new(key, value);
        }
        let record = size_of::<(u32, K, V)>();
        if let Table::Plain(records) = &self.table {
            if records.len() == records.capacity() {
                let want = (records.capacity() * 2).max((self.limit / record / 8).max(16));
                if !records.is_empty() && want * record + self.heap >= self.limit {
                    self.spill()?;
                } else if let Table::Plain(records) = &mut self.table {
                    records.reserve_exact(want - records.len());
                }
            }
        }
        let heap = chunk(key.heap_size()) + chunk(value.heap_size());
        let partition = self.partition(&key);
        if let Table::Plain(records) = &mut self.table {
            records.push((partition, key, value));
        }
        self.heap += heap;
        self.spill_if_full()
    }

    pub(crate) fn add_ref<Q>(&mut self, key: &Q, value: V) -> Result<(), JobError>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let Table::Combining {
            table,
            combiner,
            scratch,
        } = &mut self.table
        else {
            return self.add(key.to_owned(), value);
        };
        if let Some((k, pending)) = table.get_key_value_mut(key) {
            let grew = pending.push(k, value, combiner.as_mut(), scratch, &mut self.counters)?;
            return self.grew(grew);
        }
        self.insert_new(key.to_owned(), value)
    }

    /// Accounts for a key's pending values growing by `grew` bytes.
    fn grew(&mut self, grew: isize) -> Result<(), JobError> {
        self.heap = self.heap.saturating_add_signed(grew);
        if grew <= 0 {
            // Values without heap (counts) skip the check on the hot path.
            return Ok(());
        }
        self.spill_if_full()
    }

    /// A key new to the combining table: spill first if the table would have to grow past
    /// the budget.
    fn insert_new(&mut self, owned: K, value: V) -> Result<(), JobError> {
        if let Table::Combining { table, .. } = &self.table {
            if table.len() == table.capacity() && !table.is_empty() {
                let grown = table_bytes(table.capacity() * 2, size_of::<(K, Pending<V>)>());
                if grown + self.heap >= self.limit {
                    self.spill()?;
                }
            }
        }
        self.heap += chunk(owned.heap_size()) + chunk(value.heap_size());
        if let Table::Combining { table, .. } = &mut self.table {
            table.insert(owned, Pending::One(value));
        }
        self.spill_if_full()
    }

    fn spill_if_full(&mut self) -> Result<(), JobError> {
        if self.bytes() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Sorts what the buffer holds and writes it as one run per non-empty partition; the
    /// table keeps its allocation for the next round.
    pub(crate) fn spill(&mut self) -> Result<(), JobError> {
        let SortBuffer {
            table,
            dir,
            runs,
            counters,
            heap,
            partitioner,
            partitions,
            ..
        } = self;
        let mut out = Runs {
            dir,
            spill: counters.spills,
            runs,
            current: None,
            records: 0,
        };
        match table {
            Table::Plain(records) if records.is_empty() => return Ok(()),
            Table::Combining { table, .. } if table.is_empty() => return Ok(()),
            Table::Plain(records) => {
                records.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
                for (partition, key, value) in records.drain(..) {
                    out.write(partition, &key, &value)?;
                }
            }
            Table::Combining {
                table, combiner, ..
            } => {
                let last = *partitions - 1;
                let mut entries: Vec<(u32, &K, &mut Pending<V>)> = table
                    .iter_mut()
                    .map(|(k, p)| (partitioner.partition(k, *partitions).min(last) as u32, k, p))
                    .collect();
                entries.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
                for (partition, key, pending) in entries {
                    for v in pending.settle(key, combiner.as_mut(), counters)? {
                        out.write(partition, key, v)?;
                    }
                }
                table.clear();
            }
        }
        let written = out.finish()?;
        *heap = 0;
        counters.spilled_records += written;
        counters.spills += 1;
        Ok(())
    }

    /// Spills what is left; returns the runs by partition and the attempt's counters.
    pub(crate) fn finish(mut self) -> Result<(Vec<Vec<RunRef>>, Counters), JobError> {
        self.spill()?;
        Ok((self.runs, self.counters))
    }
}

/// The runs of one spill, opened as the sorted records reach each partition.
struct Runs<'a> {
    dir: &'a PathBuf,
    spill: u64,
    runs: &'a mut Vec<Vec<RunRef>>,
    current: Option<(u32, RunWriter)>,
    records: u64,
}

impl Runs<'_> {
    fn write<K: Serialize, V: Serialize>(
        &mut self,
        partition: u32,
        key: &K,
        value: &V,
    ) -> Result<(), JobError> {
        if self.current.as_ref().map(|c| c.0) != Some(partition) {
            self.close()?;
            let spill = self.spill;
            let path = self.dir.join(format!("s{spill:05}-p{partition:05}.run"));
            self.current = Some((partition, RunWriter::create(path)?));
        }
        if let Some((_, w)) = self.current.as_mut() {
            w.write(key, value)?;
        }
        self.records += 1;
        Ok(())
    }

    fn close(&mut self) -> Result<(), JobError> {
        if let Some((p, w)) = self.current.take() {
            self.runs[p as usize].push(w.finish()?);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<u64, JobError> {
        self.close()?;
        Ok(self.records)
    }
}
