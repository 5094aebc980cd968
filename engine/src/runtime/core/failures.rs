//! What a bolt task does with inputs whose `execute` returned an `Err`: count each input's
//! attempts across replays, and give up on it as a dead letter after the last one.

use std::hash::{Hash, Hasher};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::runtime::DeadLetter;

/// Dead letters a task keeps for the report; `failed` counts every one.
const DEAD_LETTERS_KEPT: usize = 100;

/// A bolt task's failed inputs.
#[derive(Default)]
pub(crate) struct Failures {
    /// Inputs whose `execute` returned an `Err`.
    pub failed: u64,
    /// The inputs given up on (the first `DEAD_LETTERS_KEPT`).
    pub dead_letters: Vec<DeadLetter>,
    /// The task saw an `Err` and fingerprints its inputs from then on.
    careful: bool,
    /// Failures per input fingerprint (at least once).
    attempts: FxHashMap<u64, u32>,
    /// Dead letters already shown to the run's watchers.
    shown: usize,
}

impl Failures {
    /// The input's MessagePack payload, once the task has seen an `Err`: it counts a replayed
    /// tuple's attempts and is kept in a dead letter. Encoding every tuple of every task would
    /// cost more than the rest of the hot path, so a task starts only after its first `Err`.
    #[inline]
    pub(crate) fn payload_of<T: Serialize>(&self, value: &T) -> Option<Vec<u8>> {
        if self.careful {
            rmp_serde::to_vec(value).ok()
        } else {
            None
        }
    }

    /// An input (with `payload` from `payload_of`) failed with `error`. Returns true when it
    /// is given up on: always when it cannot be replayed, else at its `max_attempts`th
    /// failure. A given-up input becomes a dead letter of task `task` of `component`.
    pub(crate) fn failed(
        &mut self,
        payload: Option<Vec<u8>>,
        error: String,
        replayable: bool,
        max_attempts: u32,
        (component, task): (&str, usize),
    ) -> bool {
        self.careful = true;
        self.failed += 1;
        let attempts = match &payload {
            Some(p) => {
                let n = self.attempts.entry(fingerprint(p)).or_insert(0);
                *n += 1;
                *n
            }
            None => 1,
        };
        let give_up = !replayable || attempts >= max_attempts.max(1);
        if give_up && self.dead_letters.len() < DEAD_LETTERS_KEPT {
            // The payload is empty for the first failure a task sees, before it fingerprints.
            self.dead_letters.push(DeadLetter {
                component: component.to_string(),
                task,
                payload: payload.unwrap_or_default(),
                error,
                attempts,
            });
        }
        give_up
    }
}

impl Failures {
    /// The dead letters not yet shown to the run's watchers (see `Config::live`).
    pub(crate) fn unshown(&mut self) -> &[DeadLetter] {
        let from = self.shown.min(self.dead_letters.len());
        self.shown = self.dead_letters.len();
        &self.dead_letters[from..]
    }
}

fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    bytes.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replayed_input_is_given_up_on_at_its_last_attempt() {
        let mut f = Failures::default();
        let at = ("bolt", 0);
        assert!(
            f.payload_of(&7u32).is_none(),
            "no encoding before the first Err"
        );
        assert!(!f.failed(None, "e".into(), true, 3, at));
        for attempt in 1..=3 {
            let p = f.payload_of(&7u32);
            assert!(p.is_some());
            assert_eq!(f.failed(p, "e".into(), true, 3, at), attempt == 3);
        }
        assert_eq!(f.failed, 4);
        assert_eq!(f.dead_letters.len(), 1);
        assert_eq!(f.unshown().len(), 1);
        assert!(f.unshown().is_empty(), "each dead letter is shown once");
        assert_eq!(f.dead_letters[0].attempts, 3);
        assert!(
            f.failed(None, "e".into(), false, 3, at),
            "no replay: given up at once"
        );
    }
}
