//! A sink bolt writing JSON Lines.

use std::marker::PhantomData;

use serde::Serialize;
use squall::{Bolt, BoltCollector, ComponentError, TaskContext, Tuple};

use super::destination::Sink;
use super::{Destination, FileError};

/// A sink bolt writing each tuple as one JSON object per line (`serde_json` then `\n`) through
/// a buffer. Output is flushed in `finish` (end of a bounded run) and in `cleanup`.
///
/// A file destination is written under a temporary name from `prepare` (failing to create it
/// fails the task with an error naming the path) and renamed onto the path in `finish`: a run
/// that fails first leaves an existing file untouched (see [`super::StagedFile`]).
///
/// Intended for parallelism 1: every task writes its own temporary file and renames it onto the
/// path, so with several tasks the last to finish wins. Subscribe it with a global grouping, or
/// give each task its own file. Likewise a restarted task starts the file afresh.
///
/// ```
/// use squall_connectors::file::{Destination, JsonLinesWriter};
///
/// let to_stdout = JsonLinesWriter::<(String, u64)>::new(Destination::Stdout);
/// // Bolt factories are `Fn`: each task gets a clone, unopened until its `prepare`.
/// let factory = move || to_stdout.clone();
/// # drop(factory);
/// ```
pub struct JsonLinesWriter<T> {
    sink: Sink,
    // `fn(T)`: the writer consumes `T`s but holds none, so it is `Send + Sync` for any `T`.
    tuples: PhantomData<fn(T)>,
}

impl<T: Tuple + Serialize> JsonLinesWriter<T> {
    /// A writer to `dest`; nothing is opened until the task's `prepare`.
    pub fn new(dest: Destination) -> Self {
        JsonLinesWriter {
            sink: Sink::new(dest),
            tuples: PhantomData,
        }
    }
}

impl<T> Clone for JsonLinesWriter<T> {
    /// A clone writes to the same destination and is not open yet.
    fn clone(&self) -> Self {
        JsonLinesWriter {
            sink: self.sink.clone(),
            tuples: PhantomData,
        }
    }
}

impl<T: Tuple + Serialize> Bolt for JsonLinesWriter<T> {
    type Input = T;
    type Output = ();

    fn prepare(&mut self, _: &TaskContext) -> Result<(), ComponentError> {
        Ok(self.sink.open()?)
    }

    fn execute(&mut self, input: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let out = self.sink.writer()?;
        let written = serde_json::to_writer(&mut *out, &input);
        let written = match written {
            Ok(()) => out.write_all(b"\n").map_err(|e| self.sink.write_error(e)),
            Err(e) if e.is_io() => Err(self.sink.write_error(e.into())),
            Err(source) => Err(FileError::Json {
                dest: self.sink.dest().clone(),
                source,
            }),
        };
        Ok(written?)
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(self.sink.commit()?)
    }

    fn cleanup(&mut self) {
        self.sink.flush_at_exit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::testing::{numbered, run};
    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Count {
        word: String,
        count: u64,
    }

    #[test]
    fn writes_one_object_per_line_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let writer = JsonLinesWriter::<Count>::new(Destination::File(path.clone()));
        let words = ["a", "b\"q", "ü"];
        let spout = numbered(words.len() as u64, move |i| Count {
            word: words[i as usize].to_string(),
            count: i,
        });
        run(spout, 1, move || writer.clone()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"word\":\"a\",\"count\":0}\n{\"word\":\"b\\\"q\",\"count\":1}\n{\"word\":\"ü\",\"count\":2}\n"
        );
    }

    #[test]
    fn a_file_that_cannot_be_created_fails_prepare_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("out.jsonl");
        let mut writer = JsonLinesWriter::<u64>::new(Destination::File(path));
        let e = writer
            .prepare(&TaskContext::new("t", "out", 0, 1))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cannot create "), "{e}");
        assert!(e.contains("missing-dir"), "{e}");
    }

    #[test]
    fn a_task_that_never_finishes_leaves_the_old_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "precious\n").unwrap();
        let mut writer = JsonLinesWriter::<u64>::new(Destination::File(path.clone()));
        writer.prepare(&TaskContext::new("t", "out", 0, 1)).unwrap();
        writer.sink.writer().unwrap().write_all(b"1\n").unwrap();
        writer.cleanup();
        drop(writer);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "old content that is longer\n").unwrap();
        let writer = JsonLinesWriter::<u64>::new(Destination::File(path.clone()));
        run(numbered(2, |i| i * 10), 1, move || writer.clone()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "0\n10\n");
    }
}
