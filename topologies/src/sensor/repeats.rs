//! At-least-once: the events the sink wrote recently, so that a replay does not write one again.
//!
//! A failed tuple tree is replayed from the spout, and its reading goes through the alarm bolt
//! once more: the bolt emits again the alarm that reading fired (the first one may be what was
//! lost downstream), and the leak detector the leaks its status completed. The output is what a
//! user reads, so the sink remembers, per sensor and for the leaks, the last [`RECENT`] events
//! it wrote, and drops an identical one. An event older than all of those is written again: a
//! repeat, never a loss. A leak whose count of sensors a late status corrected is a different
//! event and is written.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use super::types::Event;

/// Events remembered per sensor (and for the leaks).
pub(crate) const RECENT: usize = 2048;

/// The recent events written, by sensor (`None`: the leaks).
#[derive(Debug, Default)]
pub(crate) struct Recent {
    by_key: FxHashMap<Option<u32>, BTreeSet<(u64, Event)>>,
}

impl Recent {
    fn key(event: &Event) -> (Option<u32>, u64) {
        match *event {
            Event::SensorAlarm { sensor, seq, .. } => (Some(sensor), seq),
            Event::Leak { seq, .. } => (None, seq),
        }
    }

    /// True when `event` was written recently: it need not be written again.
    pub(crate) fn is_repeat(&self, event: &Event) -> bool {
        let (key, seq) = Self::key(event);
        self.by_key
            .get(&key)
            .is_some_and(|recent| recent.contains(&(seq, *event)))
    }

    /// `event` was written: remember it, forgetting the oldest of its sensor past [`RECENT`].
    pub(crate) fn remember(&mut self, event: &Event) {
        let (key, seq) = Self::key(event);
        let recent = self.by_key.entry(key).or_default();
        recent.insert((seq, *event));
        while recent.len() > RECENT {
            recent.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(sensor: u32, seq: u64) -> Event {
        Event::SensorAlarm {
            sensor,
            seq,
            consecutive: 4,
        }
    }

    /// Writes `event` unless it is a repeat; true when written.
    fn write(r: &mut Recent, event: Event) -> bool {
        if r.is_repeat(&event) {
            return false;
        }
        r.remember(&event);
        true
    }

    #[test]
    fn a_repeat_is_dropped_and_an_event_past_the_memory_is_written_again() {
        let mut r = Recent::default();
        let r = &mut r;
        assert!(write(r, alarm(1, 10)));
        assert!(!write(r, alarm(1, 10)), "a replayed alarm");
        assert!(write(r, alarm(2, 10)), "another sensor");
        let leak = |n| Event::Leak {
            seq: 10,
            sensors_in_alarm: n,
            sensors: 16,
        };
        assert!(write(r, leak(9)));
        assert!(!write(r, leak(9)));
        assert!(write(r, leak(10)), "a corrected leak is another event");
        for seq in 11..11 + RECENT as u64 {
            assert!(write(r, alarm(1, seq)));
        }
        // Seq 10 of sensor 1 is forgotten: written again rather than risk a loss.
        assert!(write(r, alarm(1, 10)));
        assert!(!write(r, alarm(1, 11 + RECENT as u64 - 1)));
    }
}
