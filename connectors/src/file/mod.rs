//! Files: bounded spouts over CSV, JSON Lines and plain text files, and sink bolts writing
//! JSON Lines or TSV to a file or stdout.
//!
//! # Layout
//!
//! - [`CsvSpout`] and [`JsonLinesSpout`]: records deserialized into a typed tuple with serde,
//!   one line each ([`CsvReader`] reads the CSV lines). A malformed line is reported on stderr
//!   (`{path}: line {n}: {reason}; line skipped`), counted in a shared [`Malformed`] counter,
//!   and skipped; the run goes on.
//! - [`LinesSpout`]: the lines of several files as `String`s, spread over its tasks.
//! - [`JsonLinesWriter`] and [`TsvWriter`]: sinks writing to a [`Destination`]; a file is
//!   written as a [`StagedFile`] and appears, whole, when the sink's input has ended.
//! - [`distinct_keys`]: how many distinct keys a CSV file's records hold, scanned on all cores.
//! - [`FileError`]: what fails a task (a missing file, a CSV without the expected header, an
//!   unwritable output), always naming the file.
//!
//! Every spout and writer is `Clone`, and a clone is unopened, so a configured one goes into a
//! factory as `move || spout.clone()`. Files are opened in the task's `open` or `prepare`.

mod ascending;
mod csv_de;
mod csv_field;
mod csv_reader;
mod csv_spout;
mod destination;
mod distinct;
mod error;
mod json_field;
mod json_lines_spout;
mod json_lines_writer;
mod lines_spout;
mod read_ahead;
mod records;
mod split;
mod staged;
#[cfg(test)]
pub(crate) mod testing;
mod tsv_writer;

pub use crate::malformed::Malformed;
pub use csv_reader::{CsvLine, CsvReader};
pub use csv_spout::CsvSpout;
pub use destination::Destination;
pub use distinct::distinct_keys;
pub use error::FileError;
pub use json_lines_spout::JsonLinesSpout;
pub use json_lines_writer::JsonLinesWriter;
pub use lines_spout::LinesSpout;
pub use staged::StagedFile;
pub use tsv_writer::TsvWriter;

/// The input path that means standard input (for [`CsvSpout`] and [`JsonLinesSpout`]).
pub const STDIN: &str = "-";

/// Opens `path` for reading; [`STDIN`] is standard input.
fn open_input(path: &std::path::Path) -> std::io::Result<Box<dyn std::io::Read + Send + Sync>> {
    if path == std::path::Path::new(STDIN) {
        Ok(Box::new(std::io::stdin()))
    } else {
        Ok(Box::new(std::fs::File::open(path)?))
    }
}

/// Lines a spout reads per `next_tuple` call unless told otherwise: enough to fill batches
/// quickly, few enough that one call stays short.
const DEFAULT_BATCH: usize = 256;
