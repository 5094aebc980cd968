//! The leak detector's pre-aggregation, in each alarm task (exactly-once and at-most-once).
//!
//! An alarm task sees every reading of its sensors, in order, so it can count its sensors in
//! alarm per seq and know when all of them have passed a seq. It then sends the leak detector
//! one [`Signal::Count`] per seq and one [`Signal::Mark`] per advance of its low watermark,
//! instead of one status per reading: the single global step sees one tuple per seq per alarm
//! task. Counts are additive: a sensor first seen below the watermark (its first reading came
//! late) adds to a seq already sent, which the leak detector has not closed, since it closes a
//! seq only once the alarm tasks together have seen every sensor of the population.
//!
//! At-least-once keeps one status per reading (see `sensor::leak`): a replayed reading must be
//! told from a new one by (sensor, seq), which counts cannot carry.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::types::Signal;

/// One alarm task's counts per seq and its sensors' progress: checkpointed with its runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Partials {
    /// Sensors in alarm per seq with a reading and not yet sent.
    open: BTreeMap<u64, u32>,
    /// Each sensor's latest seq.
    last: FxHashMap<u32, u64>,
    /// How many sensors have each latest seq; its first key is the watermark.
    latest: BTreeMap<u64, u32>,
    /// The counts of every seq below this were sent.
    sent: u64,
    /// The watermark the last mark carried.
    marked: Option<u64>,
}

impl Partials {
    /// Counts one reading (each sensor's seqs ascend).
    pub(crate) fn observe(&mut self, sensor: u32, seq: u64, in_alarm: bool) {
        *self.open.entry(seq).or_insert(0) += u32::from(in_alarm);
        match self.last.insert(sensor, seq) {
            Some(previous) if previous == seq => return,
            Some(previous) => {
                if let Some(n) = self.latest.get_mut(&previous) {
                    *n -= 1;
                    if *n == 0 {
                        self.latest.remove(&previous);
                    }
                }
            }
            None => {}
        }
        *self.latest.entry(seq).or_insert(0) += 1;
    }

    /// Sends the counts of the seqs every sensor seen has passed, then the mark saying so, if
    /// the watermark moved (`task`: this alarm task; `blind`: it restarted without state).
    pub(crate) fn flush(&mut self, task: u32, blind: bool, emit: impl FnMut(Signal)) {
        let watermark = self.latest.keys().next().copied().unwrap_or(0);
        self.send_below(watermark, task, blind, emit);
    }

    /// The input ended: sends every count and a mark past every seq.
    pub(crate) fn finish(&mut self, task: u32, blind: bool, emit: impl FnMut(Signal)) {
        self.send_below(u64::MAX, task, blind, emit);
    }

    /// Sends the counts below `watermark` (and any below what was sent already: a sensor first
    /// seen late adds to them) and a mark carrying `watermark`, which goes down when a sensor
    /// is first seen below it (the leak detector closes nothing until every sensor is seen).
    fn send_below(&mut self, watermark: u64, task: u32, blind: bool, mut emit: impl FnMut(Signal)) {
        let limit = watermark.max(self.sent);
        let counts = self.open.first_key_value().is_some_and(|(&q, _)| q < limit);
        if !counts && self.marked == Some(watermark) {
            return;
        }
        while let Some((&seq, &in_alarm)) = self.open.first_key_value() {
            if seq >= limit {
                break;
            }
            self.open.remove(&seq);
            emit(Signal::Count { seq, in_alarm });
        }
        let from = std::mem::replace(&mut self.sent, limit);
        self.marked = Some(watermark);
        emit(Signal::Mark {
            task,
            sensors: u32::try_from(self.last.len()).unwrap_or(u32::MAX),
            from,
            low: watermark,
            blind,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(p: &mut Partials, f: impl FnOnce(&mut Partials, &mut Vec<Signal>)) -> Vec<Signal> {
        let mut out = Vec::new();
        f(p, &mut out);
        out
    }

    #[test]
    fn a_seq_is_sent_once_every_sensor_seen_has_passed_it() {
        let count = |seq, in_alarm| Signal::Count { seq, in_alarm };
        let mark = |sensors, from, low| Signal::Mark {
            task: 7,
            sensors,
            from,
            low,
            blind: false,
        };
        let mut p = Partials::default();
        p.observe(1, 0, true);
        p.observe(2, 0, true);
        p.observe(1, 2, false);
        let flushed = drain(&mut p, |p, out| p.flush(7, false, |s| out.push(s)));
        // Sensor 2 is still at seq 0: nothing to send, but the task's first mark.
        assert_eq!(flushed, [mark(2, 0, 0)]);
        p.observe(2, 3, true);
        let flushed = drain(&mut p, |p, out| p.flush(7, false, |s| out.push(s)));
        // Seq 2 waits: sensor 1 is at seq 2 and the watermark is the lowest latest seq.
        assert_eq!(flushed, [count(0, 2), mark(2, 0, 2)]);
        // A third sensor, first seen below the mark: its count is sent (counts add up) and
        // the watermark goes down to it.
        p.observe(3, 1, true);
        let flushed = drain(&mut p, |p, out| p.flush(7, false, |s| out.push(s)));
        assert_eq!(flushed, [count(1, 1), mark(3, 2, 1)]);
        let flushed = drain(&mut p, |p, out| p.finish(7, false, |s| out.push(s)));
        assert_eq!(flushed, [count(2, 0), count(3, 1), mark(3, 2, u64::MAX)]);
    }
}
