//! storm-starter's word count as a bounded topology:
//!
//! ```text
//! lines --local-or-shuffle--> split (+ combiner) --fields(word)--> count --global--> sink
//! ```
//!
//! `split` pre-aggregates: it counts words locally and emits `(word, n)` pairs when its table
//! grows past a bound or its input ends, so the fields grouping moves partial counts instead of
//! every word (Hadoop's combiner). `count` sums the partial counts and emits its totals in
//! `finish`; `sink` sorts them by word and writes `word\tcount` lines.

mod count;
mod sink;
mod split;

use squall::{Bolt, BuildError, Spout, Topology, TopologyBuilder};
use squall_connectors::file::LinesSpout;
use std::path::PathBuf;

pub use count::CountBolt;
pub use sink::{CountsOutput, SortedCountsSink};
pub use split::{SplitBolt, COMBINE_LIMIT};

/// A word and a count: the tuples between `split`, `count` and `sink`.
pub type WordCount = (String, u64);

/// How to build the word count topology.
#[derive(Debug, Clone)]
pub struct WordCountJob {
    /// The input files, read in order.
    pub inputs: Vec<PathBuf>,
    /// Tasks of `split` and of `count`.
    pub parallelism: usize,
    /// Where the sorted counts go.
    pub output: CountsOutput,
}

impl WordCountJob {
    /// Builds the topology.
    pub fn topology(&self) -> Result<Topology, BuildError> {
        let inputs = self.inputs.clone();
        // One reader per split task, each reading its byte range of every file, and each
        // feeding the split task on its own worker: lines never cross threads.
        self.topology_with(
            move || LinesSpout::new(inputs.clone()),
            self.parallelism,
            SplitBolt::default,
        )
    }

    /// Builds the topology with `lines` making the lines spout's instances (`lines_tasks` of
    /// them; `inputs` is then unused) and `split` the split bolt's: a benchmark paces the lines
    /// and wraps the split bolt to inject a stall.
    pub fn topology_with<L, S>(
        &self,
        lines: impl Fn() -> L + Send + Sync + 'static,
        lines_tasks: usize,
        split: impl Fn() -> S + Send + Sync + 'static,
    ) -> Result<Topology, BuildError>
    where
        L: Spout<Output = String>,
        S: Bolt<Input = String, Output = WordCount>,
    {
        let mut b = TopologyBuilder::new("word-count");
        let lines = b.set_spout("lines", lines_tasks, lines);
        let partial = b
            .set_bolt("split", self.parallelism, split)
            .local_or_shuffle_grouping(&lines)
            .stream();
        let totals = b
            .set_bolt("count", self.parallelism, CountBolt::default)
            .fields_grouping(&partial, |(word, _): &WordCount| word.clone())
            .stream();
        let output = self.output.clone();
        b.set_bolt("sink", 1, move || SortedCountsSink::new(output.clone()))
            .global_grouping(&totals);
        b.build()
    }
}
