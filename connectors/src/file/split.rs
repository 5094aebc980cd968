//! Input splits: a file cut into byte ranges, each read by its own reader (Hadoop's input
//! splits). A line belongs to the range it *starts* in, so every line is read exactly once
//! however the cuts fall. [`super::LinesSpout`] spreads a file over its tasks this way, and
//! [`super::distinct_keys`] scans a CSV file's ranges on all cores.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// Bytes read from the file at a time.
const CHUNK: usize = 1 << 20;

/// The length of the file at `path`, or the error of opening it, naming it.
pub(crate) fn file_len(path: &std::path::Path) -> Result<u64, super::FileError> {
    File::open(path)
        .and_then(|f| f.metadata())
        .map(|m| m.len())
        .map_err(|source| super::FileError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Range `part` of `parts` equal byte ranges of `[from, to)`.
pub(crate) fn range(from: u64, to: u64, part: usize, parts: usize) -> (u64, u64) {
    let len = u128::from(to.saturating_sub(from));
    let (part, parts) = (part as u128, parts.max(1) as u128);
    let at = |k: u128| from + (len * k / parts) as u64;
    (at(part), at(part + 1))
}

/// Calls `line(offset, bytes)` for every line that starts in `[start, end)` of `file`, in
/// order: `offset` is where the line starts, `bytes` the line without its `\n` or `\r\n`.
/// `start` need not be a line start: a line that began before it belongs to the previous range.
/// A final line without a line break is a line. Reads in chunks of 1 MiB into one buffer.
/// Returns where the next range's first line starts (the end of the file if none does).
pub(crate) fn for_each_line(
    file: &mut File,
    start: u64,
    end: u64,
    mut line: impl FnMut(u64, &[u8]),
) -> std::io::Result<u64> {
    if start >= end {
        return Ok(start);
    }
    // Read from the byte before `start`: a line starts at `start` only if that byte is `\n`.
    let mut base = start.saturating_sub(1);
    file.seek(SeekFrom::Start(base))?;
    let mut buf = Vec::with_capacity(CHUNK);
    let mut at = 0; // The next line's start in `buf`, once found.
    let mut aligned = start == 0;
    loop {
        let filled = buf.len();
        buf.resize(filled + CHUNK, 0);
        let read = file.read(&mut buf[filled..])?;
        buf.truncate(filled + read);
        if !aligned {
            match memchr::memchr(b'\n', &buf[at..]) {
                Some(i) => {
                    at += i + 1;
                    aligned = true;
                }
                None if read == 0 => return Ok(base + buf.len() as u64),
                None => {
                    at = buf.len();
                    continue;
                }
            }
        }
        while let Some(i) = memchr::memchr(b'\n', &buf[at..]) {
            let offset = base + at as u64;
            if offset >= end {
                return Ok(offset);
            }
            line(offset, trim_cr(&buf[at..at + i]));
            at += i + 1;
        }
        if read == 0 {
            let offset = base + at as u64;
            if at < buf.len() && offset < end {
                line(offset, trim_cr(&buf[at..]));
            }
            return Ok(base + buf.len() as u64);
        }
        if base + at as u64 >= end {
            return Ok(base + at as u64);
        }
        // Keep the partial line at the front.
        buf.drain(..at);
        base += at as u64;
        at = 0;
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cut of a file into ranges yields every line once, in order, at its offset.
    #[test]
    fn ranges_read_every_line_once_wherever_the_cuts_fall() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.txt");
        let text = "a\nbb\r\n\nccc\ndddd\n\ne";
        std::fs::write(&path, text).unwrap();
        let mut expected = Vec::new();
        let mut offset = 0;
        for l in text.split('\n') {
            expected.push((offset as u64, l.trim_end_matches('\r').as_bytes().to_vec()));
            offset += l.len() + 1;
        }
        let len = text.len() as u64;
        for parts in 1..=len as usize + 2 {
            let mut file = File::open(&path).unwrap();
            let mut got = Vec::new();
            let mut next = 0;
            for part in 0..parts {
                let (start, end) = range(0, len, part, parts);
                let first = got.len();
                let after =
                    for_each_line(&mut file, start, end, |o, l| got.push((o, l.to_vec()))).unwrap();
                // Each range starts where the previous one said the next line starts.
                if let Some(&(o, _)) = got.get(first) {
                    assert_eq!(o, next, "{parts} parts, part {part}");
                }
                if start < end {
                    next = after;
                }
            }
            assert_eq!(next, len, "{parts} parts");
            assert_eq!(got, expected, "{parts} parts");
        }
    }

    #[test]
    fn a_range_from_the_middle_starts_at_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.txt");
        std::fs::write(&path, "header\n1\n22\n").unwrap();
        let mut file = File::open(&path).unwrap();
        let mut got = Vec::new();
        for_each_line(&mut file, 7, 12, |o, l| got.push((o, l.to_vec()))).unwrap();
        assert_eq!(got, [(7, b"1".to_vec()), (9, b"22".to_vec())]);
    }
}
