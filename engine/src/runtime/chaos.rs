//! Failure injection inside the bolt executor (`Config::chaos`).
//!
//! A drawn tuple makes the task panic inside the user-code boundary, exactly as a panicking
//! `execute` would. Which tuples already caused an injected panic is remembered per component
//! (shared by its tasks, kept across restarts and rollbacks), identified by the hash of their
//! MessagePack encoding: a given tuple fails by chaos at most once per bolt, so every run
//! makes progress however high the rate.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rustc_hash::{FxHashSet, FxHasher};
use serde::Serialize;

use crate::Chaos;

/// Tuples of one component that already failed by chaos.
pub(crate) type ChaosMemory = Arc<Mutex<FxHashSet<u64>>>;

/// One task's chaos monkey.
pub(crate) struct ChaosMonkey {
    rate: f64,
    rng: SmallRng,
    memory: ChaosMemory,
}

impl ChaosMonkey {
    pub(crate) fn new(chaos: Chaos, component: &str, task: usize, memory: ChaosMemory) -> Self {
        let mut h = FxHasher::default();
        (component, task, chaos.seed).hash(&mut h);
        ChaosMonkey {
            rate: chaos.panic_rate,
            rng: SmallRng::seed_from_u64(h.finish()),
            memory,
        }
    }

    /// True when this tuple must fail now: drawn, and never failed by chaos in this bolt.
    pub(crate) fn strikes<T: Serialize>(&mut self, tuple: &T) -> bool {
        if self.rate <= 0.0 || self.rng.gen::<f64>() >= self.rate {
            return false;
        }
        let Ok(bytes) = rmp_serde::to_vec(tuple) else {
            return false;
        };
        let mut h = FxHasher::default();
        bytes.hash(&mut h);
        match self.memory.lock() {
            Ok(mut seen) => seen.insert(h.finish()),
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
        let mut a = ChaosMonkey::new(chaos, "count", 0, memory.clone());
        let mut b = ChaosMonkey::new(chaos, "count", 1, memory);
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
        let mut m = ChaosMonkey::new(chaos, "c", 0, ChaosMemory::default());
        let hits = (0..20_000u64).filter(|i| m.strikes(i)).count();
        assert!((1_600..2_400).contains(&hits), "{hits} hits");
    }
}
