//! A bounded spout over the lines of text files.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use squall::{ComponentError, MessageId, Spout, SpoutCollector, State, TaskContext};

use super::{FileError, DEFAULT_BATCH};
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
/// before it emits a line. A line that is not valid UTF-8 fails the task with an error
/// naming the file, the line number and the byte offset where the line starts.
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
    /// Lines read in this file so far, when the split starts at byte 0 (else unknown).
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
        }
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
        let (task, tasks) = (self.task as u128, self.tasks.max(1) as u128);
        let start = (u128::from(len) * task / tasks) as u64;
        let end = (u128::from(len) * (task + 1) / tasks) as u64;
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
        }
    }
}

impl Spout for LinesSpout {
    type Output = String;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.task = ctx.task_index();
        self.tasks = ctx.component_tasks().max(1);
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
        let mut emitted = self.pending.replay(out, self.batch);
        // The lines of one call form one tuple tree (at least once), named by the number of
        // the first: tracking blocks of lines, not each line, keeps acking cheap.
        let block = self.emitted + 1;
        while emitted < self.batch && !self.finished {
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
            let line = std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| {
                FileError::InvalidUtf8 {
                    path: current.path.clone(),
                    line: current
                        .line
                        .unwrap_or_else(|| line_at(&current.path, start)),
                    offset: start,
                }
            })?;
            self.emitted += 1;
            self.pending.emit(out, line, block);
            emitted += 1;
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
mod tests {
    use super::*;
    use crate::file::testing::{check_replay, check_rewind, collect};

    #[test]
    fn emits_the_lines_of_every_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        let empty = dir.path().join("empty.txt");
        std::fs::write(&a, "one\r\ntwo\n\nthree\r\n").unwrap();
        std::fs::write(&empty, "").unwrap();
        std::fs::write(&b, "four\rfive\nsix").unwrap();
        let spout = LinesSpout::new(vec![a, empty, b]).with_batch(2);
        let got = collect(spout, 1).unwrap();
        assert_eq!(got, ["one", "two", "", "three", "four\rfive", "six"]);
    }

    #[test]
    fn tasks_split_every_file_and_read_each_line_once() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..5)
            .map(|i| {
                let path = dir.path().join(format!("{i}.txt"));
                let text: String = (0..100).map(|l| format!("{i}:{l}\n")).collect();
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let mut got = collect(LinesSpout::new(paths).with_batch(7), 2).unwrap();
        let mut expected: Vec<String> = (0..5)
            .flat_map(|i| (0..100).map(move |l| format!("{i}:{l}")))
            .collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected);
    }

    #[test]
    fn split_boundaries_lose_and_duplicate_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        // Lines of every length from 0 to 40, so split points fall everywhere: inside lines,
        // on newlines, at line starts; no final newline.
        let lines: Vec<String> = (0..400)
            .map(|i| "x".repeat(i % 41) + &i.to_string())
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        for tasks in [1, 2, 3, 7] {
            let mut got = collect(LinesSpout::new(vec![path.clone()]), tasks).unwrap();
            let mut expected = lines.clone();
            got.sort();
            expected.sort();
            assert_eq!(got, expected, "{tasks} tasks");
        }
    }

    #[test]
    fn invalid_utf8_fails_the_run_naming_the_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.txt");
        let bad = dir.path().join("latin1.txt");
        std::fs::write(&good, "fine\n").unwrap();
        std::fs::write(&bad, b"ok\r\ncaf\xe9\nafter\n").unwrap();
        let e = collect(LinesSpout::new(vec![good, bad.clone()]), 1)
            .unwrap_err()
            .to_string();
        let expected = format!(
            "{}: line 2 (byte offset 4) is not valid UTF-8",
            bad.display()
        );
        assert!(e.contains(&expected), "{e}");
    }

    #[test]
    fn a_missing_file_fails_open() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.txt");
        let mut spout = LinesSpout::new(vec![missing.clone()]);
        let e = spout
            .open(&TaskContext::new("t", "lines", 0, 1))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "cannot open {}: No such file or directory",
                missing.display()
            )
        );
        // Every task reads its split of every file, so every task checks them all.
        let mut other = LinesSpout::new(vec![missing]);
        assert!(other.open(&TaskContext::new("t", "lines", 1, 2)).is_err());
    }

    fn numbered_files(dir: &std::path::Path) -> Vec<PathBuf> {
        (0..3)
            .map(|i| {
                let path = dir.join(format!("{i}.txt"));
                let text: String = (0..40).map(|l| format!("{i}:{l}\r\n")).collect();
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect()
    }

    #[test]
    fn restore_rewinds_to_the_snapshot_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let paths = numbered_files(dir.path());
        // Snapshots at the start, inside a file, at a file's end; restores within the same file,
        // in a later file, and after the end.
        for (snapshot, restore) in [(0, 30), (14, 21), (35, 77), (40, 41), (70, 200), (119, 120)] {
            let spout = LinesSpout::new(paths.clone()).with_batch(7);
            check_rewind(spout, snapshot, restore);
        }
    }

    #[test]
    fn failed_lines_are_emitted_again_in_id_order() {
        let dir = tempfile::tempdir().unwrap();
        let spout = LinesSpout::new(numbered_files(dir.path())).with_batch(5);
        let replayed = check_replay(spout, |id| id % 9 == 0 || id == 1 || id == 120);
        assert_eq!(replayed, 15);
    }
}
