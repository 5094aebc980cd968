//! The reference MapReduce jobs (`docs/cli.md`), built on [`squall::mapreduce`]:
//!
//! - [`wordcount`]: `word<TAB>count`, words as [`crate::words`] defines them.
//! - [`inverted_index`]: `word<TAB>doc1,doc2,...`, documents as paths relative to the input
//!   directory, unique and sorted.
//! - [`cooccurrence`]: `a<TAB>b<TAB>count` for every unordered pair of distinct items of a line,
//!   by Lin & Dyer's *pairs* or *stripes* method; both give identical files.
//!
//! Each function returns the configured [`squall::mapreduce::Job`]; call `run` on it.

pub mod cooccurrence;
pub mod inverted_index;
pub mod wordcount;

use squall::mapreduce::{Combiner, JobError, Key, MapOutput};
use squall::ComponentError;

/// Sums counts (the combiner of word count and of co-occurrence pairs).
#[derive(Debug, Default, Clone, Copy)]
pub struct SumCombiner;

impl<K> Combiner<K, u64> for SumCombiner {
    fn combine(&mut self, _: &K, values: &mut Vec<u64>) -> Result<(), ComponentError> {
        let total = values.drain(..).sum();
        values.push(total);
        Ok(())
    }

    fn merge(&mut self, _: &K, acc: &mut u64, value: u64) -> Option<u64> {
        *acc += value;
        None
    }
}

/// Emits through `out` from inside a closure that cannot return an error: keeps the first
/// error for the caller to return.
pub(crate) fn keep_first<K: Key, V: squall::mapreduce::Value>(
    out: &mut MapOutput<'_, K, V>,
    error: &mut Option<JobError>,
    emit: impl FnOnce(&mut MapOutput<'_, K, V>) -> Result<(), JobError>,
) {
    if error.is_none() {
        if let Err(e) = emit(out) {
            *error = Some(e);
        }
    }
}
