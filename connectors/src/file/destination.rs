//! Where a writer bolt writes, and the buffered line sink both writers share.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::FileError;

/// Where a writer bolt writes.
#[derive(Clone, Debug)]
pub enum Destination {
    /// The process's standard output.
    Stdout,
    /// A file, created (or truncated) when the writer's task is prepared.
    File(PathBuf),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Stdout => f.write_str("stdout"),
            Destination::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Output buffer size: large enough that a sink issues few write calls (and few stdout locks).
const BUFFER: usize = 64 * 1024;

/// A destination opened for writing through a buffer. Unopened until `open`, so a configured
/// writer can be cloned into every task before any file exists.
pub(crate) struct Sink {
    dest: Destination,
    // `Sync` too, because a bolt factory (`Fn + Send + Sync`) may hold a writer.
    out: Option<BufWriter<Box<dyn Write + Send + Sync>>>,
}

impl Sink {
    pub(crate) fn new(dest: Destination) -> Self {
        Sink { dest, out: None }
    }

    pub(crate) fn dest(&self) -> &Destination {
        &self.dest
    }

    /// Creates (truncates) the file, or takes stdout.
    pub(crate) fn open(&mut self) -> Result<(), FileError> {
        let out: Box<dyn Write + Send + Sync> = match &self.dest {
            Destination::Stdout => Box::new(io::stdout()),
            Destination::File(path) => {
                Box::new(File::create(path).map_err(|source| FileError::Create {
                    path: path.clone(),
                    source,
                })?)
            }
        };
        self.out = Some(BufWriter::with_capacity(BUFFER, out));
        Ok(())
    }

    /// The buffered writer, opening the destination first if `open` was never called.
    pub(crate) fn writer(
        &mut self,
    ) -> Result<&mut BufWriter<Box<dyn Write + Send + Sync>>, FileError> {
        if self.out.is_none() {
            self.open()?;
        }
        match self.out.as_mut() {
            Some(out) => Ok(out),
            None => Err(FileError::Write {
                dest: self.dest.clone(),
                source: io::Error::other("the output is not open"),
            }),
        }
    }

    /// Wraps an I/O error with the destination's name.
    pub(crate) fn write_error(&self, source: io::Error) -> FileError {
        FileError::Write {
            dest: self.dest.clone(),
            source,
        }
    }

    /// Flushes what is buffered; a sink never opened has nothing to flush.
    pub(crate) fn flush(&mut self) -> Result<(), FileError> {
        match self.out.as_mut() {
            Some(out) => out.flush().map_err(|source| FileError::Write {
                dest: self.dest.clone(),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Flushes at shutdown, where no error can be returned: reported on stderr instead, so a
    /// lost tail of output never goes unnoticed.
    pub(crate) fn flush_at_exit(&mut self) {
        if let Err(e) = self.flush() {
            eprintln!("{e}");
        }
    }
}

impl Clone for Sink {
    /// A clone writes to the same destination but is not open yet.
    fn clone(&self) -> Self {
        Sink::new(self.dest.clone())
    }
}
