//! Inverted index: for every word, the documents it appears in.

use std::path::{Path, PathBuf};

use squall::mapreduce::Combiner;
use squall::mapreduce::{Job, MapOutput, Mapper, Record, ReduceOutput, Reducer, Settings, Values};
use squall::ComponentError;

use super::keep_first;
use crate::words::for_each_word;

/// Emits `(word, document)` for every word of a line; the document is the file's path relative
/// to the input root (its file name when the input is a single file).
#[derive(Debug)]
pub struct PostingMapper {
    root: PathBuf,
    scratch: String,
    /// The last file seen and its document name, so a name is built once per file.
    current: Option<(PathBuf, String)>,
}

impl PostingMapper {
    /// A mapper naming documents relative to `root`.
    pub fn new(root: PathBuf) -> Self {
        PostingMapper {
            root,
            scratch: String::new(),
            current: None,
        }
    }

    fn document(&mut self, path: &Path) -> String {
        match &self.current {
            Some((p, doc)) if p == path => doc.clone(),
            _ => {
                let relative = match path.strip_prefix(&self.root) {
                    Ok(r) if !r.as_os_str().is_empty() => r,
                    _ => Path::new(path.file_name().unwrap_or(path.as_os_str())),
                };
                let doc = relative.to_string_lossy().into_owned();
                self.current = Some((path.to_path_buf(), doc.clone()));
                doc
            }
        }
    }
}

impl Mapper for PostingMapper {
    type Key = String;
    type Value = String;

    fn map(
        &mut self,
        record: Record<'_>,
        out: &mut MapOutput<'_, String, String>,
    ) -> Result<(), ComponentError> {
        let doc = self.document(record.path);
        let mut error = None;
        for_each_word(record.line, &mut self.scratch, |w| {
            keep_first(out, &mut error, |out| out.emit_ref(w, doc.clone()));
        });
        error.map_or(Ok(()), |e| Err(e.into()))
    }
}

/// Keeps each document once.
#[derive(Debug, Default, Clone, Copy)]
pub struct UniqueDocs;

impl Combiner<String, String> for UniqueDocs {
    fn combine(&mut self, _: &String, docs: &mut Vec<String>) -> Result<(), ComponentError> {
        docs.sort_unstable();
        docs.dedup();
        Ok(())
    }
}

/// Writes `word<TAB>doc1,doc2,...`, documents unique and sorted.
#[derive(Debug, Default, Clone, Copy)]
pub struct PostingsReducer;

impl Reducer for PostingsReducer {
    type Key = String;
    type Value = String;

    fn reduce(
        &mut self,
        word: &String,
        docs: Values<'_, String, String>,
        out: &mut ReduceOutput,
    ) -> Result<(), ComponentError> {
        let docs: std::collections::BTreeSet<String> = docs.collect();
        let list: Vec<&str> = docs.iter().map(String::as_str).collect();
        Ok(out.write(word, list.join(","))?)
    }
}

/// The inverted index job over the files below `root` into `output`.
pub fn inverted_index(
    root: PathBuf,
    output: PathBuf,
    settings: Settings,
    combiner: bool,
) -> Job<PostingMapper, PostingsReducer> {
    let mapper_root = root.clone();
    let job = Job::new(
        "inverted-index",
        move || PostingMapper::new(mapper_root.clone()),
        || PostingsReducer,
    )
    .input([root])
    .output(output)
    .settings(settings);
    if combiner {
        job.combiner(|| UniqueDocs)
    } else {
        job
    }
}
