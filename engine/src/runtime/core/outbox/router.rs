//! Per producer task, the state of one grouping: which consumer task gets the next tuple.

use crate::topology::{bucket, CustomGrouping, Grouping, KeyFn};

/// A grouping instantiated for one producer task.
pub(crate) enum Router<T> {
    Shuffle { next: usize },
    Fields(KeyFn<T>),
    All,
    Global,
    Direct,
    LocalOrShuffle { local: Vec<usize>, next: usize },
    PartialKey { key: KeyFn<T>, load: Vec<u64> },
    Custom(Box<dyn CustomGrouping<T>>),
}

impl<T: 'static> Router<T> {
    /// `producer_task` staggers round-robin starts so producers do not all hit task 0 first;
    /// `target_workers[i]` is the worker consumer task `i` runs on.
    pub(crate) fn new(
        grouping: &Grouping<T>,
        producer_task: usize,
        producer_worker: usize,
        target_workers: &[usize],
    ) -> Self {
        let n = target_workers.len().max(1);
        match grouping {
            Grouping::Shuffle => Router::Shuffle {
                next: producer_task % n,
            },
            Grouping::Fields(k) => Router::Fields(k.clone()),
            Grouping::All => Router::All,
            Grouping::Global => Router::Global,
            Grouping::Direct => Router::Direct,
            Grouping::LocalOrShuffle => {
                let local: Vec<usize> = (0..target_workers.len())
                    .filter(|&i| target_workers[i] == producer_worker)
                    .collect();
                let next = if local.is_empty() {
                    producer_task % n
                } else {
                    producer_task % local.len()
                };
                Router::LocalOrShuffle { local, next }
            }
            Grouping::PartialKey(k) => Router::PartialKey {
                key: k.clone(),
                load: vec![0; n],
            },
            Grouping::Custom(make) => Router::Custom(make()),
        }
    }

    /// Chooses the target tasks of `value` among `n`: a single task is returned directly (the
    /// common, allocation-free case); several are pushed onto `many` and `None` is returned.
    #[inline]
    pub(crate) fn choose(&mut self, value: &T, n: usize, many: &mut Vec<usize>) -> Option<usize> {
        match self {
            Router::Shuffle { next } => {
                let t = *next;
                *next = if t + 1 == n { 0 } else { t + 1 };
                Some(t)
            }
            Router::Fields(key) => Some(bucket(key(value), n)),
            Router::Global => Some(0),
            Router::All => {
                many.extend(0..n);
                None
            }
            Router::Direct => None,
            Router::LocalOrShuffle { local, next } => {
                let pool = if local.is_empty() { n } else { local.len() };
                let i = *next;
                *next = if i + 1 >= pool { 0 } else { i + 1 };
                Some(if local.is_empty() { i } else { local[i] })
            }
            Router::PartialKey { key, load } => {
                let h = key(value);
                let first = bucket(h, n);
                let second = bucket(crate::topology::key_hash(&h), n);
                let t = if load[second] < load[first] {
                    second
                } else {
                    first
                };
                load[t] += 1;
                Some(t)
            }
            Router::Custom(g) => {
                g.choose_tasks(value, n, many);
                many.retain(|&t| t < n);
                None
            }
        }
    }

    pub(crate) fn is_direct(&self) -> bool {
        matches!(self, Router::Direct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::sync::Arc;

    fn targets(r: &mut Router<u64>, v: u64, n: usize) -> Vec<usize> {
        let mut many = Vec::new();
        match r.choose(&v, n, &mut many) {
            Some(t) => vec![t],
            None => many,
        }
    }

    #[test]
    fn shuffle_visits_every_task_evenly() {
        let mut r = Router::new(&Grouping::<u64>::Shuffle, 1, 0, &[0, 0, 1]);
        let mut counts = [0; 3];
        for v in 0..300 {
            counts[targets(&mut r, v, 3)[0]] += 1;
        }
        assert_eq!(counts, [100, 100, 100]);
    }

    #[test]
    fn fields_sends_a_key_to_one_task() {
        let key: KeyFn<u64> = Arc::new(|v| crate::topology::key_hash(&(v % 10)));
        let mut r = Router::new(&Grouping::Fields(key), 0, 0, &[0, 1, 0, 1]);
        let mut seen: HashMap<u64, HashSet<usize>> = HashMap::new();
        for v in 0..1000 {
            seen.entry(v % 10)
                .or_default()
                .extend(targets(&mut r, v, 4));
        }
        assert!(seen.values().all(|s| s.len() == 1));
    }

    #[test]
    fn partial_key_uses_at_most_two_tasks_per_key() {
        let key: KeyFn<u64> = Arc::new(|v| crate::topology::key_hash(&(v % 5)));
        let mut r = Router::new(&Grouping::PartialKey(key), 0, 0, &[0; 8]);
        let mut seen: HashMap<u64, HashSet<usize>> = HashMap::new();
        for v in 0..5000 {
            seen.entry(v % 5).or_default().extend(targets(&mut r, v, 8));
        }
        assert!(seen.values().all(|s| s.len() <= 2));
        assert!(
            seen.values().any(|s| s.len() == 2),
            "load never split a key"
        );
    }

    #[test]
    fn local_or_shuffle_stays_on_the_worker() {
        let mut r = Router::new(&Grouping::<u64>::LocalOrShuffle, 0, 1, &[0, 1, 0, 1]);
        let picked: HashSet<usize> = (0..100).flat_map(|v| targets(&mut r, v, 4)).collect();
        assert_eq!(picked, HashSet::from([1, 3]));
        let mut remote = Router::new(&Grouping::<u64>::LocalOrShuffle, 0, 5, &[0, 1]);
        let picked: HashSet<usize> = (0..10).flat_map(|v| targets(&mut remote, v, 2)).collect();
        assert_eq!(picked, HashSet::from([0, 1]));
    }

    #[test]
    fn all_global_and_direct() {
        let mut all = Router::new(&Grouping::<u64>::All, 0, 0, &[0; 3]);
        assert_eq!(targets(&mut all, 1, 3), vec![0, 1, 2]);
        let mut global = Router::new(&Grouping::<u64>::Global, 2, 0, &[0; 3]);
        assert_eq!(targets(&mut global, 9, 3), vec![0]);
        let mut direct = Router::new(&Grouping::<u64>::Direct, 0, 0, &[0; 3]);
        assert!(targets(&mut direct, 9, 3).is_empty());
        assert!(direct.is_direct());
    }
}
