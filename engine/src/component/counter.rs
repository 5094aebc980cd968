//! Named counts a task keeps for the run's report, as Hadoop's counters and Flink's
//! accumulators: a component adds to them, and the report sums each name over every task,
//! whichever process the task ran in.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One named count of one task, from [`crate::TaskContext::counter`]. Cheap to clone (clones
/// share the count) and to add to from the task's thread.
///
/// The count is a running total for the task: it survives a restart of the task (a fresh
/// instance gets the same counter back), so what a crashed instance added stays counted. The
/// run's [`crate::RunReport::counters`] holds each name's sum over the tasks once they ended.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A task's counters by name (shared by the clones of its context).
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters(Arc<Mutex<BTreeMap<String, Counter>>>);

impl Counters {
    /// The counter named `name`, made at 0 on first use.
    pub(crate) fn get(&self, name: &str) -> Counter {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(name.to_string()).or_default().clone()
    }

    /// Every counter's name and count, by name.
    pub(crate) fn values(&self) -> Vec<(String, u64)> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, c)| (k.clone(), c.get())).collect()
    }
}

/// Adds `values` into `sums`, name by name.
pub(crate) fn add_into(sums: &mut BTreeMap<String, u64>, values: &[(String, u64)]) {
    for (name, n) in values {
        *sums.entry(name.clone()).or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gives_the_same_counter_and_values_are_sorted_by_name() {
        let counters = Counters::default();
        counters.get("b").add(2);
        counters.get("a").add(1);
        counters.clone().get("b").add(3);
        assert_eq!(counters.values(), vec![("a".into(), 1), ("b".into(), 5)]);
        let mut sums = BTreeMap::new();
        add_into(&mut sums, &counters.values());
        add_into(&mut sums, &[("b".into(), 10)]);
        assert_eq!(sums, BTreeMap::from([("a".into(), 1), ("b".into(), 15)]));
    }
}
