//! Sums partial counts per word (fields grouping on the word).

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError, State};

use super::WordCount;

/// Adds up `(word, n)` pairs; emits each word's total in `finish`.
///
/// The totals are the bolt's checkpointed state. Under at-least-once the inputs are acked
/// once the checkpoint holding them completes, and a failure rolls every stateful bolt back to
/// that checkpoint, so what `finish` emits is complete even though it descends from no input.
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
        match self.counts.get_mut(&word) {
            Some(total) => *total += n,
            None => {
                self.counts.insert(word, n);
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, WordCount>) -> Result<(), ComponentError> {
        for pair in self.counts.drain() {
            out.emit(pair);
        }
        Ok(())
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.counts)?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.counts = state.decode()?;
        Ok(())
    }
}
