//! storm-starter's RollingTopWords: the words trending in a sliding window.
//!
//! ```text
//! words (event time) --fields(word)--> counter (sliding windows)
//!     --fields(word)--> intermediate ranker (top N per window, emitted on ticks)
//!     --global--> total ranker (top N per window, emitted on ticks)
//! ```
//!
//! As in storm-starter, the counter keeps rolling counts (here a [`Windowed`] bolt over
//! sliding event-time windows instead of hand-rolled slots), each intermediate ranker ranks the
//! words it owns, and the total ranker merges the intermediate rankings; both rankers send
//! what changed on their ticks (Storm's tick tuples), and everything left when the input ends.

mod rank;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::component::VecSpout;
use squall::window::{Watermarks, WindowRange, WindowSpec, Windowed, WindowedBolt};
use squall::{BoltCollector, BuildError, ComponentError, Topology, TopologyBuilder};

pub use rank::{IntermediateRanker, Rankings, TotalRanker};

/// A word with its event time in milliseconds.
pub type TimedWord = (u64, String);

/// A word's count in the window ending at `.0`.
pub type WindowCount = (u64, String, u64);

/// Counts each word per sliding window; fires (window end, word, count).
#[derive(Debug, Default, Clone, Copy)]
pub struct RollingCount;

impl WindowedBolt for RollingCount {
    type Input = TimedWord;
    type Output = WindowCount;
    type Acc = std::collections::BTreeMap<String, u64>;

    fn add(&mut self, acc: &mut Self::Acc, (_, word): &TimedWord) {
        *acc.entry(word.clone()).or_default() += 1;
    }

    fn fire(
        &mut self,
        w: WindowRange,
        acc: &Self::Acc,
        _: bool,
        out: &mut BoltCollector<'_, WindowCount>,
    ) -> Result<(), ComponentError> {
        acc.iter()
            .for_each(|(word, &n)| out.emit((w.end, word.clone(), n)));
        Ok(())
    }

    fn late(
        &mut self,
        _: TimedWord,
        _: &mut BoltCollector<'_, WindowCount>,
    ) -> Result<(), ComponentError> {
        // Words older than every open window do not trend any more, as in storm-starter,
        // whose slots drop them too; the watermark lag bounds how old that is.
        Ok(())
    }
}

/// How to build the topology.
#[derive(Debug, Clone)]
pub struct RollingTopWords {
    /// The words, with their event times.
    pub words: Vec<TimedWord>,
    /// Window length and emit frequency (storm-starter: 9 s and 3 s).
    pub window: Duration,
    /// How often windows slide.
    pub slide: Duration,
    /// Words per ranking (storm-starter: 5).
    pub top_n: usize,
    /// Tasks of the counter and of the intermediate ranker.
    pub parallelism: usize,
    /// Where the total rankings go: the latest per window end.
    pub rankings: Arc<Mutex<Rankings>>,
}

impl RollingTopWords {
    /// Builds the topology.
    pub fn topology(&self) -> Result<Topology, BuildError> {
        let mut b = TopologyBuilder::new("rolling-top-words");
        let words = self.words.clone();
        let spout = b.set_spout("words", 1, move || VecSpout::new(words.clone()));
        b.set_watermarks(&spout, Watermarks::bounded(1000, |w: &TimedWord| w.0));
        let spec = WindowSpec::sliding(self.window, self.slide).event_time(|w: &TimedWord| w.0);
        let counts = b
            .set_bolt("counter", self.parallelism, move || {
                Windowed::new(RollingCount, spec.clone())
            })
            .fields_grouping(&spout, |w: &TimedWord| w.1.clone())
            .stream();
        let n = self.top_n;
        let partial = b
            .set_bolt("intermediate-ranker", self.parallelism, move || {
                IntermediateRanker::new(n)
            })
            .fields_grouping(&counts, |c: &WindowCount| c.1.clone())
            .stream();
        let rankings = self.rankings.clone();
        b.set_bolt("total-ranker", 1, move || {
            TotalRanker::new(n, rankings.clone())
        })
        .global_grouping(&partial);
        b.build()
    }
}

#[cfg(test)]
mod tests;
