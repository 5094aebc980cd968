//! Writes the final counts sorted by word.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError, State};
use squall_connectors::file::StagedFile;

use super::WordCount;

/// Where the counts go.
#[derive(Debug, Clone)]
pub enum CountsOutput {
    /// `word\tcount` lines on stdout.
    Stdout,
    /// `word\tcount` lines in a file, replaced whole when the run ends (an existing file stays
    /// untouched until then; see [`StagedFile`]).
    File(PathBuf),
    /// Kept in memory, sorted, for whoever holds the other end (tests, benchmarks).
    Collect(Arc<Mutex<Vec<WordCount>>>),
}

/// Gathers every `(word, total)` and, when its input ends, writes them sorted by word (byte
/// order). Run it as one task.
///
/// Nothing is written before the end, so the output is exactly what the sink holds then; the
/// totals received so far are its checkpointed state, so after a rollback (exactly-once) it
/// holds what it held at the checkpoint and receives the rest again. Each word's total comes
/// from the one count task that owns the word; should it come twice, the larger is kept.
#[derive(Debug)]
pub struct SortedCountsSink {
    output: CountsOutput,
    counts: FxHashMap<String, u64>,
}

impl SortedCountsSink {
    /// A sink writing to `output`.
    pub fn new(output: CountsOutput) -> Self {
        SortedCountsSink {
            output,
            counts: FxHashMap::default(),
        }
    }
}

impl Bolt for SortedCountsSink {
    type Input = WordCount;
    type Output = ();

    fn execute(
        &mut self,
        (word, n): WordCount,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        match self.counts.get_mut(&word) {
            Some(total) => *total = (*total).max(n),
            None => {
                self.counts.insert(word, n);
            }
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let partial = squall::runtime::stop_requested().is_some();
        if partial && !matches!(self.output, CountsOutput::Collect(_)) {
            // Drained by a signal: the totals cover part of the input only. Written out they
            // would look like a complete result, so nothing is written (an existing file stays
            // as it was).
            return Ok(());
        }
        let mut counts: Vec<WordCount> = std::mem::take(&mut self.counts).into_iter().collect();
        counts.sort_unstable();
        let write = |w: &mut dyn Write| -> std::io::Result<()> {
            let mut w = BufWriter::with_capacity(1 << 16, w);
            for (word, n) in &counts {
                writeln!(w, "{word}\t{n}")?;
            }
            w.flush()
        };
        match &self.output {
            CountsOutput::Stdout => write(&mut std::io::stdout().lock())?,
            CountsOutput::File(path) => {
                let mut staged = StagedFile::create(path)?;
                write(&mut staged)?;
                staged.commit()?;
            }
            CountsOutput::Collect(into) => {
                let mut guard = into.lock().map_err(|_| "the collecting side panicked")?;
                *guard = counts;
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
