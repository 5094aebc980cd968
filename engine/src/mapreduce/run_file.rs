//! Sorted runs on disk: the spill format between the map and reduce sides.
//!
//! A run is a file of MessagePack-encoded `(key, value)` arrays in key order, written and read
//! through 64 KiB buffers. It has no header: the number of records travels beside its path in a
//! [`RunRef`], so a reader knows where to stop without probing for the end of the file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::JobError;

const BUFFER: usize = 64 * 1024;

/// A committed sorted run: where it is and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    /// The run's file.
    pub path: PathBuf,
    /// Records in it.
    pub records: u64,
}

/// Writes one sorted run.
pub(crate) struct RunWriter {
    path: PathBuf,
    out: BufWriter<File>,
    records: u64,
}

impl RunWriter {
    pub(crate) fn create(path: PathBuf) -> Result<Self, JobError> {
        let file = File::create(&path).map_err(|e| JobError::io("create", &path, e))?;
        Ok(RunWriter {
            path,
            out: BufWriter::with_capacity(BUFFER, file),
            records: 0,
        })
    }

    pub(crate) fn write<K: Serialize, V: Serialize>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), JobError> {
        rmp_serde::encode::write(&mut self.out, &(key, value))
            .map_err(|e| JobError::Spill(format!("{}: {e}", self.path.display())))?;
        self.records += 1;
        Ok(())
    }

    /// Flushes and closes the run.
    pub(crate) fn finish(mut self) -> Result<RunRef, JobError> {
        self.out
            .flush()
            .map_err(|e| JobError::io("write", &self.path, e))?;
        Ok(RunRef {
            path: self.path,
            records: self.records,
        })
    }
}

/// Reads the records of one run in order.
pub(crate) struct RunReader<K, V> {
    path: PathBuf,
    input: BufReader<File>,
    left: u64,
    _records: PhantomData<fn() -> (K, V)>,
}

impl<K: DeserializeOwned, V: DeserializeOwned> RunReader<K, V> {
    pub(crate) fn open(run: &RunRef) -> Result<Self, JobError> {
        let file = File::open(&run.path).map_err(|e| JobError::io("open", &run.path, e))?;
        Ok(RunReader {
            path: run.path.clone(),
            input: BufReader::with_capacity(BUFFER, file),
            left: run.records,
            _records: PhantomData,
        })
    }

    /// The next record, or `None` after the last.
    pub(crate) fn next_record(&mut self) -> Result<Option<(K, V)>, JobError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        rmp_serde::decode::from_read(&mut self.input)
            .map(Some)
            .map_err(|e| JobError::Spill(format!("{}: {e}", self.path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = RunWriter::create(dir.path().join("r.run")).unwrap();
        for (k, v) in [("a", 1u64), ("bé", 2), ("c", 3)] {
            w.write(&k.to_string(), &v).unwrap();
        }
        let run = w.finish().unwrap();
        assert_eq!(run.records, 3);
        let mut r = RunReader::<String, u64>::open(&run).unwrap();
        let mut got = Vec::new();
        while let Some(kv) = r.next_record().unwrap() {
            got.push(kv);
        }
        assert_eq!(got, [("a".into(), 1), ("bé".into(), 2), ("c".into(), 3)]);
    }
}
