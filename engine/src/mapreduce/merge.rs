//! The reduce side's k-way merge: every sorted run of a partition read at once through a heap,
//! so a reducer sees keys in order and the values of one key together, while memory holds one
//! record (and one read buffer) per run.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use std::path::Path;

use super::run_file::{RunReader, RunRef, RunWriter};
use super::{JobError, Key, Value};

/// The head record of one run. Ordered so that `BinaryHeap` (a max-heap) pops the smallest
/// key first, ties broken by run index, which keeps a key's values in a repeatable order.
struct Head<K, V> {
    key: K,
    value: V,
    run: usize,
}

impl<K: Ord, V> PartialEq for Head<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<K: Ord, V> Eq for Head<K, V> {}

impl<K: Ord, V> PartialOrd for Head<K, V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord, V> Ord for Head<K, V> {
    fn cmp(&self, other: &Self) -> Ordering {
        (&other.key, other.run).cmp(&(&self.key, self.run))
    }
}

/// Merges sorted runs into one sorted stream of groups.
pub(crate) struct Merge<K, V> {
    readers: Vec<RunReader<K, V>>,
    heap: BinaryHeap<Head<K, V>>,
    /// The first value of the current group, not yet handed out.
    pending: Option<V>,
    /// The first read error; iteration stops there and the attempt fails with it.
    error: Option<JobError>,
    /// Values handed out so far.
    pub(crate) values_read: u64,
}

impl<K: Key, V: Value> Merge<K, V> {
    pub(crate) fn open(runs: &[RunRef]) -> Result<Self, JobError> {
        let mut merge = Merge {
            readers: Vec::with_capacity(runs.len()),
            heap: BinaryHeap::with_capacity(runs.len()),
            pending: None,
            error: None,
            values_read: 0,
        };
        for (i, run) in runs.iter().enumerate() {
            merge.readers.push(RunReader::open(run)?);
            merge.refill(i)?;
        }
        Ok(merge)
    }

    fn refill(&mut self, run: usize) -> Result<(), JobError> {
        if let Some(reader) = self.readers.get_mut(run) {
            if let Some((key, value)) = reader.next_record()? {
                self.heap.push(Head { key, value, run });
            }
        }
        Ok(())
    }

    fn pop(&mut self) -> Option<(K, V)> {
        let head = self.heap.pop()?;
        if let Err(e) = self.refill(head.run) {
            self.error.get_or_insert(e);
            self.heap.clear();
        }
        Some((head.key, head.value))
    }

    /// Starts the next group: its key, with its values to be read through [`Values`]. Call
    /// [`Merge::end_group`] before the next call, so values left unread are skipped.
    pub(crate) fn next_key(&mut self) -> Result<Option<K>, JobError> {
        self.pending = None;
        let next = self.pop();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(next.map(|(key, value)| {
            self.pending = Some(value);
            key
        }))
    }

    /// The values of the group of `key` (the key `next_key` returned).
    pub(crate) fn values<'a>(&'a mut self, key: &'a K) -> Values<'a, K, V> {
        Values { merge: self, key }
    }

    /// Skips what is left of the current group; fails if reading a run failed.
    pub(crate) fn end_group(&mut self, key: &K) -> Result<(), JobError> {
        for _ in self.values(key) {}
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The names of the runs, for messages.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.readers.len()
    }
}

/// Runs a reduce attempt reads at once (Hadoop's `mapreduce.task.io.sort.factor`): each open
/// run costs a 64 KiB buffer and a file descriptor, so more runs than this are first merged in
/// passes into fewer, longer runs.
pub const MERGE_FACTOR: usize = 64;

/// Merges `runs` in passes of [`MERGE_FACTOR`] into at most that many runs, written under
/// `dir` (created if needed; the caller removes it).
pub(crate) fn premerge<K: Key, V: Value>(
    mut runs: Vec<RunRef>,
    dir: &Path,
) -> Result<Vec<RunRef>, JobError> {
    let mut pass = 0;
    while runs.len() > MERGE_FACTOR {
        std::fs::create_dir_all(dir).map_err(|e| JobError::io("create", dir, e))?;
        let mut next = Vec::with_capacity(runs.len().div_ceil(MERGE_FACTOR));
        for (i, group) in runs.chunks(MERGE_FACTOR).enumerate() {
            let mut merge = Merge::<K, V>::open(group)?;
            let mut out = RunWriter::create(dir.join(format!("pass{pass}-{i:05}.run")))?;
            while let Some(key) = merge.next_key()? {
                for value in merge.values(&key) {
                    out.write(&key, &value)?;
                }
                merge.end_group(&key)?;
            }
            next.push(out.finish()?);
        }
        runs = next;
        pass += 1;
    }
    Ok(runs)
}

/// The values of one key, read lazily from the merge (Hadoop's `Iterable<VALUEIN>` in
/// `reduce`): a key with millions of values never needs them all in memory.
pub struct Values<'a, K, V> {
    merge: &'a mut Merge<K, V>,
    key: &'a K,
}

impl<K: Key, V: Value> Iterator for Values<'_, K, V> {
    type Item = V;

    fn next(&mut self) -> Option<V> {
        if let Some(v) = self.merge.pending.take() {
            self.merge.values_read += 1;
            return Some(v);
        }
        if self.merge.heap.peek().is_some_and(|h| &h.key == self.key) {
            let (_, v) = self.merge.pop()?;
            self.merge.values_read += 1;
            return Some(v);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::run_file::RunWriter;
    use super::*;

    #[test]
    fn groups_come_out_in_key_order_with_all_their_values() {
        let dir = tempfile::tempdir().unwrap();
        let runs: Vec<RunRef> = [
            vec![("a", 1u64), ("c", 2), ("c", 3)],
            vec![],
            vec![("b", 10), ("c", 20), ("d", 30)],
        ]
        .iter()
        .enumerate()
        .map(|(i, records)| {
            let mut w = RunWriter::create(dir.path().join(format!("{i}.run"))).unwrap();
            for (k, v) in records {
                w.write(&k.to_string(), v).unwrap();
            }
            w.finish().unwrap()
        })
        .collect();
        let mut merge = Merge::<String, u64>::open(&runs).unwrap();
        assert_eq!(merge.runs(), 3);
        let mut got = Vec::new();
        while let Some(key) = merge.next_key().unwrap() {
            let values: Vec<u64> = merge.values(&key).collect();
            got.push((key, values));
        }
        assert_eq!(
            got,
            [
                ("a".to_string(), vec![1]),
                ("b".into(), vec![10]),
                ("c".into(), vec![2, 3, 20]),
                ("d".into(), vec![30]),
            ]
        );
        assert_eq!(merge.values_read, 6);
    }

    #[test]
    fn more_runs_than_the_merge_factor_are_merged_in_passes() {
        let dir = tempfile::tempdir().unwrap();
        let runs: Vec<RunRef> = (0..MERGE_FACTOR * 2 + 5)
            .map(|i| {
                let mut w = RunWriter::create(dir.path().join(format!("{i}.run"))).unwrap();
                w.write(&(i as u64 % 7), &(i as u64)).unwrap();
                w.finish().unwrap()
            })
            .collect();
        let merged = premerge::<u64, u64>(runs, &dir.path().join("passes")).unwrap();
        assert!(merged.len() <= MERGE_FACTOR);
        let mut merge = Merge::<u64, u64>::open(&merged).unwrap();
        let mut total = 0;
        let mut keys = Vec::new();
        while let Some(key) = merge.next_key().unwrap() {
            total += merge.values(&key).count();
            merge.end_group(&key).unwrap();
            keys.push(key);
        }
        assert_eq!(keys, (0..7).collect::<Vec<u64>>());
        assert_eq!(total, MERGE_FACTOR * 2 + 5);
    }
}
