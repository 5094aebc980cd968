//! Sums partial counts per word (fields grouping on the word).

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError};

use super::WordCount;

/// Adds up `(word, n)` pairs; emits each word's total in `finish`.
#[derive(Debug, Default)]
pub struct CountBolt {
    counts: FxHashMap<String, u64>,
}

impl Bolt for CountBolt {
    type Input = WordCount;
    type Output = WordCount;

    fn execute(
        &mut self,
        (word, n): WordCount,
        _: &mut BoltCollector<'_, WordCount>,
    ) -> Result<(), ComponentError> {
        *self.counts.entry(word).or_insert(0) += n;
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, WordCount>) -> Result<(), ComponentError> {
        for pair in self.counts.drain() {
            out.emit(pair);
        }
        Ok(())
    }
}
