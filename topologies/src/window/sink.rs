//! Gathers the window results and the late lines; writes them, sorted, when the input ends.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use squall::{Bolt, BoltCollector, ComponentError, State};
use squall_connectors::file::StagedFile;

use super::WindowResult;

/// Where lines go.
#[derive(Debug, Clone)]
pub enum Lines {
    /// Standard output.
    Stdout,
    /// A file, replaced whole when the run ends (see [`StagedFile`]).
    File(PathBuf),
    /// Kept in memory for whoever holds the other end (tests).
    Collect(Arc<Mutex<Vec<String>>>),
    /// Counted only.
    Discard,
}

/// Where a window job's results and late lines go.
#[derive(Debug, Clone)]
pub struct WindowOutput {
    /// The result lines, sorted.
    pub results: Lines,
    /// The input lines of late tuples, one each.
    pub late: Lines,
    /// How many late lines there were (for the summary).
    pub late_count: Arc<AtomicU64>,
}

/// The sink of both window jobs: per window and key the latest lines (a late update replaces
/// them), and the late lines. Its state is checkpointed; it writes only when the input ends,
/// so the output is what it holds then. Run it as one task.
#[derive(Debug)]
pub struct WindowSink {
    output: WindowOutput,
    /// Sort the lines as whole lines (join), not by window then key (count).
    by_line: bool,
    groups: BTreeMap<(u64, String), Vec<String>>,
    late: Vec<String>,
}

impl WindowSink {
    /// A sink writing to `output`; `by_line` sorts the result lines as whole lines.
    pub fn new(output: WindowOutput, by_line: bool) -> Self {
        WindowSink {
            output,
            by_line,
            groups: BTreeMap::new(),
            late: Vec::new(),
        }
    }
}

fn write(lines: &[String], to: &Lines) -> Result<(), ComponentError> {
    let put = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 16, w);
        for line in lines {
            writeln!(w, "{line}")?;
        }
        w.flush()
    };
    match to {
        Lines::Stdout => put(&mut std::io::stdout().lock())?,
        Lines::File(path) => {
            let mut staged = StagedFile::create(path)?;
            put(&mut staged)?;
            staged.commit()?;
        }
        Lines::Collect(into) => {
            *into.lock().map_err(|_| "the collecting side panicked")? = lines.to_vec();
        }
        Lines::Discard => {}
    }
    Ok(())
}

impl Bolt for WindowSink {
    type Input = WindowResult;
    type Output = ();

    fn execute(
        &mut self,
        r: WindowResult,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        match r {
            WindowResult::Group { start, key, lines } => {
                self.groups.insert((start, key), lines);
            }
            WindowResult::Late(line) => self.late.push(line),
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.output
            .late_count
            .store(self.late.len() as u64, Ordering::Relaxed);
        let collecting = matches!(self.output.results, Lines::Collect(_));
        if squall::runtime::stop_requested().is_some() && !collecting {
            // Drained by a signal: a partial result would look complete; nothing is written.
            return Ok(());
        }
        let mut lines: Vec<String> = std::mem::take(&mut self.groups)
            .into_values()
            .flatten()
            .collect();
        if self.by_line {
            lines.sort_unstable();
        }
        write(&lines, &self.output.results)?;
        write(&self.late, &self.output.late)
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&(&self.groups, &self.late))?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        (self.groups, self.late) = state.decode()?;
        Ok(())
    }
}
