//! Splits lines into words and pre-aggregates them (a combiner).

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError, State};

use super::WordCount;
use crate::words::for_each_word;

/// Distinct words a split task holds before it emits its partial counts: bounds its memory
/// while keeping the fields grouping's traffic far below one tuple per word.
pub const COMBINE_LIMIT: usize = 1 << 16;

/// Counts the words of its lines locally; emits `(word, n)` when its table reaches
/// [`COMBINE_LIMIT`] distinct words, and at the end of its input.
///
/// The table is the bolt's checkpointed state, in every guarantee that checkpoints: under
/// at-least-once a line is acked only once the checkpoint holding its words completes, and a
/// failure rolls the table back to that checkpoint, so combining across lines loses nothing.
#[derive(Debug, Default)]
pub struct SplitBolt {
    partial: FxHashMap<String, u64>,
    scratch: String,
}

impl SplitBolt {
    fn emit_partial(&mut self, out: &mut BoltCollector<'_, WordCount>) {
        for pair in self.partial.drain() {
            out.emit(pair);
        }
    }
}

impl Bolt for SplitBolt {
    type Input = String;
    type Output = WordCount;

    fn execute(
        &mut self,
        line: String,
        out: &mut BoltCollector<'_, WordCount>,
    ) -> Result<(), ComponentError> {
        let partial = &mut self.partial;
        for_each_word(&line, &mut self.scratch, |w| match partial.get_mut(w) {
            Some(n) => *n += 1,
            None => {
                partial.insert(w.to_string(), 1);
            }
        });
        if self.partial.len() >= COMBINE_LIMIT {
            self.emit_partial(out);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, WordCount>) -> Result<(), ComponentError> {
        self.emit_partial(out);
        Ok(())
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.partial)?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.partial = state.decode()?;
        Ok(())
    }
}
