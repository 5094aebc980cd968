//! Failure injection inside the bolt executor (`Config::chaos`).
//!
//! A drawn tuple makes the task panic inside the user-code boundary, exactly as a panicking
//! `execute` would. The draw is a function of the tuple (the hash of its MessagePack encoding,
//! the seed and the component), not of how often it is executed, so replays after a rollback
//! draw no new failures; and which tuples already caused an injected panic is remembered per
//! component (shared by its tasks, kept across restarts and rollbacks): a given tuple fails by
//! chaos at most once per bolt, so every run makes progress however high the rate.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use rustc_hash::{FxHashSet, FxHasher};
use serde::Serialize;

use crate::Chaos;

/// Tuples of one component that already failed by chaos.
pub(crate) type ChaosMemory = Arc<Mutex<FxHashSet<u64>>>;

/// One task's chaos monkey.
pub(crate) struct ChaosMonkey {
    rate: f64,
    /// Mixed into every tuple's hash: the seed and the component.
    salt: u64,
    memory: ChaosMemory,
}

impl ChaosMonkey {
    pub(crate) fn new(chaos: Chaos, component: &str, memory: ChaosMemory) -> Self {
        let mut h = FxHasher::default();
        (component, chaos.seed).hash(&mut h);
        ChaosMonkey {
            rate: chaos.panic_rate,
            salt: h.finish(),
            memory,
        }
    }

    /// True when this tuple must fail now: drawn, and never failed by chaos in this bolt.
    pub(crate) fn strikes<T: Serialize>(&mut self, tuple: &T) -> bool {
        if self.rate <= 0.0 {
            return false;
        }
        let Ok(bytes) = rmp_serde::to_vec(tuple) else {
            return false;
        };
        let mut h = FxHasher::default();
        (self.salt, bytes).hash(&mut h);
        let id = h.finish();
        // A uniform draw in [0, 1) from the tuple's hash (SplitMix64's finalizer spreads it).
        let mut z = id.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let draw = (z >> 11) as f64 / (1u64 << 53) as f64;
        if draw >= self.rate {
            return false;
        }
        match self.memory.lock() {
            Ok(mut seen) => seen.insert(id),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tuple_fails_at_most_once_per_component() {
        let memory = ChaosMemory::default();
        let chaos = Chaos {
            panic_rate: 1.0,
            seed: 3,
        };
        let mut a = ChaosMonkey::new(chaos, "count", memory.clone());
        let mut b = ChaosMonkey::new(chaos, "count", memory);
        assert!(a.strikes(&("cat", 1u64)));
        assert!(!a.strikes(&("cat", 1u64)));
        assert!(!b.strikes(&("cat", 1u64)));
        assert!(b.strikes(&("dog", 1u64)));
    }

    #[test]
    fn the_rate_is_respected() {
        let chaos = Chaos {
            panic_rate: 0.1,
            seed: 9,
        };
        let mut m = ChaosMonkey::new(chaos, "c", ChaosMemory::default());
        let hits = (0..20_000u64).filter(|i| m.strikes(i)).count();
        assert!((1_600..2_400).contains(&hits), "{hits} hits");
    }
}
