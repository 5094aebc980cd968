//! A bounded spout over the lines of text files.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use squall::{ComponentError, MessageId, Spout, SpoutCollector, State, TaskContext};

use super::{FileError, Malformed, DEFAULT_BATCH};
use crate::replay::Pending;

/// Emits the lines of a list of files, in order: each line a `String` without its trailing `\n`
/// or `\r\n`. Empty lines are emitted too (as empty strings); a final line without a newline
/// is emitted.
///
/// Bounded: [`Spout::is_finished`] once its files are read. With parallelism P, every file is
/// cut into P byte ranges (Hadoop's input splits) and task `i` reads the lines that *start* in
/// range `i` of each file, in file order: every line is read by exactly one task, and all
/// tasks share the reading of even a single large file. Each line is emitted with the task's
/// count of lines emitted so far (from 1) as message id.
///
/// Replayable: a checkpoint records the file and byte offset reached, and `restore` seeks back
/// there (exactly-once); under at-least-once every emitted line is kept until acked and failed
/// ones are emitted again, lowest message id first.
///
/// `open` checks that every file of the task can be opened, so a missing file fails the task
/// before it emits a line. A line that is not valid UTF-8 (a binary file has many) is reported
/// on stderr as `{path}: line {n}: not valid UTF-8 (byte offset {o}); line skipped`, counted in
/// the [`Malformed`] counter, and skipped; the other lines are read on.
///
/// ```
/// use squall::{Config, LocalCluster, TopologyBuilder};
/// use squall_connectors::file::{Destination, JsonLinesWriter, LinesSpout};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
/// std::fs::write(&a, "first\r\nsecond\n")?;
/// std::fs::write(&b, "third")?;
///
/// let spout = LinesSpout::new(vec![a, b]).with_batch(64);
/// let output = dir.path().join("lines.jsonl");
/// let writer = JsonLinesWriter::<String>::new(Destination::File(output.clone()));
/// let mut builder = TopologyBuilder::new("lines");
/// let lines = builder.set_spout("lines", 1, move || spout.clone());
/// builder.set_bolt("out", 1, move || writer.clone()).shuffle_grouping(&lines);
/// LocalCluster::new(Config::default()).run(builder.build()?)?;
///
/// assert_eq!(std::fs::read_to_string(&output)?, "\"first\"\n\"second\"\n\"third\"\n");
/// # Ok(())
/// # }
/// ```
pub struct LinesSpout {
    // Shared, so cloning the spout into every task does not copy a long file list.
    paths: Arc<[PathBuf]>,
    batch: usize,
    /// Index into `paths` of the next file to open.
    next_file: usize,
    /// This task's split of each file: `task` of `tasks` byte ranges.
    task: usize,
    tasks: usize,
    current: Option<Current>,
    /// The message id of the last line emitted.
    emitted: MessageId,
    finished: bool,
    /// The line being read, reused across lines.
    scratch: Vec<u8>,
    /// Emitted lines awaiting their ack (at-least-once).
    pending: Pending<String>,
    /// Counts and reports the lines skipped as undecodable.
    malformed: Malformed,
}

/// A checkpointed position.
#[derive(Serialize, Deserialize)]
struct Position {
    next_file: usize,
    /// Offset and line count in file `next_file - 1`, when one is being read.
    current: Option<(u64, Option<u64>)>,
    emitted: MessageId,
    finished: bool,
}

/// The file being read.
struct Current {
    path: PathBuf,
    reader: BufReader<File>,
    /// Lines read in this file so far, when known: from the start for the split at byte 0;
    /// other splits count the lines before them only when a report needs a line number.
    line: Option<u64>,
    offset: u64,
    /// Lines starting at or after this byte belong to the next split.
    end: u64,
}

impl LinesSpout {
    /// A spout over the files at `paths`; nothing is opened until the task's `open`.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        LinesSpout {
            paths: paths.into(),
            batch: DEFAULT_BATCH,
            next_file: 0,
            task: 0,
            tasks: 1,
            current: None,
            emitted: 0,
            finished: false,
            scratch: Vec::new(),
            pending: Pending::new(),
            malformed: Malformed::new(),
        }
    }

    /// Counts skipped undecodable lines in `counter` (keep a clone to read the count). Give
    /// every task the same counter: a task restarted and rewound then reports a line once.
    pub fn with_malformed(mut self, counter: Malformed) -> Self {
        self.malformed = counter;
        self
    }

    /// Emits at most `lines_per_call` lines per `next_tuple` call, so one call stays short;
    /// default 256. Zero counts as one.
    pub fn with_batch(mut self, lines_per_call: usize) -> Self {
        self.batch = lines_per_call.max(1);
        self
    }

    /// Opens this task's split of the next file, or finishes when there is none.
    fn open_next(&mut self) -> Result<(), FileError> {
        if self.next_file >= self.paths.len() {
            self.finished = true;
            return Ok(());
        }
        self.next_file += 1;
        self.open_file(self.next_file - 1)
    }

    /// Opens this task's split of file `index`, positioned at the split's first line.
    fn open_file(&mut self, index: usize) -> Result<(), FileError> {
        let Some(path) = self.paths.get(index) else {
            self.finished = true;
            return Ok(());
        };
        let open_error = |source| FileError::Open {
            path: path.clone(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let len = file.metadata().map_err(open_error)?.len();
        let (start, end) = super::split::range(0, len, self.task, self.tasks);
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let mut offset = 0;
        if start > 0 {
            // Skip the line that began in the previous split (or just the newline before a
            // line that begins exactly at `start`).
            let read_error = |source| FileError::Read {
                path: path.clone(),
                source,
            };
            reader
                .seek(SeekFrom::Start(start - 1))
                .map_err(read_error)?;
            self.scratch.clear();
            let skipped = reader
                .read_until(b'\n', &mut self.scratch)
                .map_err(read_error)?;
            offset = start - 1 + skipped as u64;
        }
        self.current = Some(Current {
            path: path.clone(),
            reader,
            line: (start == 0).then_some(0),
            offset,
            end,
        });
        Ok(())
    }
}

/// The 1-based number of the line starting at byte `offset` of `path` (error reports only).
fn line_at(path: &PathBuf, offset: u64) -> u64 {
    let Ok(file) = File::open(path) else { return 0 };
    let mut newlines = 0;
    let mut reader = BufReader::new(file.take(offset));
    let mut buf = Vec::new();
    while let Ok(n) = reader.read_until(b'\n', &mut buf) {
        if n == 0 {
            break;
        }
        if buf.last() == Some(&b'\n') {
            newlines += 1;
        }
        buf.clear();
    }
    newlines + 1
}

impl Clone for LinesSpout {
    /// A clone reads the same files with the same settings, from the start.
    fn clone(&self) -> Self {
        LinesSpout {
            paths: Arc::clone(&self.paths),
            batch: self.batch,
            next_file: 0,
            task: 0,
            tasks: 1,
            current: None,
            emitted: 0,
            finished: false,
            scratch: Vec::new(),
            pending: Pending::new(),
            malformed: self.malformed.clone(),
        }
    }
}

impl Spout for LinesSpout {
    type Output = String;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.task = ctx.task_index();
        self.tasks = ctx.component_tasks().max(1);
        self.malformed = self.malformed.counting_in(ctx);
        self.pending.open(ctx);
        for path in self.paths.iter() {
            File::open(path).map_err(|source| FileError::Open {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, String>) -> Result<(), ComponentError> {
        // Lines replayed, emitted or skipped in this call: skipped ones count too, so a call
        // stays short on a binary file.
        let mut done = self.pending.replay(out, self.batch);
        // The lines of one call form one tuple tree (at least once), named by the number of
        // the first: tracking blocks of lines, not each line, keeps acking cheap.
        let block = self.emitted + 1;
        while done < self.batch && !self.finished {
            let Some(current) = self.current.as_mut() else {
                self.open_next()?;
                continue;
            };
            if current.offset >= current.end {
                self.current = None;
                continue;
            }
            // Read into a reused buffer, then copy the line into an exactly sized `String`:
            // cheaper than growing a fresh vector from empty for every line.
            let bytes = &mut self.scratch;
            bytes.clear();
            let read =
                current
                    .reader
                    .read_until(b'\n', bytes)
                    .map_err(|source| FileError::Read {
                        path: current.path.clone(),
                        source,
                    })?;
            if read == 0 {
                self.current = None;
                continue;
            }
            if let Some(line) = current.line.as_mut() {
                *line += 1;
            }
            let start = current.offset;
            current.offset += read as u64;
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
            }
            done += 1;
            let Ok(line) = std::str::from_utf8(bytes) else {
                // Counted once per split, then line by line.
                let number = *current
                    .line
                    .get_or_insert_with(|| line_at(&current.path, start));
                let reason = format!("not valid UTF-8 (byte offset {start})");
                self.malformed
                    .skip_in_split(&current.path, self.task, number, &reason);
                continue;
            };
            self.emitted += 1;
            self.pending.emit(out, line.to_owned(), block);
        }
        Ok(())
    }

    fn close(&mut self) {
        self.current = None;
    }

    fn ack(&mut self, msg_id: MessageId) {
        self.pending.ack(msg_id);
    }

    fn fail(&mut self, msg_id: MessageId) {
        self.pending.fail(msg_id);
    }

    fn is_finished(&self) -> bool {
        self.finished && self.pending.is_empty()
    }

    fn is_exhausted(&self) -> bool {
        self.finished && !self.pending.has_replays()
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        let position = Position {
            next_file: self.next_file,
            current: self.current.as_ref().map(|c| (c.offset, c.line)),
            emitted: self.emitted,
            finished: self.finished,
        };
        Ok(Some(State::encode(&position)?))
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let at: Position = state.decode()?;
        self.pending.clear();
        self.next_file = at.next_file;
        self.emitted = at.emitted;
        self.finished = at.finished;
        self.current = None;
        if let (Some((offset, line)), Some(index)) = (at.current, at.next_file.checked_sub(1)) {
            self.open_file(index)?;
            if let Some(current) = self.current.as_mut() {
                current
                    .reader
                    .seek(SeekFrom::Start(offset))
                    .map_err(|source| FileError::Read {
                        path: current.path.clone(),
                        source,
                    })?;
                current.offset = offset;
                current.line = line;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
