//! The reduce side of a job as users write it: [`Reducer`] and the text output it writes to.

use std::fmt::Display;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::{Counters, JobError, Key, Value, Values};
use crate::ComponentError;

/// Turns each key and all its values into output lines (Hadoop's `Reducer`). Keys arrive in
/// sorted order (`Ord`), each key once per reduce task. One instance runs per reduce task
/// attempt, built by the job's factory.
///
/// ```
/// use squall::mapreduce::{ReduceOutput, Reducer, Values};
///
/// /// Writes `word<TAB>total`.
/// struct Sum;
/// impl Reducer for Sum {
///     type Key = String;
///     type Value = u64;
///     fn reduce(&mut self, word: &String, counts: Values<'_, String, u64>, out: &mut ReduceOutput) -> Result<(), squall::ComponentError> {
///         out.write(word, counts.sum::<u64>())?;
///         Ok(())
///     }
/// }
/// ```
pub trait Reducer: 'static {
    /// The map output key type.
    type Key: Key;
    /// The map output value type.
    type Value: Value;

    /// Reduces one key. An error (or a panic) fails the attempt, which is retried.
    fn reduce(
        &mut self,
        key: &Self::Key,
        values: Values<'_, Self::Key, Self::Value>,
        out: &mut ReduceOutput,
    ) -> Result<(), ComponentError>;
}

/// Where a reducer writes (Hadoop's `TextOutputFormat`): lines of `key<TAB>value` into its
/// attempt's file, which becomes `part-r-NNNNN` only when the attempt commits.
pub struct ReduceOutput {
    path: PathBuf,
    out: BufWriter<File>,
    pub(crate) counters: Counters,
}

impl ReduceOutput {
    pub(crate) fn create(path: PathBuf) -> Result<Self, JobError> {
        let file = File::create(&path).map_err(|e| JobError::io("create", &path, e))?;
        Ok(ReduceOutput {
            path,
            out: BufWriter::with_capacity(64 * 1024, file),
            counters: Counters::default(),
        })
    }

    /// Writes the line `key<TAB>value`.
    pub fn write(&mut self, key: impl Display, value: impl Display) -> Result<(), JobError> {
        writeln!(self.out, "{key}\t{value}").map_err(|e| JobError::io("write", &self.path, e))?;
        self.counters.reduce_output_records += 1;
        Ok(())
    }

    /// Increments user counter `name` by `by` (counted only if the attempt commits).
    pub fn increment(&mut self, name: &str, by: u64) {
        self.counters.increment(name, by);
    }

    /// Flushes the attempt's file.
    pub(crate) fn finish(mut self) -> Result<Counters, JobError> {
        self.out
            .flush()
            .map_err(|e| JobError::io("write", &self.path, e))?;
        Ok(self.counters)
    }
}
