//! A bounded spout over a JSON Lines file.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use serde_json::error::Category;
use squall::{ComponentError, MessageId, Spout, SpoutCollector, State, TaskContext, Tuple};

use super::json_field::key_at;
use super::records::Records;
use super::{FileError, Malformed};

/// Reads a JSON Lines file: one JSON object per line, each deserialized into `T` (serde).
///
/// Bounded: [`Spout::is_finished`] at the end of the file. Parallelism 1: a task other than task
/// 0 emits nothing and finishes at once. Each record is emitted with its line number as message
/// id. Lines may end in `\n` or `\r\n`; blank lines are skipped silently.
///
/// Replayable: a checkpoint records how many lines were read, and `restore` rewinds there
/// (exactly-once; standard input cannot be rewound); under at-least-once every emitted record is
/// kept until acked and failed ones are emitted again, lowest line first.
///
/// A file that cannot be opened fails the task in `open`, naming the file. A line that does not
/// fit `T` (bad JSON, a missing field, a value of the wrong type) is reported on stderr as
/// `{path}: line {n}: {reason}; line skipped`, counted in the [`Malformed`] counter, and skipped.
/// Fields `T` does not declare are ignored, unless `T` says `#[serde(deny_unknown_fields)]`.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use squall::{Config, LocalCluster, TopologyBuilder};
/// use squall_connectors::file::{Destination, JsonLinesSpout, Malformed, TsvWriter};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Reading { sensor: u32, value: f64 }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("readings.jsonl");
/// std::fs::write(&input, "{\"sensor\":1,\"value\":0.5}\n\n{\"sensor\":2}\n")?;
///
/// let malformed = Malformed::new();
/// let spout = JsonLinesSpout::<Reading>::new(&input).with_malformed(malformed.clone()).with_batch(64);
/// let output = dir.path().join("out.tsv");
/// let writer = TsvWriter::new(Destination::File(output.clone()), |r: &Reading, fields| {
///     fields.extend([r.sensor.to_string(), r.value.to_string()]);
/// });
/// let mut builder = TopologyBuilder::new("jsonl");
/// let readings = builder.set_spout("readings", 1, move || spout.clone());
/// builder.set_bolt("out", 1, move || writer.clone()).shuffle_grouping(&readings);
/// LocalCluster::new(Config::default()).run(builder.build()?)?;
///
/// assert_eq!(malformed.count(), 1);
/// assert_eq!(std::fs::read_to_string(&output)?, "1\t0.5\n");
/// # Ok(())
/// # }
/// ```
pub struct JsonLinesSpout<T> {
    records: Records<T>,
    input: Option<Input>,
}

/// The open file and a line buffer reused for every line.
struct Input {
    reader: BufReader<Box<dyn Read + Send + Sync>>,
    buf: Vec<u8>,
}

impl<T: Tuple> JsonLinesSpout<T> {
    /// A spout over the JSON Lines file at `path` ([`super::STDIN`], `-`, reads standard input);
    /// nothing is opened until the task's `open`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonLinesSpout {
            records: Records::new(path.into()),
            input: None,
        }
    }

    /// Counts skipped malformed lines in `counter` (keep a clone to read the count).
    pub fn with_malformed(mut self, counter: Malformed) -> Self {
        self.records.malformed = counter;
        self
    }

    /// Reads at most `lines_per_call` lines (emitted or skipped) per `next_tuple` call, so one
    /// call stays short; default 256. Zero counts as one.
    pub fn with_batch(mut self, lines_per_call: usize) -> Self {
        self.records.batch = lines_per_call.max(1);
        self
    }

    /// Opens the file and skips the lines consumed before a rewind.
    fn open_input(&mut self) -> Result<(), FileError> {
        let path = &self.records.path;
        let read_error = |source| FileError::Read {
            path: path.clone(),
            source,
        };
        let file = super::open_input(path).map_err(|source| FileError::Open {
            path: path.clone(),
            source,
        })?;
        let mut input = Input {
            reader: BufReader::with_capacity(64 * 1024, file),
            buf: Vec::new(),
        };
        for _ in 0..self.records.consumed {
            input.buf.clear();
            if input
                .reader
                .read_until(b'\n', &mut input.buf)
                .map_err(read_error)?
                == 0
            {
                break;
            }
        }
        self.input = Some(input);
        Ok(())
    }
}

impl<T: Tuple> Clone for JsonLinesSpout<T> {
    /// A clone reads the same file with the same settings and counter, from the start.
    fn clone(&self) -> Self {
        JsonLinesSpout {
            records: self.records.unopened(),
            input: None,
        }
    }
}

impl<T: Tuple> Spout for JsonLinesSpout<T> {
    type Output = T;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.records.malformed = self.records.malformed.counting_in(ctx);
        if self.records.open(ctx) {
            self.open_input()?;
        }
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        let Some(budget) = self.records.replay_then_budget(out) else {
            return Ok(());
        };
        if self.input.is_none() {
            self.open_input()?;
        }
        let Some(input) = self.input.as_mut() else {
            return Ok(());
        };
        let records = &mut self.records;
        for _ in 0..budget {
            input.buf.clear();
            let read = input
                .reader
                .read_until(b'\n', &mut input.buf)
                .map_err(|source| FileError::Read {
                    path: records.path.clone(),
                    source,
                })?;
            if read == 0 {
                records.exhausted = true;
                self.input = None;
                return Ok(());
            }
            records.consumed += 1;
            let number = records.consumed;
            let line = input.buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<T>(line) {
                Ok(value) => records.emit(out, value, number),
                Err(e) => records
                    .malformed
                    .skip(&records.path, number, &reason(&e, line)),
            }
        }
        Ok(())
    }

    fn ack(&mut self, msg_id: MessageId) {
        self.records.pending.ack(msg_id);
    }

    fn fail(&mut self, msg_id: MessageId) {
        self.records.pending.fail(msg_id);
    }

    fn close(&mut self) {
        self.input = None;
    }

    fn is_finished(&self) -> bool {
        self.records.is_finished()
    }

    fn is_exhausted(&self) -> bool {
        self.records.is_exhausted()
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        self.records.snapshot().map(Some)
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        if self.records.restore(&state)? {
            self.input = None;
        }
        Ok(())
    }
}

/// Why a line did not deserialize: serde_json's message without its position (the line is
/// reported already), naming the field when the error points into one's value.
fn reason(e: &serde_json::Error, line: &[u8]) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    match e.classify() {
        Category::Syntax | Category::Eof => {
            format!("invalid JSON: {message} at column {}", e.column())
        }
        Category::Data => {
            let names_field = ["missing field", "unknown field", "duplicate field"]
                .iter()
                .any(|p| message.starts_with(p));
            match key_at(line, e.column()) {
                Some(key) if !names_field => format!("field `{key}`: {message}"),
                _ => message.to_string(),
            }
        }
        Category::Io => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::testing::{check_replay, check_rewind, collect};
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Reading {
        sensor: u32,
        seq: u64,
        value: f64,
    }

    fn reading(sensor: u32, seq: u64, value: f64) -> Reading {
        Reading { sensor, seq, value }
    }

    #[test]
    fn emits_the_good_records_in_order_and_reports_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("readings.jsonl");
        let lines = [
            r#"{"sensor":1,"seq":1,"value":0.5}"#,
            r#"{"sensor":1,"seq":"abc","value":0.7}"#,
            "",
            r#"{"sensor":2,"seq":1}"#,
            "   \t",
            r#"{"sensor":2,"seq":2,"value":1.5,"extra":true}"#,
            r#"{"sensor":2,"seq":3,"value":"#,
            r#"{"value":2.5,"seq":4,"sensor":3}"#,
            "not json",
            r#"{"sensor":-1,"seq":5,"value":1}"#,
        ];
        std::fs::write(&path, lines.join("\r\n")).unwrap();
        let malformed = Malformed::new();
        let spout = JsonLinesSpout::<Reading>::new(&path)
            .with_malformed(malformed.clone())
            .with_batch(3);
        let got = collect(spout, 1).unwrap();
        assert_eq!(
            got,
            [reading(1, 1, 0.5), reading(2, 2, 1.5), reading(3, 4, 2.5)]
        );
        let p = path.display();
        assert_eq!(
            malformed.reports(),
            [
                format!("{p}: line 2: field `seq`: invalid type: string \"abc\", expected u64; line skipped"),
                format!("{p}: line 4: missing field `value`; line skipped"),
                format!("{p}: line 7: invalid JSON: EOF while parsing a value at column 28; line skipped"),
                format!("{p}: line 9: invalid JSON: expected ident at column 2; line skipped"),
                format!("{p}: line 10: field `sensor`: invalid value: integer `-1`, expected u32; line skipped"),
            ]
        );
        assert_eq!(malformed.count(), 5);
    }

    #[test]
    fn only_task_zero_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("numbers.jsonl");
        std::fs::write(&path, "1\n2\n3\n").unwrap();
        let got = collect(JsonLinesSpout::<u64>::new(&path), 2).unwrap();
        assert_eq!(got, [1, 2, 3]);
    }

    #[test]
    fn a_missing_file_fails_the_run_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.jsonl");
        let e = collect(JsonLinesSpout::<u64>::new(&path), 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot open") && e.contains("absent.jsonl"),
            "{e}"
        );
    }

    fn mixed_input(dir: &std::path::Path) -> PathBuf {
        let path = dir.join("mixed.jsonl");
        let lines: Vec<String> = (0..50)
            .map(|seq| match seq % 11 {
                4 => "{\"sensor\":1}".to_string(),
                8 => "  ".to_string(),
                _ => format!("{{\"sensor\":{},\"seq\":{seq},\"value\":0.5}}", seq % 3),
            })
            .collect();
        std::fs::write(&path, lines.join("\r\n")).unwrap();
        path
    }

    #[test]
    fn restore_rewinds_to_the_snapshot_and_reports_malformed_lines_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = mixed_input(dir.path());
        for (snapshot, restore) in [(0, 5), (8, 20), (30, 31), (36, 100)] {
            let malformed = Malformed::new();
            let spout = JsonLinesSpout::<Reading>::new(&path)
                .with_malformed(malformed.clone())
                .with_batch(4);
            check_rewind(spout, snapshot, restore);
            assert_eq!(malformed.count(), 5, "snapshot {snapshot}");
        }
    }

    #[test]
    fn failed_records_are_emitted_again_in_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let spout = JsonLinesSpout::<Reading>::new(mixed_input(dir.path())).with_batch(3);
        assert!(check_replay(spout, |line| line % 4 == 1) > 5);
    }
}
