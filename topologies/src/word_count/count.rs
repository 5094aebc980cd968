//! Sums partial counts per word (fields grouping on the word).

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError, Guarantee, State, TaskContext};

use super::WordCount;

/// Adds up `(word, n)` pairs; emits each word's total in `finish`.
///
/// The totals are the bolt's checkpointed state. Under at-least-once it emits the word's new
/// total after every input instead, so the total descends from that input and is replayed with
/// it if it is lost (a tuple emitted in `finish` descends from nothing and could not be); the
/// sink keeps the largest total per word.
#[derive(Debug, Default)]
pub struct CountBolt {
    counts: FxHashMap<String, u64>,
    /// At-least-once: emit running totals from `execute`.
    running: bool,
}

impl Bolt for CountBolt {
    type Input = WordCount;
    type Output = WordCount;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.running = ctx.guarantee() == Guarantee::AtLeastOnce;
        Ok(())
    }

    fn execute(
        &mut self,
        (word, n): WordCount,
        out: &mut BoltCollector<'_, WordCount>,
    ) -> Result<(), ComponentError> {
        if self.running {
            let total = match self.counts.get_mut(&word) {
                Some(total) => {
                    *total += n;
                    *total
                }
                None => {
                    self.counts.insert(word.clone(), n);
                    n
                }
            };
            out.emit((word, total));
        } else {
            *self.counts.entry(word).or_insert(0) += n;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, WordCount>) -> Result<(), ComponentError> {
        if !self.running {
            for pair in self.counts.drain() {
                out.emit(pair);
            }
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
