//! Where a writer bolt writes, and the buffered line sink both writers share.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::{FileError, StagedFile};

/// Where a writer bolt writes.
#[derive(Clone, Debug)]
pub enum Destination {
    /// The process's standard output.
    Stdout,
    /// A file, written under a temporary name from the writer task's `prepare` and renamed
    /// onto the path in its `finish`, once its input has ended: a run that fails before then
    /// leaves an existing file untouched (see [`StagedFile`]).
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

/// An open destination.
enum Out {
    Stdout(BufWriter<io::Stdout>),
    File(BufWriter<StagedFile>),
}

/// A destination opened for writing through a buffer. Unopened until `open`, so a configured
/// writer can be cloned into every task before any file exists.
pub(crate) struct Sink {
    dest: Destination,
    out: Option<Out>,
}

impl Sink {
    pub(crate) fn new(dest: Destination) -> Self {
        Sink { dest, out: None }
    }

    pub(crate) fn dest(&self) -> &Destination {
        &self.dest
    }

    /// Creates the temporary file, or takes stdout.
    pub(crate) fn open(&mut self) -> Result<(), FileError> {
        self.out = Some(match &self.dest {
            Destination::Stdout => Out::Stdout(BufWriter::with_capacity(BUFFER, io::stdout())),
            Destination::File(path) => {
                Out::File(BufWriter::with_capacity(BUFFER, StagedFile::create(path)?))
            }
        });
        Ok(())
    }

    /// The buffered writer, opening the destination first if `open` was never called.
    pub(crate) fn writer(&mut self) -> Result<&mut dyn Write, FileError> {
        if self.out.is_none() {
            self.open()?;
        }
        match self.out.as_mut() {
            Some(Out::Stdout(out)) => Ok(out),
            Some(Out::File(out)) => Ok(out),
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
        let flushed = match self.out.as_mut() {
            Some(Out::Stdout(out)) => out.flush(),
            Some(Out::File(out)) => out.flush(),
            None => Ok(()),
        };
        flushed.map_err(|e| self.write_error(e))
    }

    /// The input has ended: flushes, and renames a file into place (opening it first if no
    /// tuple came, so an empty result still replaces the old file).
    pub(crate) fn commit(&mut self) -> Result<(), FileError> {
        if self.out.is_none() {
            self.open()?;
        }
        match self.out.take() {
            Some(Out::File(out)) => {
                let staged = out
                    .into_inner()
                    .map_err(|e| self.write_error(e.into_error()))?;
                staged.commit()
            }
            other => {
                self.out = other;
                self.flush()
            }
        }
    }

    /// Flushes stdout at shutdown, where no error can be returned: reported on stderr instead,
    /// so a lost tail of output never goes unnoticed. An uncommitted file is dropped: the run
    /// did not reach the end of the sink's input.
    pub(crate) fn flush_at_exit(&mut self) {
        if let Some(Out::Stdout(_)) = self.out {
            if let Err(e) = self.flush() {
                eprintln!("{e}");
            }
        }
    }
}

impl Clone for Sink {
    /// A clone writes to the same destination but is not open yet.
    fn clone(&self) -> Self {
        Sink::new(self.dest.clone())
    }
}
