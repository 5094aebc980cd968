//! How a stream's tuples are divided among the tasks of a consumer (Storm's stream groupings).
//!
//! The key of a fields or partial-key grouping is a closure over the typed tuple, hashed with a
//! fixed, seedless hash ([`key_hash`]), so the same key reaches the same task in every run and on
//! every machine.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A key closure reduced to its stable 64-bit hash.
pub(crate) type KeyFn<T> = Arc<dyn Fn(&T) -> u64 + Send + Sync>;

/// A user-defined grouping (Storm's `CustomStreamGrouping`). Each producer task gets its own
/// clone, so it may keep state (a counter, loads).
pub trait CustomGrouping<T>: Send + 'static {
    /// Pushes onto `out` the indexes (below `num_tasks`) of the tasks that receive `tuple`.
    /// Indexes out of range are ignored; pushing none drops the tuple for this consumer.
    fn choose_tasks(&mut self, tuple: &T, num_tasks: usize, out: &mut Vec<usize>);
}

/// A grouping as declared on one subscription.
pub(crate) enum Grouping<T> {
    /// Round-robin over the consumer's tasks.
    Shuffle,
    /// Same key, same task.
    Fields(KeyFn<T>),
    /// Every task gets every tuple.
    All,
    /// Every tuple goes to the lowest-indexed task.
    Global,
    /// The emitter chooses the task (`emit_direct`).
    Direct,
    /// Round-robin over the consumer's tasks on the producer's worker; all tasks if none is.
    LocalOrShuffle,
    /// Each key goes to the less loaded of its two candidate tasks.
    PartialKey(KeyFn<T>),
    /// A user grouping, cloned per producer task.
    Custom(Arc<dyn Fn() -> Box<dyn CustomGrouping<T>> + Send + Sync>),
}

impl<T> Grouping<T> {
    /// The grouping's name as users declare it (`shuffle`, `fields`, ...), for displays.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Grouping::Shuffle => "shuffle",
            Grouping::Fields(_) => "fields",
            Grouping::All => "all",
            Grouping::Global => "global",
            Grouping::Direct => "direct",
            Grouping::LocalOrShuffle => "local_or_shuffle",
            Grouping::PartialKey(_) => "partial_key",
            Grouping::Custom(_) => "custom",
        }
    }
}

impl<T> Clone for Grouping<T> {
    fn clone(&self) -> Self {
        match self {
            Grouping::Shuffle => Grouping::Shuffle,
            Grouping::Fields(k) => Grouping::Fields(k.clone()),
            Grouping::All => Grouping::All,
            Grouping::Global => Grouping::Global,
            Grouping::Direct => Grouping::Direct,
            Grouping::LocalOrShuffle => Grouping::LocalOrShuffle,
            Grouping::PartialKey(k) => Grouping::PartialKey(k.clone()),
            Grouping::Custom(f) => Grouping::Custom(f.clone()),
        }
    }
}

/// A grouping as a value, for [`crate::BoltDeclarer::input_with`] and the sides of a
/// [`crate::component::TwoInputs`] bolt (the declarer's `*_grouping` methods take the bolt's
/// own input type; these take any).
pub struct Group<T>(pub(crate) Grouping<T>);

impl<T: 'static> Group<T> {
    /// Round-robin over the consumer's tasks.
    pub fn shuffle() -> Self {
        Group(Grouping::Shuffle)
    }

    /// Same key, same task (the key closure's result, hashed with [`key_hash`]).
    pub fn fields<K: Hash>(key: impl Fn(&T) -> K + Send + Sync + 'static) -> Self {
        Group(Grouping::Fields(Arc::new(move |t| key_hash(&key(t)))))
    }

    /// Every task gets every tuple.
    pub fn all() -> Self {
        Group(Grouping::All)
    }

    /// Every tuple goes to the lowest-indexed task.
    pub fn global() -> Self {
        Group(Grouping::Global)
    }

    /// Round-robin over the consumer's tasks on the producer's worker.
    pub fn local_or_shuffle() -> Self {
        Group(Grouping::LocalOrShuffle)
    }
}

/// The stable hash of a grouping key: FxHash followed by a 64-bit finaliser, so that keys which
/// differ only in their low bits still spread over every task.
pub fn key_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    key.hash(&mut h);
    fmix64(h.finish())
}

/// MurmurHash3's finaliser: every input bit affects every output bit.
pub(crate) fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Maps a hash onto `n` buckets without a division (Lemire's multiply-shift).
pub(crate) fn bucket(hash: u64, n: usize) -> usize {
    ((u128::from(hash) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_is_stable_across_calls() {
        assert_eq!(key_hash("word"), key_hash(&String::from("word")));
        assert_ne!(key_hash(&1u32), key_hash(&2u32));
    }

    #[test]
    fn buckets_cover_every_task() {
        let mut seen = [0usize; 7];
        for k in 0u64..7000 {
            let b = bucket(key_hash(&k), 7);
            assert!(b < 7);
            seen[b] += 1;
        }
        assert!(seen.iter().all(|&c| c > 700), "uneven spread: {seen:?}");
    }
}
