//! Splits lines into words and pre-aggregates them (a combiner).

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError, Guarantee, State, TaskContext};

use super::WordCount;
use crate::words::for_each_word;

/// Distinct words a split task holds before it emits its partial counts: bounds its memory
/// while keeping the fields grouping's traffic far below one tuple per word.
pub const COMBINE_LIMIT: usize = 1 << 16;

/// Counts the words of its lines locally; emits `(word, n)` when its table reaches
/// [`COMBINE_LIMIT`] distinct words, and at the end of its input.
///
/// The table is the bolt's checkpointed state (exactly-once). Under at-least-once the bolt
/// emits each line's counts right away instead: a tuple emitted from `execute` descends from
/// that one line only, so combining several lines into it would leave the other lines' words
/// unprotected by replay once those lines were acked.
#[derive(Debug, Default)]
pub struct SplitBolt {
    partial: FxHashMap<String, u64>,
    scratch: String,
    /// At-least-once: flush after every line.
    per_line: bool,
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

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.per_line = ctx.guarantee() == Guarantee::AtLeastOnce;
        Ok(())
    }

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
        if self.per_line || self.partial.len() >= COMBINE_LIMIT {
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
