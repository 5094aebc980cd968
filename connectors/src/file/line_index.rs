//! Physical line numbers for a CSV reader.
//!
//! The csv crate's record positions count from where it started looking for a record, before it
//! skipped blank lines or the `\n` of a `\r\n`, so they can be off by a few lines. Messages must
//! name the physical line, so the input is read through [`LineIndex`], which notes where every
//! `\n` is; a record's line follows from the byte offset where the record ends.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A reader that notes the offset of every `\n` it passes on.
pub(crate) struct LineIndex<R> {
    inner: R,
    /// Bytes read so far.
    read: u64,
    /// Offsets of the newlines not yet passed by a lookup. Lookups go forward, so this holds
    /// at most the newlines of what the CSV reader has buffered.
    newlines: VecDeque<u64>,
    /// Newlines before the front of `newlines`.
    passed: u64,
}

impl<R> LineIndex<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineIndex {
            inner,
            read: 0,
            newlines: VecDeque::new(),
            passed: 0,
        }
    }

    /// The 1-based line holding byte `offset`. Offsets must not decrease from call to call.
    pub(crate) fn line_of(&mut self, offset: u64) -> u64 {
        while self.newlines.front().is_some_and(|&nl| nl < offset) {
            self.newlines.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let start = self.read;
        let found = buf[..n]
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| start + i as u64);
        self.newlines.extend(found);
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_offsets() {
        let mut index = LineIndex::new(&b"ab\n\ncd\r\nef"[..]);
        let mut all = Vec::new();
        index.read_to_end(&mut all).unwrap();
        let lines: Vec<u64> = (0..all.len() as u64).map(|o| index.line_of(o)).collect();
        assert_eq!(lines, [1, 1, 1, 2, 3, 3, 3, 3, 4, 4]);
    }
}
