//! Writes the final counts sorted by word.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use squall::{Bolt, BoltCollector, ComponentError};

use super::WordCount;

/// Where the counts go.
#[derive(Debug, Clone)]
pub enum CountsOutput {
    /// `word\tcount` lines on stdout.
    Stdout,
    /// `word\tcount` lines in a file (created or truncated).
    File(PathBuf),
    /// Kept in memory, sorted, for whoever holds the other end (tests, benchmarks).
    Collect(Arc<Mutex<Vec<WordCount>>>),
}

/// Gathers every `(word, total)` and, when its input ends, writes them sorted by word (byte
/// order). Run it as one task.
#[derive(Debug)]
pub struct SortedCountsSink {
    output: CountsOutput,
    counts: Vec<WordCount>,
}

impl SortedCountsSink {
    /// A sink writing to `output`.
    pub fn new(output: CountsOutput) -> Self {
        SortedCountsSink {
            output,
            counts: Vec::new(),
        }
    }
}

impl Bolt for SortedCountsSink {
    type Input = WordCount;
    type Output = ();

    fn execute(
        &mut self,
        pair: WordCount,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        self.counts.push(pair);
        Ok(())
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.counts.sort_unstable();
        let counts = std::mem::take(&mut self.counts);
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
                let mut f = File::create(path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                write(&mut f)?;
            }
            CountsOutput::Collect(into) => {
                let mut guard = into.lock().map_err(|_| "the collecting side panicked")?;
                *guard = counts;
            }
        }
        Ok(())
    }
}
