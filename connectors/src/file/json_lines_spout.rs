//! A bounded spout over a JSON Lines file.

use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::PathBuf;

use serde_json::error::Category;
use squall::{ComponentError, Spout, SpoutCollector, TaskContext, Tuple};

use super::json_field::key_at;
use super::{FileError, Malformed, DEFAULT_BATCH};

/// Reads a JSON Lines file: one JSON object per line, each deserialized into `T` (serde).
///
/// Bounded: [`Spout::is_finished`] at the end of the file. Parallelism 1: a task other than task
/// 0 emits nothing and finishes at once. Each record is emitted with its line number as message
/// id. Lines may end in `\n` or `\r\n`; blank lines are skipped silently.
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
    path: PathBuf,
    malformed: Malformed,
    batch: usize,
    input: Option<Input>,
    finished: bool,
    // `fn() -> T`: the spout produces `T`s but holds none, so it is `Send + Sync` for any `T`.
    tuples: PhantomData<fn() -> T>,
}

/// The open file, the number of the last line read, and a line buffer reused for every line.
struct Input {
    reader: BufReader<Box<dyn Read + Send + Sync>>,
    line: u64,
    buf: Vec<u8>,
}

impl<T: Tuple> JsonLinesSpout<T> {
    /// A spout over the JSON Lines file at `path` ([`super::STDIN`], `-`, reads standard input);
    /// nothing is opened until the task's `open`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonLinesSpout {
            path: path.into(),
            malformed: Malformed::new(),
            batch: DEFAULT_BATCH,
            input: None,
            finished: false,
            tuples: PhantomData,
        }
    }

    /// Counts skipped malformed lines in `counter` (keep a clone to read the count).
    pub fn with_malformed(mut self, counter: Malformed) -> Self {
        self.malformed = counter;
        self
    }

    /// Reads at most `lines_per_call` lines (emitted or skipped) per `next_tuple` call, so one
    /// call stays short; default 256. Zero counts as one.
    pub fn with_batch(mut self, lines_per_call: usize) -> Self {
        self.batch = lines_per_call.max(1);
        self
    }

    fn open_input(&mut self) -> Result<(), FileError> {
        let file = super::open_input(&self.path).map_err(|source| FileError::Open {
            path: self.path.clone(),
            source,
        })?;
        self.input = Some(Input {
            reader: BufReader::with_capacity(64 * 1024, file),
            line: 0,
            buf: Vec::new(),
        });
        Ok(())
    }
}

impl<T> Clone for JsonLinesSpout<T> {
    /// A clone reads the same file with the same settings and counter, from the start.
    fn clone(&self) -> Self {
        JsonLinesSpout {
            path: self.path.clone(),
            malformed: self.malformed.clone(),
            batch: self.batch,
            input: None,
            finished: false,
            tuples: PhantomData,
        }
    }
}

impl<T: Tuple> Spout for JsonLinesSpout<T> {
    type Output = T;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        if ctx.task_index() > 0 {
            self.finished = true;
            return Ok(());
        }
        Ok(self.open_input()?)
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        if self.finished {
            return Ok(());
        }
        if self.input.is_none() {
            self.open_input()?;
        }
        let Some(input) = self.input.as_mut() else {
            return Ok(());
        };
        for _ in 0..self.batch {
            input.buf.clear();
            let read = input
                .reader
                .read_until(b'\n', &mut input.buf)
                .map_err(|source| FileError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            if read == 0 {
                self.finished = true;
                self.input = None;
                return Ok(());
            }
            input.line += 1;
            let line = input.buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<T>(line) {
                Ok(value) => out.emit_with_id(value, input.line),
                Err(e) => self
                    .malformed
                    .skip(&self.path, input.line, &reason(&e, line)),
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        self.input = None;
    }

    fn is_finished(&self) -> bool {
        self.finished
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
    use crate::file::testing::collect;
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
}
