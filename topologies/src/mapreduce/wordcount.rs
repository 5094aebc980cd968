//! Word count: the MapReduce classic, with a summing combiner.

use std::path::PathBuf;

use squall::mapreduce::{Job, MapOutput, Mapper, Record, ReduceOutput, Reducer, Settings, Values};
use squall::ComponentError;

use super::{keep_first, SumCombiner};
use crate::words::for_each_word;

/// Emits `(word, 1)` for every word of a line.
#[derive(Debug, Default)]
pub struct WordMapper {
    scratch: String,
}

impl Mapper for WordMapper {
    type Key = String;
    type Value = u64;

    fn map(
        &mut self,
        record: Record<'_>,
        out: &mut MapOutput<'_, String, u64>,
    ) -> Result<(), ComponentError> {
        let mut error = None;
        for_each_word(record.line, &mut self.scratch, |w| {
            keep_first(out, &mut error, |out| out.emit_ref(w, 1));
        });
        error.map_or(Ok(()), |e| Err(e.into()))
    }
}

/// Writes `word<TAB>total`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SumReducer;

impl Reducer for SumReducer {
    type Key = String;
    type Value = u64;

    fn reduce(
        &mut self,
        word: &String,
        counts: Values<'_, String, u64>,
        out: &mut ReduceOutput,
    ) -> Result<(), ComponentError> {
        Ok(out.write(word, counts.sum::<u64>())?)
    }
}

/// The word count job over `inputs` (files or directories) into `output`.
pub fn wordcount(
    inputs: Vec<PathBuf>,
    output: PathBuf,
    settings: Settings,
    combiner: bool,
) -> Job<WordMapper, SumReducer> {
    let job = Job::new("wordcount", WordMapper::default, || SumReducer)
        .input(inputs)
        .output(output)
        .settings(settings);
    if combiner {
        job.combiner(|| SumCombiner)
    } else {
        job
    }
}
