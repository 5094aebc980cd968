//! What can go wrong reading or writing files.

use std::io;
use std::path::PathBuf;

use super::Destination;

/// An error of a file spout or writer; every variant names the file (or stdout).
///
/// Spouts and bolts return it boxed as a [`squall::ComponentError`], so the run fails with this
/// message and the task that raised it. Malformed input lines are not errors: they are reported
/// and skipped (see [`super::Malformed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// An input file could not be opened.
    #[error("cannot open {}: {}", .path.display(), io_reason(.source))]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Reading an input file failed partway.
    #[error("cannot read {}: {}", .path.display(), io_reason(.source))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A CSV file has no usable header row.
    #[error("{}: {reason}", .path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong with the header.
        reason: String,
    },
    /// An output file could not be created.
    #[error("cannot create {}: {}", .path.display(), io_reason(.source))]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Writing to the output failed.
    #[error("cannot write to {dest}: {}", io_reason(.source))]
    Write {
        /// Where the writer writes.
        dest: Destination,
        /// Why.
        source: io::Error,
    },
    /// A tuple could not be written as JSON (a map with non-string keys, a failing `Serialize`).
    #[error("cannot write a tuple as JSON to {dest}: {source}")]
    Json {
        /// Where the writer writes.
        dest: Destination,
        /// Why.
        source: serde_json::Error,
    },
}

/// The operating system's message without the trailing ` (os error N)`, so messages read as
/// `cannot open input.csv: No such file or directory`.
fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_error_names_the_path_without_the_os_code() {
        let source = io::Error::from_raw_os_error(2);
        let e = FileError::Open {
            path: "input.csv".into(),
            source,
        };
        let text = e.to_string();
        assert!(text.starts_with("cannot open input.csv: "), "{text}");
        assert!(!text.contains("os error"), "{text}");
    }
}
