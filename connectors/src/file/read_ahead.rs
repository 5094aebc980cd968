//! Parsing a CSV file ahead of its spout, on several threads, in order.
//!
//! The file from a line start on is cut into blocks of [`BLOCK`] bytes (input splits, see
//! `split`); parser thread `w` of `W` parses blocks `w`, `w + W`, `w + 2W`... and hands each to
//! the spout through its own bounded channel, so the spout takes them back in file order by
//! reading the channels in turn. The spout thus emits, checks and reports every line in file
//! order, with its line number, exactly as if it parsed them itself, while the parsing (most of
//! the cost of a reading) runs on every core. A block costs a few allocations, a line none
//! beyond what its record holds.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, TryRecvError};
use serde::de::DeserializeOwned;
use squall::SpoutWaker;

use super::csv_de::parse_line;
use super::csv_reader::CsvLine;
use super::split::for_each_line;
use super::FileError;

/// Bytes per block.
pub(crate) const BLOCK: u64 = 1 << 20;
/// Parsed blocks a thread may hold ahead of the spout.
const AHEAD: usize = 2;

/// One block's lines, parsed.
pub(crate) struct Block<T> {
    /// Its non-blank lines: the line's index in the block (from 0, blank lines counted) and
    /// what it holds.
    pub(crate) lines: Vec<(u32, CsvLine<T>)>,
    /// Lines starting in the block, blank ones included.
    pub(crate) count: u64,
}

/// The parser threads and their channels.
pub(crate) struct ReadAhead<T> {
    channels: Vec<Receiver<Result<Block<T>, FileError>>>,
    /// The block to take next.
    next: usize,
}

impl<T: DeserializeOwned + Send + 'static> ReadAhead<T> {
    /// Starts `threads` threads parsing `path` from byte `offset` (a line start) with the header
    /// `names` (`by_name`: see `parse_line`); `waker`, if any, is woken for every block.
    pub(crate) fn start(
        path: &Path,
        names: Arc<[Box<str>]>,
        by_name: bool,
        offset: u64,
        (threads, block): (usize, u64),
        waker: Option<SpoutWaker>,
    ) -> Result<Self, FileError> {
        let open_error = |source| FileError::Open {
            path: path.to_path_buf(),
            source,
        };
        let len = super::split::file_len(path)?;
        let threads = threads.max(1);
        let mut channels = Vec::with_capacity(threads);
        for w in 0..threads {
            let (tx, rx) = bounded(AHEAD);
            let file = File::open(path).map_err(open_error)?;
            let (file_path, names, waker) = (path.to_path_buf(), names.clone(), waker.clone());
            let parse = move || {
                let mut file = file;
                let block = block.max(1);
                let mut start = offset + w as u64 * block;
                while start < len {
                    let parsed =
                        parse_block::<T>(&mut file, &file_path, &names, by_name, start, block);
                    let failed = parsed.is_err();
                    if tx.send(parsed).is_err() || failed {
                        return;
                    }
                    if let Some(w) = &waker {
                        w.wake();
                    }
                    start += threads as u64 * block;
                }
                // The spout may be waiting for this channel: it is now closed.
                drop(tx);
                if let Some(w) = &waker {
                    w.wake();
                }
            };
            std::thread::Builder::new()
                .name(format!("csv-parse-{w}"))
                .spawn(parse)
                .map_err(|source| FileError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
            channels.push(rx);
        }
        Ok(ReadAhead { channels, next: 0 })
    }

    /// The next block in file order: `Ok(None)` while it is being parsed, `Err(None)` at the
    /// end of the file.
    pub(crate) fn try_next(&mut self) -> Result<Option<Block<T>>, Option<FileError>> {
        let channel = &self.channels[self.next % self.channels.len()];
        match channel.try_recv() {
            Ok(Ok(block)) => {
                self.next += 1;
                Ok(Some(block))
            }
            Ok(Err(e)) => Err(Some(e)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(None),
        }
    }
}

/// The parsed lines of a [`ReadAhead`] one by one, with their line numbers.
pub(crate) struct Ahead<T> {
    read: ReadAhead<T>,
    lines: std::vec::IntoIter<(u32, CsvLine<T>)>,
    /// The current block's line count.
    count: u64,
    /// The number of the last line before the current block.
    base: u64,
    /// The number of the last line taken.
    line: u64,
}

impl<T: DeserializeOwned + Send + 'static> Ahead<T> {
    /// Takes the blocks of `read`, whose first line follows line `line`.
    pub(crate) fn new(read: ReadAhead<T>, line: u64) -> Self {
        Ahead {
            read,
            lines: Vec::new().into_iter(),
            count: 0,
            base: line,
            line,
        }
    }

    /// The next non-blank line and its number: `Ok(None)` while it is being parsed, `Err(None)`
    /// at the end of the file.
    pub(crate) fn next(&mut self) -> Result<Option<(u64, CsvLine<T>)>, Option<FileError>> {
        loop {
            if let Some((index, line)) = self.lines.next() {
                self.line = self.base + u64::from(index) + 1;
                return Ok(Some((self.line, line)));
            }
            let Some(block) = self.read.try_next()? else {
                return Ok(None);
            };
            self.base += self.count;
            self.line = self.base;
            self.count = block.count;
            self.lines = block.lines.into_iter();
        }
    }
}

/// Parses the lines starting in `[start, start + block)`.
fn parse_block<T: DeserializeOwned>(
    file: &mut File,
    path: &Path,
    names: &[Box<str>],
    by_name: bool,
    start: u64,
    block: u64,
) -> Result<Block<T>, FileError> {
    let mut lines = Vec::new();
    let mut count = 0u64;
    for_each_line(file, start, start + block, |_, line| {
        let index = u32::try_from(count).unwrap_or(u32::MAX);
        count += 1;
        if line.trim_ascii().is_empty() {
            return;
        }
        let parsed = match parse_line::<T>(names, by_name, line) {
            Ok(record) => CsvLine::Record(record),
            Err(e) => CsvLine::Malformed(e.into_reason()),
        };
        lines.push((index, parsed));
    })
    .map_err(|source| FileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Block { lines, count })
}
