//! Which reduce task a key goes to.

use crate::topology::{bucket, key_hash};

/// Chooses the partition (reduce task) of each map output key. The same key must always get
/// the same partition.
pub trait Partitioner<K>: Send + Sync + 'static {
    /// The partition of `key`, below `partitions`.
    fn partition(&self, key: &K, partitions: usize) -> usize;
}

/// The default: the engine's stable key hash (the one fields groupings use), spread over the
/// partitions without a division (Hadoop's `HashPartitioner`, with a better hash).
#[derive(Debug, Clone, Copy, Default)]
pub struct HashPartitioner;

impl<K: std::hash::Hash> Partitioner<K> for HashPartitioner {
    fn partition(&self, key: &K, partitions: usize) -> usize {
        bucket(key_hash(key), partitions.max(1))
    }
}

impl<K, F: Fn(&K, usize) -> usize + Send + Sync + 'static> Partitioner<K> for F {
    fn partition(&self, key: &K, partitions: usize) -> usize {
        self(key, partitions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_partition_and_all_in_range() {
        let p = HashPartitioner;
        for w in ["a", "b", "word", "ünï"] {
            let k = w.to_string();
            assert_eq!(p.partition(&k, 7), p.partition(&k, 7));
            assert!(p.partition(&k, 7) < 7);
        }
        assert_eq!(p.partition(&"x".to_string(), 1), 0);
    }
}
