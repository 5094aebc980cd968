//! A bounded spout over a CSV file with a header row.

use std::io::Read;
use std::path::PathBuf;

use csv::{ByteRecord, DeserializeErrorKind, ErrorKind, Reader, ReaderBuilder, StringRecord};
use squall::{ComponentError, MessageId, Spout, SpoutCollector, State, TaskContext, Tuple};

use super::ascending::Ascending;
use super::line_index::LineIndex;
use super::records::Records;
use super::{FileError, Malformed};

/// Reads a CSV file with a header row; each record is deserialized into `T` by header names
/// (serde), so the columns may come in any order.
///
/// Bounded: [`Spout::is_finished`] at the end of the file. Parallelism 1: a task other than task
/// 0 emits nothing and finishes at once. Each record is emitted with its line number as message
/// id. Fields are trimmed of surrounding whitespace; blank lines are skipped silently.
///
/// Replayable: a checkpoint records how many records were read, and `restore` rewinds there
/// (exactly-once; standard input cannot be rewound); under at-least-once every emitted record is
/// kept until acked and failed ones are emitted again, lowest line first.
///
/// The header is read in `open`: a file that cannot be opened or has no header row fails the
/// task with a message naming the file. A record that does not fit `T` (a missing or extra
/// field, a value that does not parse) is reported on stderr as
/// `{path}: line {n}: {reason}; line skipped`, counted in the [`Malformed`] counter, and skipped.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use squall::{Config, LocalCluster, TopologyBuilder};
/// use squall_connectors::file::{CsvSpout, Destination, JsonLinesWriter, Malformed};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Reading { sensor: u32, seq: u64, value: f64 }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("readings.csv");
/// std::fs::write(&input, "sensor,seq,value\n1,1,0.5\n1,x,0.7\n2,1,1.5\n")?;
///
/// let malformed = Malformed::new();
/// let spout = CsvSpout::<Reading>::new(&input).with_malformed(malformed.clone()).with_batch(64);
/// let writer = JsonLinesWriter::new(Destination::File(dir.path().join("out.jsonl")));
/// let mut builder = TopologyBuilder::new("csv");
/// let readings = builder.set_spout("readings", 1, move || spout.clone());
/// builder.set_bolt("out", 1, move || writer.clone()).shuffle_grouping(&readings);
/// LocalCluster::new(Config::default()).run(builder.build()?)?;
///
/// assert_eq!(malformed.count(), 1);
/// assert_eq!(std::fs::read_to_string(dir.path().join("out.jsonl"))?.lines().count(), 2);
/// # Ok(())
/// # }
/// ```
pub struct CsvSpout<T> {
    records: Records<T>,
    input: Option<Input>,
    /// The order records must keep, if checked (see [`CsvSpout::with_ascending`]).
    ascending: Option<Ascending<T>>,
}

/// The open file: the reader, its header and a record buffer reused for every line.
struct Input {
    reader: Reader<LineIndex<Box<dyn Read + Send + Sync>>>,
    headers: StringRecord,
    record: StringRecord,
}

impl Input {
    /// The physical line where the record just read starts: the line of its last byte, less
    /// the line breaks inside its (quoted) fields.
    fn line(&mut self) -> u64 {
        let end = self.reader.position().byte();
        let last = self.reader.get_mut().line_of(end.saturating_sub(1));
        let inside = self
            .record
            .as_byte_record()
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        last.saturating_sub(inside as u64)
    }
}

impl<T: Tuple> CsvSpout<T> {
    /// A spout over the CSV file at `path` ([`super::STDIN`], `-`, reads standard input);
    /// nothing is opened until the task's `open`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvSpout {
            records: Records::new(path.into()),
            input: None,
            ascending: None,
        }
    }

    /// Checks that within each key the seq ascends: `key_seq` gives a record's key and seq,
    /// `names` what to call them. A record whose seq is not above the last one of its key is a
    /// violation of the input's order, reported and skipped like a malformed line (so replays
    /// and rewinds never see it): `{path}: line {n}: seq 4 of sensor 1 is below its previous
    /// seq 5 (seqs must ascend per sensor); line skipped`.
    pub fn with_ascending(
        mut self,
        names: (&'static str, &'static str),
        key_seq: impl Fn(&T) -> (u64, u64) + Send + Sync + 'static,
    ) -> Self {
        self.ascending = Some(Ascending::new(names, std::sync::Arc::new(key_seq)));
        self
    }

    /// Counts skipped malformed lines in `counter` (keep a clone to read the count).
    pub fn with_malformed(mut self, counter: Malformed) -> Self {
        self.records.malformed = counter;
        self
    }

    /// Reads at most `lines_per_call` records (emitted or skipped) per `next_tuple` call, so one
    /// call stays short; default 256. Zero counts as one.
    pub fn with_batch(mut self, lines_per_call: usize) -> Self {
        self.records.batch = lines_per_call.max(1);
        self
    }

    /// Opens the file, reads its header and skips the records consumed before a rewind.
    fn open_input(&mut self) -> Result<(), FileError> {
        let path = &self.records.path;
        let file = super::open_input(path).map_err(|source| FileError::Open {
            path: path.clone(),
            source,
        })?;
        let mut reader = ReaderBuilder::new()
            .has_headers(true)
            // Rows of the wrong length are reported here, naming the counts.
            .flexible(true)
            // Fields are trimmed after counting the line breaks inside them (see `line`).
            .buffer_capacity(64 * 1024)
            .from_reader(LineIndex::new(file));
        let mut headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(e) => {
                let text = e.to_string();
                return Err(match e.into_kind() {
                    ErrorKind::Io(source) => FileError::Read {
                        path: path.clone(),
                        source,
                    },
                    _ => FileError::Header {
                        path: path.clone(),
                        reason: format!("cannot read the header row: {text}"),
                    },
                });
            }
        };
        headers.trim();
        if headers.iter().all(str::is_empty) {
            let reason = if headers.is_empty() {
                "the file is empty; expected a header row"
            } else {
                "the header row is blank"
            };
            return Err(FileError::Header {
                path: path.clone(),
                reason: reason.into(),
            });
        }
        // Back to the checkpointed position: the same records as `read_record` reads, without
        // reporting them (they were reported the first time); decoded only to know each key's
        // last seq there.
        let mut skipped = ByteRecord::new();
        if let Some(a) = self.ascending.as_mut() {
            a.reset();
        }
        for _ in 0..self.records.consumed {
            match reader.read_byte_record(&mut skipped) {
                Ok(true) => {
                    if let Some(a) = self.ascending.as_mut() {
                        if let Ok(mut record) = StringRecord::from_byte_record(skipped.clone()) {
                            record.trim();
                            if let Ok(Some(value)) = parse::<T>(&headers, &record) {
                                let _ = a.check(&value);
                            }
                        }
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    if let ErrorKind::Io(source) = e.into_kind() {
                        return Err(FileError::Read {
                            path: path.clone(),
                            source,
                        });
                    }
                }
            }
        }
        self.input = Some(Input {
            reader,
            headers,
            record: StringRecord::new(),
        });
        Ok(())
    }
}

impl<T: Tuple> Clone for CsvSpout<T> {
    /// A clone reads the same file with the same settings and counter, from the start.
    fn clone(&self) -> Self {
        CsvSpout {
            records: self.records.unopened(),
            input: None,
            ascending: self.ascending.as_ref().map(Ascending::unopened),
        }
    }
}

impl<T: Tuple> Spout for CsvSpout<T> {
    type Output = T;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
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
            let read = input.reader.read_record(&mut input.record);
            if !matches!(read, Ok(false)) {
                records.consumed += 1;
            }
            match read {
                Ok(true) => {}
                Ok(false) => {
                    records.exhausted = true;
                    self.input = None;
                    return Ok(());
                }
                Err(e) => {
                    // The record is unavailable: name the line where it ends.
                    let end = input.reader.position().byte();
                    let line = input.reader.get_mut().line_of(end.saturating_sub(1));
                    let text = e.to_string();
                    match e.into_kind() {
                        ErrorKind::Io(source) => {
                            return Err(FileError::Read {
                                path: records.path.clone(),
                                source,
                            }
                            .into())
                        }
                        ErrorKind::Utf8 { err, .. } => {
                            let reason = match input.headers.get(err.field()) {
                                Some(name) => format!("field `{name}`: invalid UTF-8"),
                                None => "invalid UTF-8".to_string(),
                            };
                            records.malformed.skip(&records.path, line, &reason);
                        }
                        _ => records.malformed.skip(&records.path, line, &text),
                    }
                    continue;
                }
            }
            let line = input.line();
            input.record.trim();
            let parsed = parse::<T>(&input.headers, &input.record).and_then(|value| {
                match (value, self.ascending.as_mut()) {
                    (Some(v), Some(a)) => a.check(&v).map(|()| Some(v)),
                    (value, _) => Ok(value),
                }
            });
            match parsed {
                Ok(Some(value)) => records.emit(out, value, line),
                Ok(None) => {}
                Err(reason) => records.malformed.skip(&records.path, line, &reason),
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

/// The record as a `T`; `None` for a blank line; the reason it is malformed otherwise.
fn parse<T: Tuple>(headers: &StringRecord, record: &StringRecord) -> Result<Option<T>, String> {
    if record.len() == 1 && record[0].is_empty() {
        // A line of only whitespace (fully empty lines never reach here).
        return Ok(None);
    }
    if record.len() != headers.len() {
        return Err(format!(
            "expected {} fields, found {}",
            headers.len(),
            record.len()
        ));
    }
    record
        .deserialize(Some(headers))
        .map(Some)
        .map_err(|e| reason(&e, headers, record))
}

/// Why a record did not deserialize, naming the field (by its header) and its value when the
/// error points at one: ``field `seq`: invalid digit found in string ("abc")``.
fn reason(e: &csv::Error, headers: &StringRecord, record: &StringRecord) -> String {
    let ErrorKind::Deserialize { err, .. } = e.kind() else {
        return e.to_string();
    };
    let kind = err.kind();
    let field = err
        .field()
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| Some((headers.get(i)?, record.get(i)?)));
    match (field, kind) {
        // serde's "missing field `x`" names the field itself.
        (_, DeserializeErrorKind::Message(m)) if m.starts_with("missing field") => m.clone(),
        (Some((name, _)), DeserializeErrorKind::UnexpectedEndOfRow) => {
            format!("field `{name}`: {kind}")
        }
        (Some((name, value)), _) => format!("field `{name}`: {kind} ({value:?})"),
        (None, _) => kind.to_string(),
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

    fn record(fields: &[&str]) -> StringRecord {
        StringRecord::from(fields.to_vec())
    }

    #[test]
    fn reasons_name_the_field_and_value() {
        let headers = record(&["sensor", "seq", "value"]);
        let parse = |fields: &[&str]| parse::<Reading>(&headers, &record(fields));
        assert_eq!(parse(&["1", "2", "0.5"]), Ok(Some(reading(1, 2, 0.5))));
        assert_eq!(parse(&[""]), Ok(None));
        assert_eq!(
            parse(&["1", "abc", "0.5"]),
            Err("field `seq`: invalid digit found in string (\"abc\")".into())
        );
        assert_eq!(
            parse(&["1", "2", "x"]),
            Err("field `value`: invalid float literal (\"x\")".into())
        );
        assert_eq!(
            parse(&["1", "", "0.5"]),
            Err("field `seq`: cannot parse integer from empty string (\"\")".into())
        );
        assert_eq!(parse(&["1", "2"]), Err("expected 3 fields, found 2".into()));
        assert_eq!(
            parse(&["1", "2", "0.5", "9"]),
            Err("expected 3 fields, found 4".into())
        );
    }

    #[test]
    fn a_header_without_a_field_reports_it_missing() {
        let headers = record(&["sensor", "value"]);
        assert_eq!(
            parse::<Reading>(&headers, &record(&["1", "0.5"])),
            Err("missing field `seq`".into())
        );
    }

    #[test]
    fn emits_the_good_records_in_order_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("readings.csv");
        std::fs::write(
            &path,
            "sensor,seq,value\n\
             1,1,0.5\n\
             1,abc,0.7\n\
             2,1\n\
             \n\
             2,2,1.5,9\n  \n\
             \x20 3 , 4 , 2.5 \r\n\
             1,2,\n\
             seq,sensor,value\n\
             1,2,3\n",
        )
        .unwrap();
        let malformed = Malformed::new();
        // A batch of 2 makes the spout read across several calls.
        let spout = CsvSpout::<Reading>::new(&path)
            .with_malformed(malformed.clone())
            .with_batch(2);
        let got = collect(spout, 1).unwrap();
        assert_eq!(
            got,
            [reading(1, 1, 0.5), reading(3, 4, 2.5), reading(1, 2, 3.0)]
        );
        assert_eq!(malformed.count(), 5);
        let p = path.display();
        assert_eq!(
            malformed.reports(),
            [
                format!("{p}: line 3: field `seq`: invalid digit found in string (\"abc\"); line skipped"),
                format!("{p}: line 4: expected 3 fields, found 2; line skipped"),
                format!("{p}: line 6: expected 3 fields, found 4; line skipped"),
                format!("{p}: line 9: field `value`: cannot parse float from empty string (\"\"); line skipped"),
                format!("{p}: line 10: field `sensor`: invalid digit found in string (\"seq\"); line skipped"),
            ]
        );
    }

    #[test]
    fn line_numbers_are_physical_with_crlf_blank_and_multiline_records() {
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        struct Note {
            id: u32,
            text: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.csv");
        let text =
            "id,text\r\n\r\n1,\"two\r\nlines\"\r\nx,bad\r\n\n\n2,\"a\n\nb\"\ny,bad\nz,\"open";
        std::fs::write(&path, text).unwrap();
        let malformed = Malformed::new();
        let spout = CsvSpout::<Note>::new(&path).with_malformed(malformed.clone());
        let got = collect(spout, 1).unwrap();
        let note = |id, text: &str| Note {
            id,
            text: text.into(),
        };
        assert_eq!(got, [note(1, "two\r\nlines"), note(2, "a\n\nb")]);
        let lines: Vec<String> = malformed
            .reports()
            .iter()
            .map(|r| r.split(": ").nth(1).unwrap().to_string())
            .collect();
        assert_eq!(lines, ["line 5", "line 11", "line 12"]);
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("readings.csv");
        std::fs::write(&path, "value,sensor,seq\n0.25,7,9").unwrap();
        let got = collect(CsvSpout::<Reading>::new(&path), 1).unwrap();
        assert_eq!(got, [reading(7, 9, 0.25)]);
    }

    #[test]
    fn only_task_zero_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("readings.csv");
        std::fs::write(&path, "sensor,seq,value\n1,1,1\n1,2,2\n1,3,3\n").unwrap();
        let malformed = Malformed::new();
        let spout = CsvSpout::<Reading>::new(&path).with_malformed(malformed.clone());
        let got = collect(spout, 3).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(malformed.count(), 0);
    }

    #[test]
    fn a_missing_file_fails_open_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.csv");
        let mut spout = CsvSpout::<Reading>::new(&path);
        let e = spout
            .open(&TaskContext::new("t", "csv", 0, 1))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!("cannot open {}: No such file or directory", path.display())
        );

        let e = collect(CsvSpout::<Reading>::new(&path), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("input.csv") && e.contains("open"), "{e}");
    }

    #[test]
    fn an_empty_file_has_no_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.csv");
        std::fs::write(&path, "").unwrap();
        let mut spout = CsvSpout::<Reading>::new(&path);
        let e = spout
            .open(&TaskContext::new("t", "csv", 0, 1))
            .unwrap_err()
            .to_string();
        let expected = format!(
            "{}: the file is empty; expected a header row",
            path.display()
        );
        assert_eq!(e, expected);
    }

    #[test]
    fn a_header_alone_gives_no_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("header.csv");
        std::fs::write(&path, "sensor,seq,value\n").unwrap();
        assert_eq!(collect(CsvSpout::<Reading>::new(&path), 1).unwrap(), []);
    }

    #[test]
    fn invalid_utf8_in_a_record_skips_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bytes.csv");
        std::fs::write(&path, b"sensor,seq,value\n1,1,1\n1,\xff,2\n1,3,3\n").unwrap();
        let malformed = Malformed::new();
        let spout = CsvSpout::<Reading>::new(&path).with_malformed(malformed.clone());
        let got = collect(spout, 1).unwrap();
        assert_eq!(got, [reading(1, 1, 1.0), reading(1, 3, 3.0)]);
        assert_eq!(malformed.count(), 1);
    }

    /// Readings with malformed, blank and multi-line records among them.
    fn mixed_input(dir: &std::path::Path) -> PathBuf {
        let path = dir.join("mixed.csv");
        let mut text = String::from("sensor,seq,value\n");
        for seq in 0..60 {
            match seq % 13 {
                3 => text.push_str("1,bad,0.5\n"),
                7 => text.push('\n'),
                11 => text.push_str(&format!("\"2\",\"{seq}\n\",1.5\n")),
                _ => text.push_str(&format!("{},{seq},{}.25\n", seq % 4, seq)),
            }
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn restore_rewinds_to_the_snapshot_and_reports_malformed_lines_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = mixed_input(dir.path());
        for (snapshot, restore) in [(0, 10), (9, 30), (25, 26), (40, 100)] {
            let malformed = Malformed::new();
            let spout = CsvSpout::<Reading>::new(&path)
                .with_malformed(malformed.clone())
                .with_batch(4);
            check_rewind(spout, snapshot, restore);
            // `check_rewind` runs the spout twice with one counter: 5 bad lines, each once.
            assert_eq!(malformed.count(), 5, "snapshot {snapshot}");
        }
    }

    #[test]
    fn failed_records_are_emitted_again_in_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let spout = CsvSpout::<Reading>::new(mixed_input(dir.path())).with_batch(3);
        assert!(check_replay(spout, |line| line % 5 == 0) > 5);
    }
}
