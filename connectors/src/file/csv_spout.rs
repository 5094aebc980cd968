//! A bounded spout over a CSV file with a header row.

use std::path::PathBuf;
use std::sync::Arc;

use squall::{
    ComponentError, MessageId, Spout, SpoutCollector, SpoutWaker, State, TaskContext, Tuple,
    Unrecoverable,
};

use super::ascending::Ascending;
use super::csv_reader::{CsvLine, CsvReader};
use super::read_ahead::{Ahead, ReadAhead, BLOCK};
use super::records::{is_stdin, Records};
use super::{FileError, Malformed};

/// Reads a CSV file with a header row, line by line with a [`CsvReader`]: each line is a record
/// of `T` (a struct by header name, so the columns may come in any order), without quoting.
///
/// Bounded: [`Spout::is_finished`] at the end of the file. Parallelism 1: a task other than task
/// 0 emits nothing and finishes at once. Each record is emitted with its line number as message
/// id. Fields are trimmed of surrounding whitespace; blank lines are skipped silently.
///
/// Replayable: a checkpoint records how many lines were read, and `restore` rewinds there
/// (exactly-once; standard input cannot be rewound); under at-least-once every emitted record is
/// kept until acked and failed ones are emitted again, lowest line first.
///
/// The header is read in `open`: a file that cannot be opened, is empty or whose header does
/// not name `T`'s fields fails the task with a message naming the file (check it before the
/// run with [`CsvReader::open`] to fail once, without restarts). A line that does not fit `T`
/// (a missing or extra field, a value that does not parse, a `NaN` or infinite float, bytes
/// that are not UTF-8) is reported on stderr as `{path}: line {n}: {reason}; line skipped`,
/// counted in the [`Malformed`] counter, and skipped: it costs that line only.
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
    input: Option<CsvReader<T>>,
    /// A file's lines parsed ahead on other threads, in place of `input`.
    ahead: Option<Ahead<T>>,
    /// Parser threads for a file (0: parse on the spout's own thread) and their block size.
    threads: usize,
    block: u64,
    waker: Option<SpoutWaker>,
    check: Option<Check<T>>,
    /// The order records must keep, if checked (see [`CsvSpout::with_ascending`]).
    ascending: Option<Ascending<T>>,
}

/// A check on each parsed record: `Err(reason)` makes it a malformed line.
type Check<T> = Arc<dyn Fn(&T) -> Result<(), String> + Send + Sync>;

impl<T: Tuple> CsvSpout<T> {
    /// A spout over the CSV file at `path` ([`super::STDIN`], `-`, reads standard input);
    /// nothing is opened until the task's `open`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvSpout {
            records: Records::new(path.into()),
            input: None,
            ahead: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            block: BLOCK,
            waker: None,
            check: None,
            ascending: None,
        }
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

    /// Parses a file (not standard input) on `threads` threads ahead of the spout, in blocks of
    /// 1 MiB handed back in file order (default: one per core); 0 parses on the spout's own
    /// thread. Either way the spout emits, checks and reports the lines in file order.
    pub fn with_parse_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Checks every record that parsed: one that fails is reported and skipped like a
    /// malformed line, with `reason`. Clones share the check (and whatever state it keeps).
    pub fn with_check(
        mut self,
        check: impl Fn(&T) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.check = Some(Arc::new(check));
        self
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
        self.ascending = Some(Ascending::new(names, Arc::new(key_seq)));
        self
    }

    /// Opens the file, reads its header and skips the lines consumed before a rewind.
    fn open_input(&mut self) -> Result<(), FileError> {
        let mut reader = CsvReader::open(self.records.path.clone())?;
        // The lines were reported the first time they were read. With an order check they are
        // decoded again, only to know each key's last seq at the rewound position.
        match self.ascending.as_mut() {
            None => {
                reader.skip(self.records.consumed)?;
            }
            Some(ascending) => {
                ascending.reset();
                for _ in 0..self.records.consumed {
                    match reader.read()? {
                        Some(CsvLine::Record(value)) => {
                            let _ = admit(self.check.as_ref(), Some(ascending), &value);
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
        }
        if self.threads > 0 && !is_stdin(&self.records.path) {
            let (names, by_name) = reader.columns();
            let read = ReadAhead::start(
                &self.records.path,
                names.into(),
                by_name,
                reader.offset(),
                (self.threads, self.block),
                self.waker.clone(),
            )?;
            self.ahead = Some(Ahead::new(read, reader.line()));
            return Ok(());
        }
        self.input = Some(reader);
        Ok(())
    }

    /// Emits or reports line `line`.
    fn take(&mut self, out: &mut SpoutCollector<'_, T>, parsed: CsvLine<T>, line: u64) {
        let records = &mut self.records;
        match parsed {
            CsvLine::Record(value) => {
                match admit(self.check.as_ref(), self.ascending.as_mut(), &value) {
                    Ok(()) => records.emit(out, value, line),
                    Err(reason) => records.malformed.skip(&records.path, line, &reason),
                }
            }
            CsvLine::Blank => {}
            CsvLine::Malformed(reason) => records.malformed.skip(&records.path, line, &reason),
        }
    }
}

/// The record check, then the order check: why `value` is skipped, if it is.
fn admit<T>(
    check: Option<&Check<T>>,
    ascending: Option<&mut Ascending<T>>,
    value: &T,
) -> Result<(), String> {
    if let Some(check) = check {
        check(value)?;
    }
    match ascending {
        Some(ascending) => ascending.check(value),
        None => Ok(()),
    }
}

impl<T: Tuple> Clone for CsvSpout<T> {
    /// A clone reads the same file with the same settings and counter, from the start.
    fn clone(&self) -> Self {
        CsvSpout {
            records: self.records.unopened(),
            input: None,
            ahead: None,
            threads: self.threads,
            block: self.block,
            waker: None,
            check: self.check.clone(),
            ascending: self.ascending.as_ref().map(Ascending::unopened),
        }
    }
}

impl<T: Tuple> Spout for CsvSpout<T> {
    type Output = T;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.records.malformed = self.records.malformed.counting_in(ctx);
        if self.threads > 0 && !is_stdin(&self.records.path) {
            // The parser threads wake the task when a block is ready.
            self.waker = ctx.waker();
        }
        if self.records.open(ctx) {
            // The file's content, or its absence, will not change with a restart.
            self.open_input().map_err(|e| match e {
                FileError::Header { .. } => Unrecoverable::new(e).into(),
                FileError::Open { ref source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Unrecoverable::new(e).into()
                }
                other => ComponentError::from(other),
            })?;
        }
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        let Some(budget) = self.records.replay_then_budget(out) else {
            return Ok(());
        };
        if self.input.is_none() && self.ahead.is_none() {
            self.open_input()?;
        }
        for _ in 0..budget {
            let (line, parsed) = if let Some(ahead) = self.ahead.as_mut() {
                match ahead.next() {
                    Ok(Some(next)) => next,
                    Ok(None) => return Ok(()),
                    Err(None) => {
                        self.records.exhausted = true;
                        self.ahead = None;
                        return Ok(());
                    }
                    Err(Some(e)) => return Err(e.into()),
                }
            } else if let Some(input) = self.input.as_mut() {
                match input.read()? {
                    Some(parsed) => (input.line(), parsed),
                    None => {
                        self.records.exhausted = true;
                        self.input = None;
                        return Ok(());
                    }
                }
            } else {
                return Ok(());
            };
            // Lines after the header, up to this one.
            self.records.consumed = line - 1;
            self.take(out, parsed, line);
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
        self.ahead = None;
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
            self.ahead = None;
        }
        Ok(())
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
    fn a_stray_quote_costs_its_line_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quote.csv");
        let text = "sensor,seq,value\r\n\r\n1,1,1\r\n1,\"2,2\r\n1,3,3\n\n\"1\",4,4\n1,5,\"5\n1,6,6";
        std::fs::write(&path, text).unwrap();
        let malformed = Malformed::new();
        let spout = CsvSpout::<Reading>::new(&path).with_malformed(malformed.clone());
        let got = collect(spout, 1).unwrap();
        assert_eq!(
            got,
            [reading(1, 1, 1.0), reading(1, 3, 3.0), reading(1, 6, 6.0)]
        );
        let lines: Vec<String> = malformed
            .reports()
            .iter()
            .map(|r| r.split(": ").nth(1).unwrap().to_string())
            .collect();
        assert_eq!(lines, ["line 4", "line 7", "line 8"]);
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
            "{}: the file is empty; expected the header `sensor,seq,value` (columns in any order)",
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

    /// Readings with malformed lines, blank lines and stray quotes among them.
    fn mixed_input(dir: &std::path::Path) -> PathBuf {
        let path = dir.join("mixed.csv");
        let mut text = String::from("sensor,seq,value\n");
        for seq in 0..60 {
            match seq % 13 {
                3 => text.push_str("1,bad,0.5\n"),
                7 => text.push('\n'),
                11 => text.push_str(&format!("2,\"{seq},1.5\n")),
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
            // `check_rewind` runs the spout twice with one counter: 9 bad lines, each once.
            assert_eq!(malformed.count(), 9, "snapshot {snapshot}");
        }
    }

    #[test]
    fn parsing_ahead_in_small_blocks_reads_what_the_spout_alone_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = mixed_input(dir.path());
        let run = |threads, block| {
            let malformed = Malformed::new();
            let mut spout = CsvSpout::<Reading>::new(&path)
                .with_malformed(malformed.clone())
                .with_parse_threads(threads)
                .with_batch(5);
            spout.block = block;
            let got = collect(spout, 1).unwrap();
            (got, malformed.reports())
        };
        let alone = run(0, BLOCK);
        assert_eq!(alone.0.len(), 46);
        assert_eq!(alone.1.len(), 9);
        for (threads, block) in [(1, 7), (3, 1), (3, 40), (2, 1000)] {
            assert_eq!(
                run(threads, block),
                alone,
                "{threads} threads, blocks of {block}"
            );
        }
    }

    #[test]
    fn failed_records_are_emitted_again_in_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let spout = CsvSpout::<Reading>::new(mixed_input(dir.path())).with_batch(3);
        assert!(check_replay(spout, |line| line % 5 == 0) > 5);
    }
}
