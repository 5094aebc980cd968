//! A sink bolt writing tab-separated lines.

use std::sync::Arc;

use squall::{Bolt, BoltCollector, ComponentError, TaskContext, Tuple};

use super::destination::Sink;
use super::Destination;

/// Turns a tuple into the fields of its line.
type Fields<T> = Arc<dyn Fn(&T, &mut Vec<String>) + Send + Sync>;

/// A sink bolt writing each tuple as one tab-separated line; a closure pushes the tuple's
/// fields onto a (cleared) `Vec<String>`. Output is buffered and flushed in `finish` (end of a
/// bounded run) and in `cleanup`.
///
/// A field holding a tab, a line break or a backslash is escaped as `\t`, `\n`, `\r` or `\\`
/// (the "linear TSV" convention), so every tuple stays one line and the fields can be split
/// back; fields without them are written as they are.
///
/// A file destination is written under a temporary name from `prepare` (failing to create it
/// fails the task with an error naming the path) and renamed onto the path in `finish`, so a
/// run that fails first leaves an existing file untouched. Intended for parallelism 1 (see
/// [`super::JsonLinesWriter`]).
///
/// ```
/// use squall_connectors::file::{Destination, TsvWriter};
///
/// let counts = TsvWriter::new(Destination::Stdout, |(word, n): &(String, u64), fields| {
///     fields.push(word.clone());
///     fields.push(n.to_string());
/// });
/// // Bolt factories are `Fn`: each task gets a clone, unopened until its `prepare`.
/// let factory = move || counts.clone();
/// # drop(factory);
/// ```
pub struct TsvWriter<T> {
    sink: Sink,
    // Shared, so the writer can be cloned into every task.
    fields: Fields<T>,
    /// Reused for every tuple.
    scratch: Vec<String>,
    line: String,
}

impl<T: Tuple> TsvWriter<T> {
    /// A writer to `dest` whose lines hold the fields `fields` pushes; nothing is opened until
    /// the task's `prepare`.
    pub fn new(
        dest: Destination,
        fields: impl Fn(&T, &mut Vec<String>) + Send + Sync + 'static,
    ) -> Self {
        TsvWriter {
            sink: Sink::new(dest),
            fields: Arc::new(fields),
            scratch: Vec::new(),
            line: String::new(),
        }
    }
}

impl<T> Clone for TsvWriter<T> {
    /// A clone writes to the same destination with the same fields and is not open yet.
    fn clone(&self) -> Self {
        TsvWriter {
            sink: self.sink.clone(),
            fields: Arc::clone(&self.fields),
            scratch: Vec::new(),
            line: String::new(),
        }
    }
}

impl<T: Tuple> Bolt for TsvWriter<T> {
    type Input = T;
    type Output = ();

    fn prepare(&mut self, _: &TaskContext) -> Result<(), ComponentError> {
        Ok(self.sink.open()?)
    }

    fn execute(&mut self, input: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.scratch.clear();
        (self.fields)(&input, &mut self.scratch);
        self.line.clear();
        for (i, field) in self.scratch.iter().enumerate() {
            if i > 0 {
                self.line.push('\t');
            }
            push_escaped(&mut self.line, field);
        }
        self.line.push('\n');
        let out = self.sink.writer()?;
        let written = out.write_all(self.line.as_bytes());
        Ok(written.map_err(|e| self.sink.write_error(e))?)
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(self.sink.commit()?)
    }

    fn cleanup(&mut self) {
        self.sink.flush_at_exit();
    }
}

/// Appends `field`, escaping what would break the line or the columns.
fn push_escaped(line: &mut String, field: &str) {
    if !field.contains(['\t', '\n', '\r', '\\']) {
        line.push_str(field);
        return;
    }
    for c in field.chars() {
        match c {
            '\t' => line.push_str("\\t"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\\' => line.push_str("\\\\"),
            c => line.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::testing::{numbered, run};

    #[test]
    fn escapes_only_what_would_break_the_line() {
        let mut line = String::new();
        push_escaped(&mut line, "plain word ü");
        line.push('|');
        push_escaped(&mut line, "a\tb\nc\rd\\e");
        assert_eq!(line, "plain word ü|a\\tb\\nc\\rd\\\\e");
    }

    #[test]
    fn writes_the_fields_of_each_tuple_as_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("counts.tsv");
        let writer = TsvWriter::new(
            Destination::File(path.clone()),
            |(word, n): &(String, u64), f: &mut Vec<String>| {
                f.push(word.clone());
                f.push(n.to_string());
            },
        );
        let words = ["apple", "tab\there", "zebra"];
        let spout = numbered(3, move |i| (words[i as usize].to_string(), i + 1));
        run(spout, 1, move || writer.clone()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "apple\t1\ntab\\there\t2\nzebra\t3\n");
    }

    #[test]
    fn no_fields_writes_an_empty_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.tsv");
        let writer = TsvWriter::new(
            Destination::File(path.clone()),
            |_: &u64, _: &mut Vec<String>| {},
        );
        run(numbered(2, |i| i), 1, move || writer.clone()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "\n\n");
    }
}
