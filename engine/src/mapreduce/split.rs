//! The text input format: input paths expanded to files, files cut into byte-range splits, and
//! the reader of one split's lines (Hadoop's `TextInputFormat` and `LineRecordReader`).
//!
//! A split owns the lines that *start* in its byte range: a reader whose split starts past byte
//! 0 skips the line that began in the previous split, and reads on past its end to finish its
//! last line. So every line is read by exactly one split, wherever the cuts fall.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::JobError;

/// A byte range of one input file, the input of one map task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSplit {
    /// The file.
    pub path: PathBuf,
    /// First byte of the range.
    pub start: u64,
    /// One past the last byte of the range.
    pub end: u64,
}

/// Every regular file named by `paths`, a directory standing for every regular file below it;
/// sorted within each directory, so runs are repeatable. Each file is opened once, so an
/// unreadable one is reported before the job starts.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, JobError> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| JobError::io("read input", p, e))?;
        if meta.is_dir() {
            walk(p, &mut files)?;
        } else {
            files.push(p.clone());
        }
    }
    for f in &files {
        File::open(f).map_err(|e| JobError::io("open", f, e))?;
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), JobError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| JobError::io("read directory", dir, e))? {
        entries.push(
            entry
                .map_err(|e| JobError::io("read directory", dir, e))?
                .path(),
        );
    }
    entries.sort();
    for path in entries {
        let meta = std::fs::metadata(&path).map_err(|e| JobError::io("read input", &path, e))?;
        if meta.is_dir() {
            walk(&path, files)?;
        } else if meta.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Cuts `files` into splits: about `mappers` times a whole number of splits of equal size,
/// none larger than `max_split`; a file smaller than the split size is one split; empty files
/// get none.
pub fn plan_splits(
    files: &[PathBuf],
    mappers: usize,
    max_split: u64,
) -> Result<Vec<InputSplit>, JobError> {
    let mut sizes = Vec::with_capacity(files.len());
    for f in files {
        let meta = std::fs::metadata(f).map_err(|e| JobError::io("read input", f, e))?;
        sizes.push(meta.len());
    }
    let total: u64 = sizes.iter().sum();
    let mappers = mappers.max(1) as u64;
    let waves = total.div_ceil(mappers * max_split.max(1)).max(1);
    let target = total.div_ceil(mappers * waves).max(1);
    let mut splits = Vec::new();
    for (path, &len) in files.iter().zip(&sizes) {
        let pieces = len.div_ceil(target);
        for i in 0..pieces {
            splits.push(InputSplit {
                path: path.clone(),
                start: len * i / pieces,
                end: len * (i + 1) / pieces,
            });
        }
    }
    Ok(splits)
}

/// Bytes read from the file at a time.
const BLOCK: u64 = 1 << 20;

/// Reads the lines of one split. The file is read in blocks of [`BLOCK`] bytes cut after their
/// last newline, and each block is checked as UTF-8 once, so a line costs a `memchr` and no
/// copy (a line-at-a-time reader spent a tenth of a word count validating and copying).
pub(crate) struct SplitReader {
    path: PathBuf,
    file: File,
    eof: bool,
    /// Complete lines, valid UTF-8.
    block: String,
    /// Index in `block` of the next line.
    pos: usize,
    /// File offset of `block[0]`.
    block_offset: u64,
    /// Bytes read after the block's last newline: the start of a line not yet complete.
    tail: Vec<u8>,
    end: u64,
    /// A line that is not UTF-8, reported once the lines before it are read.
    invalid: Option<JobError>,
}

impl SplitReader {
    pub(crate) fn open(split: &InputSplit) -> Result<Self, JobError> {
        let path = &split.path;
        let mut file = File::open(path).map_err(|e| JobError::io("open", path, e))?;
        let mut reader = SplitReader {
            path: path.clone(),
            file: File::open(path).map_err(|e| JobError::io("open", path, e))?,
            eof: false,
            block: String::new(),
            pos: 0,
            block_offset: 0,
            tail: Vec::new(),
            end: split.end,
            invalid: None,
        };
        if split.start > 0 {
            // Skip the line that began in the previous split (or just the newline before a
            // line that begins exactly at `start`), as raw bytes: the cut may fall inside a
            // character.
            file.seek(SeekFrom::Start(split.start - 1))
                .map_err(|e| JobError::io("read", path, e))?;
            let mut offset = split.start - 1;
            loop {
                let mut chunk = Vec::new();
                let n = (&mut file)
                    .take(64 * 1024)
                    .read_to_end(&mut chunk)
                    .map_err(|e| JobError::io("read", path, e))?;
                if n == 0 {
                    reader.eof = true;
                    break;
                }
                if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                    reader.tail = chunk.split_off(i + 1);
                    offset += (i + 1) as u64;
                    break;
                }
                offset += n as u64;
            }
            reader.block_offset = offset;
        }
        reader.file = file;
        Ok(reader)
    }

    /// The offset of the next line to read.
    pub(crate) fn position(&self) -> u64 {
        self.block_offset + self.pos as u64
    }

    /// Replaces the consumed block with the next one; false at the end of the file.
    fn refill(&mut self) -> Result<bool, JobError> {
        if let Some(e) = self.invalid.take() {
            return Err(e);
        }
        let mut bytes = std::mem::take(&mut self.tail);
        self.block_offset += self.block.len() as u64;
        while !self.eof {
            let before = bytes.len();
            let n = (&mut self.file)
                .take(BLOCK)
                .read_to_end(&mut bytes)
                .map_err(|e| JobError::io("read", &self.path, e))?;
            if n == 0 {
                self.eof = true;
            } else if bytes[before..].contains(&b'\n') {
                break;
            }
        }
        let cut = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) if !self.eof => i + 1,
            _ => bytes.len(),
        };
        self.tail = bytes.split_off(cut);
        self.pos = 0;
        self.block = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let bad = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                let line = bytes[..bad]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let offset = self.block_offset + line as u64;
                if offset < self.end {
                    // Read the lines before it first, as a line-at-a-time reader would.
                    self.invalid = Some(JobError::InvalidUtf8 {
                        path: self.path.clone(),
                        offset,
                    });
                }
                // Otherwise the bad line belongs to the next split, which reports it.
                bytes.truncate(line);
                self.tail.clear();
                self.eof = true;
                String::from_utf8(bytes).map_err(|_| JobError::InvalidUtf8 {
                    path: self.path.clone(),
                    offset,
                })?
            }
        };
        if self.block.is_empty() {
            if let Some(e) = self.invalid.take() {
                return Err(e);
            }
        }
        Ok(!self.block.is_empty())
    }

    /// The next line of the split and its starting offset, without `\n` or `\r\n`.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &str)>, JobError> {
        if self.pos >= self.block.len() && !self.refill()? {
            return Ok(None);
        }
        let start = self.position();
        if start >= self.end {
            return Ok(None);
        }
        let rest = &self.block[self.pos..];
        let (len, consumed) = match rest.find('\n') {
            Some(i) if rest[..i].ends_with('\r') => (i - 1, i + 1),
            Some(i) => (i, i + 1),
            None => (rest.len(), rest.len()),
        };
        let from = self.pos;
        self.pos += consumed;
        Ok(Some((start, &self.block[from..from + len])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(splits: &[InputSplit]) -> Vec<String> {
        let mut out = Vec::new();
        for s in splits {
            let mut r = SplitReader::open(s).unwrap();
            while let Some((_, line)) = r.next_line().unwrap() {
                out.push(line.to_string());
            }
        }
        out
    }

    #[test]
    fn every_line_is_read_once_wherever_the_cuts_fall() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let lines: Vec<String> = (0..300)
            .map(|i| "yé日".repeat(i % 9) + &i.to_string())
            .collect();
        std::fs::write(&path, lines.join("\r\n")).unwrap();
        let files = vec![path];
        for (mappers, max) in [(1, 1 << 20), (2, 1 << 20), (3, 100), (7, 1), (4, 37)] {
            let splits = plan_splits(&files, mappers, max).unwrap();
            assert!(splits.len() >= mappers.min(lines.len()));
            assert_eq!(read_all(&splits), lines, "{mappers} mappers, max {max}");
        }
    }

    #[test]
    fn invalid_utf8_names_the_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        std::fs::write(&path, b"ok\nbad \xff\n").unwrap();
        let splits = plan_splits(std::slice::from_ref(&path), 1, 1 << 20).unwrap();
        let mut r = SplitReader::open(&splits[0]).unwrap();
        assert_eq!(r.next_line().unwrap(), Some((0, "ok")));
        let e = r.next_line().unwrap_err().to_string();
        // Cut so that the bad line is the first of the second split.
        let second = InputSplit {
            path: path.clone(),
            start: 2,
            end: 8,
        };
        let mut r = SplitReader::open(&second).unwrap();
        assert_eq!(r.next_line().unwrap_err().to_string(), e);
        assert_eq!(
            e,
            format!(
                "{}: invalid UTF-8 in the line starting at byte offset 3",
                path.display()
            )
        );
    }

    #[test]
    fn directories_expand_to_their_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.txt"), "b").unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), "a").unwrap();
        let files = expand_inputs(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            files,
            [dir.path().join("b.txt"), dir.path().join("sub/a.txt")]
        );
        assert!(expand_inputs(&[dir.path().join("missing")]).is_err());
    }
}
