//! Recent history that lets the sensor bolts take replays out of order (at-least-once).
//!
//! After a task is restored to a checkpoint, tuples already queued for it arrive before the
//! replays of the ones it lost, so a sensor's readings (and the leak detector's statuses) can
//! come out of order. Dropping everything at or below the latest seq would then drop the
//! replays. Instead each bolt keeps the last [`REORDER_WINDOW`] entries, places a late one
//! where it belongs, recomputes the runs over the window, and emits what the corrected history
//! implies and was not emitted yet. An entry already in the window is a duplicate; one older
//! than the whole window is taken for one (the bound on how late a replay may come).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Entries kept per sensor (alarm) or closed seqs kept (leak).
pub(crate) const REORDER_WINDOW: usize = 2048;

/// Recent entries by seq with the run they form: a reading's `in_alarm` (alarm) or a closed
/// seq's count of sensors in alarm (leak), and whether each step extends the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct RunWindow<V> {
    /// The run just before the first entry kept.
    base: u32,
    /// Entries were dropped from the front: a seq below the first is too late to place.
    evicted: bool,
    entries: BTreeMap<u64, V>,
    /// The run at the newest entry.
    end: u32,
    /// Seqs kept where the run reached its target, with the entry they fired with, so each
    /// fires once (again only if a late entry changed it: a leak's count of sensors).
    fired: BTreeMap<u64, V>,
}

impl<V: Copy + PartialEq> RunWindow<V> {
    /// True if `seq` is here already, or older than everything kept after an eviction.
    pub(crate) fn is_known(&self, seq: u64) -> bool {
        self.entries.contains_key(&seq)
            || (self.evicted && self.entries.keys().next().is_some_and(|&f| seq < f))
    }

    /// True if `seq` fired (and is still kept).
    pub(crate) fn fired(&self, seq: u64) -> bool {
        self.fired.contains_key(&seq)
    }

    /// The entry at `seq`, if kept.
    pub(crate) fn get(&self, seq: u64) -> Option<V> {
        self.entries.get(&seq).copied()
    }

    /// Puts `value` at `seq` (not [`RunWindow::is_known`]); `extends` says whether an entry
    /// extends the run or resets it. Returns the seqs where the run now first reaches `target`
    /// and had not fired before: the newest entry's alone when it is the newest, every such
    /// seq of the window when it came late.
    pub(crate) fn put(
        &mut self,
        seq: u64,
        value: V,
        target: u32,
        extends: impl Fn(V) -> bool,
    ) -> Vec<u64> {
        let newest = self.entries.keys().next_back().is_none_or(|&l| seq > l);
        self.entries.insert(seq, value);
        let mut fired = Vec::new();
        if newest {
            self.end = if extends(value) {
                self.end.saturating_add(1)
            } else {
                0
            };
            if self.end == target && self.fired.insert(seq, value) != Some(value) {
                fired.push(seq);
            }
        } else {
            // Only the runs from `seq` up to the next entry that resets the run change.
            let mut run = self.run_before(seq, &extends);
            let mut reached_end = true;
            for (&q, &v) in self.entries.range(seq..) {
                if q > seq && !extends(v) {
                    reached_end = false;
                    break;
                }
                run = if extends(v) { run.saturating_add(1) } else { 0 };
                if run == target && self.fired.insert(q, v) != Some(v) {
                    fired.push(q);
                }
            }
            if reached_end {
                self.end = run;
            }
        }
        while self.entries.len() > REORDER_WINDOW {
            if let Some((q, v)) = self.entries.pop_first() {
                self.base = if extends(v) {
                    self.base.saturating_add(1)
                } else {
                    0
                };
                self.fired.remove(&q);
                self.evicted = true;
            }
        }
        fired
    }

    /// Keeps `seq` with no run to follow: the window as a set of recent seqs.
    pub(crate) fn remember(&mut self, seq: u64)
    where
        V: Default,
    {
        self.entries.insert(seq, V::default());
        while self.entries.len() > REORDER_WINDOW {
            self.entries.pop_first();
            self.evicted = true;
        }
    }

    /// Changes the entry at `seq` (kept) and recomputes; returns the seqs that now fire.
    pub(crate) fn update(
        &mut self,
        seq: u64,
        value: V,
        target: u32,
        extends: impl Fn(V) -> bool,
    ) -> Vec<u64> {
        self.entries.remove(&seq);
        if self.entries.keys().next_back().is_none_or(|&l| seq > l) {
            // Re-putting the newest entry must not count it twice.
            self.end = self.run_before(seq, &extends);
        }
        self.put(seq, value, target, extends)
    }

    /// The run at the last entry below `seq`: the entries that extend it, counted back to the
    /// one that reset it (or to the window's start, where `base` carries on).
    fn run_before(&self, seq: u64, extends: impl Fn(V) -> bool) -> u32 {
        let mut run = 0u32;
        for (_, &v) in self.entries.range(..seq).rev() {
            if !extends(v) {
                return run;
            }
            run = run.saturating_add(1);
        }
        self.base.saturating_add(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The seqs where a run of `true`s reaches `target`, in order.
    fn oracle(entries: &[(u64, bool)], target: u32) -> Vec<u64> {
        let mut sorted = entries.to_vec();
        sorted.sort_unstable();
        let mut run = 0;
        let mut fired = Vec::new();
        for (q, a) in sorted {
            run = if a { run + 1 } else { 0 };
            if run == target {
                fired.push(q);
            }
        }
        fired
    }

    #[test]
    fn late_entries_fire_what_the_sorted_history_fires() {
        let entries: Vec<(u64, bool)> = (0..200u64).map(|q| (q * 2, (q / 5) % 3 != 0)).collect();
        let expected = oracle(&entries, 4);
        // In order: exactly the oracle.
        let mut w = RunWindow::default();
        let mut fired = Vec::new();
        for &(q, a) in &entries {
            fired.extend(w.put(q, a, 4, |a| a));
        }
        assert_eq!(fired, expected);
        // Blocks swapped (newer first, as after a restore), each seq once: the oracle's seqs
        // are all fired, possibly with some a partial history implied.
        let mut w = RunWindow::default();
        let mut fired = BTreeSet::new();
        for block in entries.chunks(30).collect::<Vec<_>>().chunks(2) {
            for part in block.iter().rev() {
                for &(q, a) in *part {
                    assert!(!w.is_known(q));
                    fired.extend(w.put(q, a, 4, |a| a));
                }
            }
        }
        assert!(expected.iter().all(|q| fired.contains(q)));
        assert!(entries.iter().all(|&(q, _)| w.is_known(q)));
    }

    /// The window's earlier algorithm, a full rescan after every late entry: the oracle for
    /// the incremental one.
    struct Rescan {
        entries: BTreeMap<u64, u32>,
        fired: BTreeMap<u64, u32>,
    }

    impl Rescan {
        fn put(&mut self, seq: u64, value: u32, target: u32) -> Vec<u64> {
            self.entries.insert(seq, value);
            let mut run = 0u32;
            let mut fired = Vec::new();
            for (&q, &v) in &self.entries {
                run = if v > 1 { run + 1 } else { 0 };
                if run == target && self.fired.insert(q, v) != Some(v) {
                    fired.push(q);
                }
            }
            fired
        }
    }

    #[test]
    fn late_entries_and_updates_fire_what_a_full_rescan_fires() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..50 {
            let mut w = RunWindow::default();
            let mut oracle = Rescan {
                entries: BTreeMap::new(),
                fired: BTreeMap::new(),
            };
            // Fewer entries than the window keeps: nothing is evicted, so both see it all.
            let mut seqs: Vec<u64> = (0..400).collect();
            for i in (1..seqs.len()).rev() {
                // Mostly ascending, with some entries late by up to 40.
                if next() % 4 == 0 {
                    let j = i.saturating_sub((next() % 40) as usize);
                    seqs.swap(i, j);
                }
            }
            for seq in seqs {
                let value = (next() % 4) as u32;
                let (got, want) = if w.is_known(seq) {
                    (
                        w.update(seq, value, 3, |v| v > 1),
                        oracle.put(seq, value, 3),
                    )
                } else {
                    (w.put(seq, value, 3, |v| v > 1), oracle.put(seq, value, 3))
                };
                assert_eq!(got, want, "at seq {seq}");
                // Now and then a kept seq changes, as a late status changes a leak's count.
                if next() % 10 == 0 {
                    if let Some(&q) = oracle.entries.keys().nth((next() % 50) as usize) {
                        let value = (next() % 4) as u32;
                        assert_eq!(w.update(q, value, 3, |v| v > 1), oracle.put(q, value, 3));
                    }
                }
            }
            assert_eq!(w.fired, oracle.fired);
        }
    }
}
