//! Reading a CSV file line by line into typed records.

use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::csv_de::{parse_line, struct_fields};
use super::FileError;
use crate::excerpt::{quoted, shorten, QUOTED};

/// A line buffer grown past this by one huge line is shrunk back, so one such line does not
/// pin its size for the rest of the file.
const KEEP_BUFFER: usize = 1 << 20;

/// What one line of a CSV file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum CsvLine<T> {
    /// A record.
    Record(T),
    /// A line of only whitespace, skipped silently.
    Blank,
    /// A line that is not a record of `T`, and why (naming the field, quoting at most the
    /// first 80 bytes of its value).
    Malformed(String),
}

/// Reads a CSV file with a header row, one line at a time, each line a record of `T`.
///
/// The format is CSV without quoting: a line is a record, split on `,`, each field trimmed of
/// ASCII whitespace; `\n` or `\r\n` line breaks, the last line with or without one. A quote is
/// an ordinary character, so a stray `"` costs its own line only. `T` is deserialized with
/// serde: a struct by header name (the header must name exactly its fields, in any order),
/// anything else by position. Floats must be finite: `NaN` and `inf` make a line malformed.
///
/// Reading allocates nothing per line beyond what `T` itself holds (a `String` field).
///
/// ```
/// use serde::Deserialize;
/// use squall_connectors::file::{CsvLine, CsvReader};
///
/// #[derive(Debug, PartialEq, Deserialize)]
/// struct Reading { sensor: u32, seq: u64, value: f64 }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("readings.csv");
/// std::fs::write(&path, "sensor,seq,value\n1,1,0.5\n1,\"2,0.7\n")?;
/// let mut reader = CsvReader::<Reading>::open(&path)?;
/// let first = CsvLine::Record(Reading { sensor: 1, seq: 1, value: 0.5 });
/// assert_eq!(reader.read()?, Some(first));
/// assert!(matches!(reader.read()?, Some(CsvLine::Malformed(_))));
/// assert_eq!(reader.line(), 3);
/// assert_eq!(reader.read()?, None);
/// # Ok(())
/// # }
/// ```
pub struct CsvReader<T> {
    path: PathBuf,
    reader: BufReader<Box<dyn Read + Send + Sync>>,
    names: Vec<Box<str>>,
    /// `T` is a struct read by header name.
    by_name: bool,
    /// The current line, reused for every line.
    buf: Vec<u8>,
    /// The number of the line last read (the header is line 1).
    line: u64,
    /// Bytes read so far: where the next line starts.
    offset: u64,
    // `fn() -> T`: produces `T`s, holds none.
    records: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> CsvReader<T> {
    /// Opens the file at `path` ([`super::STDIN`], `-`, is standard input) and checks its header:
    /// an empty file, a blank header or one that does not name `T`'s fields is an error naming
    /// the file and the header found.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, FileError> {
        let path = path.into();
        let file = super::open_input(&path).map_err(|source| FileError::Open {
            path: path.clone(),
            source,
        })?;
        let mut reader = CsvReader {
            reader: BufReader::with_capacity(64 * 1024, file),
            path,
            names: Vec::new(),
            by_name: false,
            buf: Vec::new(),
            line: 0,
            offset: 0,
            records: PhantomData,
        };
        let fields = struct_fields::<T>();
        let path = &reader.path;
        let header = match Self::next_line_in(&mut reader.reader, &mut reader.buf, path)? {
            Some((line, read)) => {
                reader.offset = read;
                line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
            }
            None => return Err(header_error(path, "the file is empty", fields)),
        };
        reader.line = 1;
        let names = match std::str::from_utf8(header) {
            Ok(text) if !text.trim().is_empty() => text.split(',').map(|n| n.trim().into()),
            Ok(_) => return Err(header_error(path, "the header row is blank", fields)),
            Err(_) => {
                let reason = "the header row is not valid UTF-8";
                return Err(header_error(path, reason, fields));
            }
        };
        reader.names = names.collect();
        if let Some(fields) = fields {
            let mut names: Vec<&str> = reader.names.iter().map(|n| &**n).collect();
            names.sort_unstable();
            let mut want = fields.to_vec();
            want.sort_unstable();
            if names != want {
                let found = format!("the header row is {}", quoted(header));
                return Err(header_error(path, &found, Some(fields)));
            }
            reader.by_name = true;
        }
        Ok(reader)
    }

    /// The next line: `None` at the end of the file. Reading fails only when the file does.
    pub fn read(&mut self) -> Result<Option<CsvLine<T>>, FileError> {
        if self.buf.capacity() > KEEP_BUFFER {
            self.buf = Vec::new();
        }
        let Some((line, read)) = Self::next_line_in(&mut self.reader, &mut self.buf, &self.path)?
        else {
            return Ok(None);
        };
        self.line += 1;
        self.offset += read;
        if line.trim_ascii().is_empty() {
            return Ok(Some(CsvLine::Blank));
        }
        Ok(Some(
            match parse_line::<T>(&self.names, self.by_name, line) {
                Ok(record) => CsvLine::Record(record),
                Err(e) => CsvLine::Malformed(e.into_reason()),
            },
        ))
    }

    /// Passes over up to `lines` lines without parsing them (back to a checkpointed position);
    /// returns how many there were.
    pub fn skip(&mut self, lines: u64) -> Result<u64, FileError> {
        for skipped in 0..lines {
            if self.next_line()?.is_none() {
                return Ok(skipped);
            }
        }
        Ok(lines)
    }

    /// The number of the line last read or skipped, from 1 (the header).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The header's column names, and whether `T` is read by name (a struct).
    pub(crate) fn columns(&self) -> (&[Box<str>], bool) {
        (&self.names, self.by_name)
    }

    /// Where the next line starts: bytes read so far, the header included.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next line without its line break, counted.
    fn next_line(&mut self) -> Result<Option<&[u8]>, FileError> {
        let line = Self::next_line_in(&mut self.reader, &mut self.buf, &self.path)?;
        Ok(line.map(|(line, read)| {
            self.line += 1;
            self.offset += read;
            line
        }))
    }

    fn next_line_in<'b>(
        reader: &mut BufReader<Box<dyn Read + Send + Sync>>,
        buf: &'b mut Vec<u8>,
        path: &Path,
    ) -> Result<Option<(&'b [u8], u64)>, FileError> {
        buf.clear();
        let read = reader
            .read_until(b'\n', buf)
            .map_err(|source| FileError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            return Ok(None);
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(buf);
        Ok(Some((
            line.strip_suffix(b"\r").unwrap_or(line),
            read as u64,
        )))
    }
}

/// The header is not what `T` needs: `what` is wrong, and which columns were expected.
fn header_error(path: &Path, what: &str, fields: Option<&[&str]>) -> FileError {
    let reason = match fields {
        Some(fields) => {
            let expected = fields.join(",");
            let expected = shorten(&expected, QUOTED);
            format!("{what}; expected the header `{expected}` (columns in any order)")
        }
        None => format!("{what}; expected a header row"),
    };
    FileError::Header {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Reading {
        sensor: u32,
        seq: u64,
        value: f64,
    }

    fn header_error(text: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, text).unwrap();
        let e = CsvReader::<Reading>::open(&path).err().unwrap().to_string();
        e.strip_prefix(&format!("{}: ", path.display()))
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_header_that_does_not_name_the_fields_is_one_error() {
        let expected = "expected the header `sensor,seq,value` (columns in any order)";
        assert_eq!(
            header_error(b"a,b,c\n1,2,3\n"),
            format!("the header row is \"a,b,c\"; {expected}")
        );
        assert_eq!(
            header_error(b"sensor,value\n1,2\n"),
            format!("the header row is \"sensor,value\"; {expected}")
        );
        assert_eq!(
            header_error(b"sensor,seq,seq,value\n"),
            format!("the header row is \"sensor,seq,seq,value\"; {expected}")
        );
        assert_eq!(
            header_error(b"sensor,seq,value,unit\n"),
            format!("the header row is \"sensor,seq,value,unit\"; {expected}")
        );
        assert_eq!(header_error(b""), format!("the file is empty; {expected}"));
        assert_eq!(
            header_error(b" \r\n1,2,3\n"),
            format!("the header row is blank; {expected}")
        );
        assert_eq!(
            header_error(b"sensor,s\xffq,value\n"),
            format!("the header row is not valid UTF-8; {expected}")
        );
        let huge = header_error(format!("sensor,seq,{}\n", "v".repeat(1 << 20)).as_bytes());
        assert!(huge.len() < 250, "{huge}");
    }

    #[test]
    fn reads_line_by_line_with_crlf_bom_and_no_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(
            &path,
            b"\xef\xbb\xbf seq ,sensor,value\r\n1,2,0.5\r\n\r\n3,\"4,1\n5,6,NaN\n7,8,9",
        )
        .unwrap();
        let mut reader = CsvReader::<Reading>::open(&path).unwrap();
        let mut got = Vec::new();
        while let Some(line) = reader.read().unwrap() {
            got.push((reader.line(), line));
        }
        let r = |seq, sensor, value| CsvLine::Record(Reading { sensor, seq, value });
        assert_eq!(
            got,
            [
                (2, r(1, 2, 0.5)),
                (3, CsvLine::Blank),
                (
                    4,
                    CsvLine::Malformed(
                        "field `sensor`: invalid digit found in string (\"\\\"4\")".into()
                    )
                ),
                (
                    5,
                    CsvLine::Malformed("field `value`: not a finite number (\"NaN\")".into())
                ),
                (6, r(7, 8, 9.0)),
            ]
        );
    }

    #[test]
    fn skip_passes_over_lines_and_stops_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, "sensor,seq,value\n1,1,1\nbad\n1,3,3\n").unwrap();
        let mut reader = CsvReader::<Reading>::open(&path).unwrap();
        assert_eq!(reader.skip(2).unwrap(), 2);
        assert_eq!(reader.line(), 3);
        let third = Reading {
            sensor: 1,
            seq: 3,
            value: 3.0,
        };
        assert_eq!(reader.read().unwrap(), Some(CsvLine::Record(third)));
        assert_eq!(reader.skip(5).unwrap(), 0);
        assert_eq!(reader.read().unwrap(), None);
    }
}
