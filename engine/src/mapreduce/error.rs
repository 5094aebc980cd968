//! Why a job did not complete.

use std::io;
use std::path::{Path, PathBuf};

use crate::RunError;

/// A job's failure, each variant one sentence naming what was wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The output directory exists; nothing in it was touched (Hadoop's
    /// `FileAlreadyExistsException`).
    #[error("output directory {} already exists", .0.display())]
    OutputExists(PathBuf),
    /// The job names no input file.
    #[error("no input files: every input path is an empty directory")]
    NoInput,
    /// A file or directory could not be read or written.
    #[error("cannot {op} {}: {reason}", .path.display())]
    Io {
        /// What was being done (`open`, `read`, `create`, `rename`...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// An input file holds bytes that are not UTF-8 text. Not retried: every attempt would
    /// fail the same way.
    #[error("{}: invalid UTF-8 in the line starting at byte offset {offset}", .path.display())]
    InvalidUtf8 {
        /// The input file.
        path: PathBuf,
        /// Byte offset of the start of the offending line.
        offset: u64,
    },
    /// A task failed on every attempt it was allowed.
    #[error("{task} failed {attempts} times; last failure: {last}")]
    TaskFailed {
        /// The task (`map task 3`, `reduce task 0`).
        task: String,
        /// Failed attempts.
        attempts: u32,
        /// The last attempt's panic message or error.
        last: String,
    },
    /// A spilled run could not be encoded or decoded.
    #[error("spilled run {0}")]
    Spill(String),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Settings(String),
    /// A stop signal ended the job before it committed; the output directory it created was
    /// removed (see [`crate::runtime::catch_stop_signals`]).
    #[error("interrupted by {0}; the partial output was removed")]
    Interrupted(crate::StopSignal),
    /// The topology running the job failed for a reason of the runtime's own.
    #[error(transparent)]
    Run(#[from] RunError),
}

impl JobError {
    /// An I/O failure on `path`, with the OS message minus its ` (os error N)` tail.
    pub(crate) fn io(op: &'static str, path: &Path, e: io::Error) -> Self {
        let text = e.to_string();
        let reason = match (e.raw_os_error(), text.rfind(" (os error ")) {
            (Some(_), Some(at)) => text[..at].to_string(),
            _ => text,
        };
        JobError::Io {
            op,
            path: path.to_path_buf(),
            reason,
        }
    }

    /// True for failures of the input itself, which a retry cannot cure.
    pub(crate) fn is_fatal_input(&self) -> bool {
        matches!(self, JobError::InvalidUtf8 { .. })
    }
}
