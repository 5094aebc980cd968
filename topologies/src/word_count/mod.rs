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
use squall_connectors::file::{LinesSpout, Malformed};
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
        self.topology_counting(Malformed::new())
    }

    /// Builds the topology with `malformed` counting the input lines skipped as not UTF-8.
    pub fn topology_counting(&self, malformed: Malformed) -> Result<Topology, BuildError> {
        let inputs = self.inputs.clone();
        // One reader per split task, each reading its byte range of every file, and each
        // feeding the split task on its own worker: lines never cross threads.
        self.topology_with(
            move || LinesSpout::new(inputs.clone()).with_malformed(malformed.clone()),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use squall::{Bolt, Config, Guarantee, LocalCluster};

    use super::*;
    use crate::testing::Rewind;

    fn text() -> String {
        let words = [
            "storm",
            "Squall",
            "bolt",
            "spout",
            "tuple",
            "ack",
            "Ünïcode",
            "x2",
        ];
        (0..300)
            .map(|i: usize| {
                // About 50 distinct words, so every stage receives more inputs than `at`.
                let mut line: Vec<String> = (0..i % 7)
                    .map(|j| words[(i * 3 + j * 5) % words.len()].to_string())
                    .collect();
                line.push(format!("n{}", i % 40));
                line.join(" ,")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn oracle(text: &str) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for w in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *counts.entry(w.to_lowercase()).or_insert(0) += 1;
        }
        counts
    }

    fn rewind<B: Bolt>(
        make: impl Fn() -> B + Send + Sync + 'static,
        at: usize,
        restore: bool,
    ) -> impl Fn() -> Rewind<B> + Send + Sync + 'static {
        let make: Arc<dyn Fn() -> B + Send + Sync> = Arc::new(make);
        move || Rewind::new(Arc::clone(&make), at, at + 13, restore)
    }

    /// Word count with every bolt crashing once, after `at` inputs, and recovering (with its
    /// snapshot when `restore`).
    fn run(text: &str, guarantee: Guarantee, at: usize, restore: bool) -> BTreeMap<String, u64> {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        std::fs::write(&input, text).unwrap();
        let collected = Arc::new(Mutex::new(Vec::new()));
        let output = CountsOutput::Collect(collected.clone());
        let mut b = TopologyBuilder::new("word-count-rewind");
        let lines = b.set_spout("lines", 1, move || LinesSpout::new(vec![input.clone()]));
        let partial = b
            .set_bolt("split", 2, rewind(SplitBolt::default, at, restore))
            .shuffle_grouping(&lines)
            .stream();
        let totals = b
            .set_bolt("count", 2, rewind(CountBolt::default, at, restore))
            .fields_grouping(&partial, |(w, _): &WordCount| w.clone())
            .stream();
        let sink = move || SortedCountsSink::new(output.clone());
        b.set_bolt("sink", 1, rewind(sink, at, restore))
            .global_grouping(&totals);
        let mut config = Config::default();
        config.workers = 2;
        config.guarantee = guarantee;
        LocalCluster::new(config).run(b.build().unwrap()).unwrap();
        let counts = collected.lock().unwrap().iter().cloned().collect();
        counts
    }

    #[test]
    fn restored_state_gives_the_uninterrupted_counts() {
        let text = text();
        let expected = oracle(&text);
        for at in [0, 5, 20] {
            assert_eq!(
                run(&text, Guarantee::ExactlyOnce, at, true),
                expected,
                "at {at}"
            );
            assert_eq!(
                run(&text, Guarantee::AtMostOnce, at, true),
                expected,
                "at {at}"
            );
        }
    }

    #[test]
    fn a_fresh_instance_without_state_never_counts_more() {
        let text = text();
        let expected = oracle(&text);
        let got = run(&text, Guarantee::AtMostOnce, 40, false);
        assert!(got.iter().all(|(w, n)| *n <= expected[w]));
        assert!(got.values().sum::<u64>() < expected.values().sum::<u64>());
    }
}
