//! The rankers: top N words per window, sent on ticks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{Bolt, BoltCollector, ComponentError};

use super::WindowCount;

/// The latest ranking per window end: (word, count), highest count first, ties by word.
pub type Rankings = BTreeMap<u64, Vec<(String, u64)>>;

/// A ranking of one window: (window end, top words).
pub type Ranking = (u64, Vec<(String, u64)>);

/// How often the rankers send what changed (storm-starter: every 2 s; shorter here, so a test
/// sees ticks).
const TICK: Duration = Duration::from_millis(20);

/// Keeps the top `n` of `candidates`: highest count first, ties by word.
fn top(n: usize, candidates: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = candidates.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

/// Ranks the words it owns per window; on each tick sends the rankings that changed.
#[derive(Debug)]
pub struct IntermediateRanker {
    n: usize,
    /// Per window end: the count of each word seen.
    counts: BTreeMap<u64, BTreeMap<String, u64>>,
    changed: BTreeSet<u64>,
}

impl IntermediateRanker {
    /// Keeps the top `n`.
    pub fn new(n: usize) -> Self {
        IntermediateRanker {
            n,
            counts: BTreeMap::new(),
            changed: BTreeSet::new(),
        }
    }

    fn send(&mut self, out: &mut BoltCollector<'_, Ranking>) {
        for end in std::mem::take(&mut self.changed) {
            if let Some(words) = self.counts.get(&end) {
                let ranked = top(self.n, words.iter().map(|(w, &c)| (w.clone(), c)));
                out.emit((end, ranked));
            }
        }
    }
}

impl Bolt for IntermediateRanker {
    type Input = WindowCount;
    type Output = Ranking;

    fn execute(
        &mut self,
        (end, word, n): WindowCount,
        _: &mut BoltCollector<'_, Ranking>,
    ) -> Result<(), ComponentError> {
        self.counts.entry(end).or_default().insert(word, n);
        self.changed.insert(end);
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(TICK)
    }

    fn on_tick(&mut self, out: &mut BoltCollector<'_, Ranking>) -> Result<(), ComponentError> {
        self.send(out);
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, Ranking>) -> Result<(), ComponentError> {
        self.send(out);
        Ok(())
    }
}

/// Merges the intermediate rankings per window; on each tick publishes the totals that
/// changed into the shared [`Rankings`].
#[derive(Debug)]
pub struct TotalRanker {
    n: usize,
    /// Per window end: the latest candidates of each word.
    candidates: BTreeMap<u64, BTreeMap<String, u64>>,
    changed: BTreeSet<u64>,
    published: Arc<Mutex<Rankings>>,
}

impl TotalRanker {
    /// Keeps the top `n`, published into `rankings`.
    pub fn new(n: usize, rankings: Arc<Mutex<Rankings>>) -> Self {
        TotalRanker {
            n,
            candidates: BTreeMap::new(),
            changed: BTreeSet::new(),
            published: rankings,
        }
    }

    fn publish(&mut self) -> Result<(), ComponentError> {
        let mut published = self
            .published
            .lock()
            .map_err(|_| "the rankings' reader panicked")?;
        for end in std::mem::take(&mut self.changed) {
            if let Some(c) = self.candidates.get(&end) {
                published.insert(end, top(self.n, c.iter().map(|(w, &n)| (w.clone(), n))));
            }
        }
        Ok(())
    }
}

impl Bolt for TotalRanker {
    type Input = Ranking;
    type Output = ();

    fn execute(
        &mut self,
        (end, ranked): Ranking,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        // The words of one intermediate ranker are its own: its newer ranking replaces its
        // words' counts, and a word that dropped out of its top N cannot be in the total's.
        let c = self.candidates.entry(end).or_default();
        c.extend(ranked);
        self.changed.insert(end);
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(TICK)
    }

    fn on_tick(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.publish()
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.publish()
    }
}
