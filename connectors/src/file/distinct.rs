//! Counting the distinct keys of a CSV file on all cores, at about the speed the file is read.

use std::fs::File;
use std::path::Path;

use rustc_hash::FxHashSet;
use serde::de::DeserializeOwned;

use super::csv_de::parse_line;
use super::csv_reader::{CsvLine, CsvReader};
use super::split::{for_each_line, range};
use super::{FileError, STDIN};

/// Ranges smaller than this are not worth a thread.
const MIN_SPLIT: u64 = 4 << 20;

/// The number of distinct keys among the records of `T` in the CSV file at `path` (header
/// checked as [`CsvReader::open`] does), where `column` is an unsigned integer column and `key`
/// gives a record's value of it. Only lines that are records count: a line that does not parse
/// as a `T` is not a key (a reader of the same file skips it).
///
/// The file is cut into one byte range per core (see `split`) and each range scanned by its own
/// thread. A line is only split at its commas and its key column read as digits; the whole line
/// is parsed only when that key is new to the thread (to check the line is a record), which for
/// a file of many lines and few keys is almost never. Standard input is read once, in order.
pub fn distinct_keys<T: DeserializeOwned>(
    path: &Path,
    column: &str,
    key: impl Fn(&T) -> u64 + Sync,
) -> Result<u64, FileError> {
    let mut reader = CsvReader::<T>::open(path)?;
    if path == Path::new(STDIN) {
        let mut seen = FxHashSet::default();
        while let Some(line) = reader.read()? {
            if let CsvLine::Record(r) = line {
                seen.insert(key(&r));
            }
        }
        return Ok(seen.len() as u64);
    }
    let (names, by_name) = reader.columns();
    let column = names.iter().position(|n| &**n == column);
    let open_error = |source| FileError::Open {
        path: path.to_path_buf(),
        source,
    };
    let len = super::split::file_len(path)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min((len / MIN_SPLIT) as usize + 1);
    let scan = |part: usize| -> Result<FxHashSet<u64>, FileError> {
        let mut file = File::open(path).map_err(open_error)?;
        let mut seen = FxHashSet::default();
        // The header is the line starting at byte 0: the records start in [1, len).
        let (start, end) = range(1, len.max(1), part, threads);
        for_each_line(&mut file, start, end, |_, line| {
            if let Some(k) = column.and_then(|c| digits_at(line, c)) {
                if seen.contains(&k) {
                    return;
                }
            }
            if line.trim_ascii().is_empty() {
                return;
            }
            if let Ok(record) = parse_line::<T>(names, by_name, line) {
                seen.insert(key(&record));
            }
        })
        .map_err(|source| FileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(seen)
    };
    let sets: Vec<Result<FxHashSet<u64>, FileError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|p| s.spawn(move || scan(p))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Ok(FxHashSet::default())))
            .collect()
    });
    let mut all = FxHashSet::default();
    for set in sets {
        all.extend(set?);
    }
    Ok(all.len() as u64)
}

/// Field `index` of a comma-separated line read as an unsigned integer (ASCII whitespace
/// around it allowed), or `None` when it is not one.
fn digits_at(line: &[u8], index: usize) -> Option<u64> {
    let field = line.split(|&b| b == b',').nth(index)?.trim_ascii();
    if field.is_empty() || field.len() > 19 {
        return None;
    }
    field.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Reading {
        sensor: u32,
        #[allow(dead_code)]
        seq: u64,
        #[allow(dead_code)]
        value: f64,
    }

    fn count(text: &str) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, text).unwrap();
        distinct_keys::<Reading>(&path, "sensor", |r| u64::from(r.sensor)).unwrap()
    }

    #[test]
    fn only_records_count_and_columns_may_come_in_any_order() {
        assert_eq!(count("sensor,seq,value\n1,1,1\n2,1,1\n1,2,2\n"), 2);
        // A malformed line is no sensor, even when its key column is a number.
        assert_eq!(
            count("sensor,seq,value\n1,1,1\n7,x,1\n8,1\n 9 , 1 , 2 \r\n"),
            2
        );
        assert_eq!(count("seq,value,sensor\n1,1,5\n2,2,6\n\n3,3,5"), 2);
        assert_eq!(count("sensor,seq,value\n4294967296,1,1\n"), 0);
        assert_eq!(count("sensor,seq,value\n"), 0);
    }

    #[test]
    fn a_large_file_scanned_in_parallel_counts_what_one_reader_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let mut text = String::from("sensor,seq,value\n");
        let mut i = 0u64;
        while text.len() < 3 * MIN_SPLIT as usize {
            let sensor = (i * 7919) % 1000;
            match i % 997 {
                5 => text.push_str(&format!("{},bad,1\n", 5000 + i)),
                _ => text.push_str(&format!("{sensor},{i},0.{}\n", i % 10)),
            }
            i += 1;
        }
        std::fs::write(&path, &text).unwrap();
        let got = distinct_keys::<Reading>(&path, "sensor", |r| u64::from(r.sensor)).unwrap();
        let mut reader = CsvReader::<Reading>::open(&path).unwrap();
        let mut seen = FxHashSet::default();
        while let Some(line) = reader.read().unwrap() {
            if let CsvLine::Record(r) = line {
                seen.insert(r.sensor);
            }
        }
        assert_eq!(got, seen.len() as u64);
        assert_eq!(got, 1000);
    }

    #[test]
    fn a_wrong_header_is_the_readers_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let e = distinct_keys::<Reading>(&path, "sensor", |r| u64::from(r.sensor)).unwrap_err();
        assert!(e.to_string().contains("header"), "{e}");
    }
}
