//! The leak detector's pre-aggregation, in each alarm task (exactly-once and at-most-once).
//!
//! An alarm task sees every reading of its sensors, in order, so it can count its sensors in
//! alarm per seq and know when all of them have passed a seq. It then sends the leak detector
//! the count of each seq (up to 16 consecutive seqs in one [`Signal::Counts`], a lone one as a
//! [`Signal::Count`]) and one [`Signal::Mark`] per advance of its low watermark, instead of one
//! status per reading: the single global step sees about one tuple per 16 seqs per alarm task. Counts are additive: a sensor first seen below the watermark (its first reading came
//! late) adds to a seq already sent, which the leak detector has not closed, since it closes a
//! seq only once the alarm tasks together have seen every sensor of the population.
//!
//! At-least-once keeps one status per reading (see `sensor::leak`): a replayed reading must be
//! told from a new one by (sensor, seq), which counts cannot carry.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::types::{Reading, Signal, COUNTS};

/// One alarm task's counts per seq and its sensors' progress: checkpointed with its runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Partials {
    /// Sensors in alarm per seq with a reading and not yet sent, at or above `sent`.
    open: SeqCounts,
    /// The same below `sent`: readings of sensors behind the others (first seen late, or fed
    /// by a slower spout task), held until the watermark passes them so that they too go out
    /// summed over sensors, in a ring of their own that follows them.
    #[serde(default)]
    late: SeqCounts,
    /// Each sensor's latest seq.
    last: FxHashMap<u32, u64>,
    /// How many sensors have each latest seq; its first key is the watermark. Touched once
    /// per run of one sensor's readings (a block), not once per reading.
    latest: BTreeMap<u64, u32>,
    /// The counts of every seq below this were sent.
    sent: u64,
    /// The watermark the last mark carried.
    marked: Option<u64>,
}

impl Partials {
    /// Counts one reading (each sensor's seqs ascend).
    #[cfg(test)]
    pub(crate) fn observe(&mut self, sensor: u32, seq: u64, in_alarm: bool) {
        self.counts_of(seq).add(seq, in_alarm);
        self.advance(sensor, seq);
    }

    /// Counts consecutive readings of one sensor (`sensor`; seqs ascending), in alarm when
    /// `value >= level`: one counter per reading, the sensor's progress once.
    pub(crate) fn observe_run(&mut self, sensor: u32, readings: &[Reading], level: f64) {
        let Some(last) = readings.last() else {
            return;
        };
        let counts = if readings[0].seq >= self.sent {
            Some(&mut self.open)
        } else if last.seq < self.sent {
            Some(&mut self.late)
        } else {
            None
        };
        if !counts.is_some_and(|c| c.add_dense(readings, level)) {
            for r in readings {
                self.counts_of(r.seq).add(r.seq, r.value >= level);
            }
        }
        self.advance(sensor, last.seq);
    }

    /// Where a reading at `seq` is counted.
    fn counts_of(&mut self, seq: u64) -> &mut SeqCounts {
        if seq >= self.sent {
            &mut self.open
        } else {
            &mut self.late
        }
    }

    /// `sensor`'s latest seq is now `seq`.
    fn advance(&mut self, sensor: u32, seq: u64) {
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
    /// Nothing at all when no count is due and the watermark did not move.
    fn send_below(&mut self, watermark: u64, task: u32, blind: bool, mut emit: impl FnMut(Signal)) {
        let limit = watermark.max(self.sent);
        // Consecutive seqs go out together (see `Signal::Counts`).
        let mut run: Option<(u64, u8, [u32; COUNTS])> = None;
        let mut group = |seq: u64, in_alarm: u32| {
            if let Some((first, len, counts)) = run.as_mut() {
                if *first + u64::from(*len) == seq && usize::from(*len) < COUNTS {
                    counts[usize::from(*len)] = in_alarm;
                    *len += 1;
                    return;
                }
            }
            if let Some(done) = run.take() {
                emit(counts_signal(done));
            }
            let mut counts = [0; COUNTS];
            counts[0] = in_alarm;
            run = Some((seq, 1, counts));
        };
        // The late seqs are all below the open ones: ascending order holds.
        let sent =
            self.late.drain_below(watermark, &mut group) + self.open.drain_below(limit, &mut group);
        if let Some(done) = run {
            emit(counts_signal(done));
        }
        if sent == 0 && self.marked == Some(watermark) {
            return;
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

/// One seq's count as [`Signal::Count`], more as [`Signal::Counts`].
fn counts_signal((first, len, in_alarm): (u64, u8, [u32; COUNTS])) -> Signal {
    if len == 1 {
        Signal::Count {
            seq: first,
            in_alarm: in_alarm[0],
        }
    } else {
        Signal::Counts {
            first,
            len,
            in_alarm,
        }
    }
}

/// Seqs further than this from the ring's start go to the ordered map: a sparse or jumping
/// seq space costs a map entry per seq, never a huge ring. The reach is wide (4 MiB of counts
/// at most) because sensors fed by different spout tasks drift apart: in the 16 M-reading
/// demo one spout task ran more than 65,536 seqs ahead of the other, and every reading past
/// the reach cost an ordered-map update.
const SPAN: u64 = 1 << 20;

/// Counts of sensors in alarm per seq, only for seqs with a reading. Seqs are dense in
/// practice (every sensor reads at every seq), so they live in a ring indexed by
/// `seq - base`, where adding a reading is an array increment; a seq outside the ring's reach
/// (below its start, or more than [`SPAN`] past it) goes to an ordered map.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SeqCounts {
    /// The seq of `ring[0]`.
    base: u64,
    /// 0: no reading at that seq; `n + 1`: readings, `n` of them in alarm.
    ring: VecDeque<u32>,
    /// Counts of seqs outside the ring (every entry has a reading).
    far: BTreeMap<u64, u32>,
}

impl SeqCounts {
    /// Counts one reading at `seq`.
    fn add(&mut self, seq: u64, in_alarm: bool) {
        let n = u32::from(in_alarm);
        if !self.far.is_empty() {
            if let Some(c) = self.far.get_mut(&seq) {
                *c += n;
                return;
            }
        }
        match self.slot(seq) {
            Some(slot) => *slot = (*slot).max(1) + n,
            None => *self.far.entry(seq).or_insert(0) += n,
        }
    }

    /// Counts `readings` in one pass over the ring when their seqs are consecutive and all
    /// within its reach (a block of the simulated sensors, and most runs): no per-reading
    /// bounds, growth or map checks. False, having counted nothing, otherwise.
    fn add_dense(&mut self, readings: &[Reading], level: f64) -> bool {
        let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
            return true;
        };
        let dense = last.seq.checked_sub(first.seq) == Some(readings.len() as u64 - 1);
        if !dense || !self.far.is_empty() {
            return false;
        }
        // Reaching the first seq places the base of an empty ring; reaching the last grows
        // the ring over the whole run. Empty slots left by a refusal count nothing.
        if self.slot(first.seq).is_none() || self.slot(last.seq).is_none() {
            return false;
        }
        let start = (first.seq - self.base) as usize;
        for (slot, r) in self
            .ring
            .range_mut(start..start + readings.len())
            .zip(readings)
        {
            *slot = (*slot).max(1) + u32::from(r.value >= level);
        }
        true
    }

    /// The ring's slot of `seq`, growing the ring to reach it unless that takes it past
    /// [`SPAN`].
    fn slot(&mut self, seq: u64) -> Option<&mut u32> {
        // Below the ring: a sensor first seen late, catching up below what was sent. Growing
        // the ring down to it would cost every one of its readings the gap (filled, then
        // drained again at the next flush); the map costs a lookup.
        if seq < self.base {
            return None;
        }
        if self.ring.is_empty() {
            self.base = seq;
        }
        let i = seq - self.base;
        if i >= SPAN {
            return None;
        }
        if i >= self.ring.len() as u64 {
            self.ring.resize(i as usize + 1, 0);
        }
        self.ring.get_mut(i as usize)
    }

    /// Removes every count of a seq below `limit` and passes it to `emit`, ascending; returns
    /// how many.
    fn drain_below(&mut self, limit: u64, mut emit: impl FnMut(u64, u32)) -> usize {
        let mut sent = 0;
        while self.base < limit {
            let Some(slot) = self.ring.pop_front() else {
                break;
            };
            let seq = self.base;
            self.base += 1;
            if slot > 0 {
                sent += drain_far(&mut self.far, seq, &mut emit);
                emit(seq, slot - 1);
                sent += 1;
            }
        }
        sent + drain_far(&mut self.far, limit, &mut emit)
    }
}

/// Removes the entries of `far` below `bound` and passes them to `emit`; returns how many.
fn drain_far(far: &mut BTreeMap<u64, u32>, bound: u64, emit: &mut impl FnMut(u64, u32)) -> usize {
    let mut sent = 0;
    while let Some(entry) = far.first_entry() {
        if *entry.key() >= bound {
            break;
        }
        let (seq, n) = entry.remove_entry();
        emit(seq, n);
        sent += 1;
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(p: &mut Partials, f: impl FnOnce(&mut Partials, &mut Vec<Signal>)) -> Vec<Signal> {
        let mut out = Vec::new();
        f(p, &mut out);
        flatten(out)
    }

    /// Each [`Signal::Counts`] as the [`Signal::Count`]s it stands for.
    fn flatten(signals: Vec<Signal>) -> Vec<Signal> {
        let mut out = Vec::new();
        for s in signals {
            match s {
                Signal::Counts {
                    first,
                    len,
                    in_alarm,
                } => {
                    assert!(len >= 2, "a single count goes as Signal::Count");
                    for i in 0..len {
                        out.push(Signal::Count {
                            seq: first + u64::from(i),
                            in_alarm: in_alarm[usize::from(i)],
                        });
                    }
                }
                other => out.push(other),
            }
        }
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
        // A third sensor, first seen below the mark: the watermark goes down to it, and its
        // count (which adds to what was sent of seq 1) waits, as open counts do, until the
        // watermark passes it.
        p.observe(3, 1, true);
        let flushed = drain(&mut p, |p, out| p.flush(7, false, |s| out.push(s)));
        assert_eq!(flushed, [mark(3, 2, 1)]);
        let flushed = drain(&mut p, |p, out| p.finish(7, false, |s| out.push(s)));
        assert_eq!(
            flushed,
            [count(1, 1), count(2, 0), count(3, 1), mark(3, 2, u64::MAX)]
        );
    }
    /// Readings of `sensors` sensors in blocks of random length, interleaved at random, each
    /// sensor's seqs ascending with random gaps (some jumps past the ring's reach), some
    /// sensors first seen late (below what was already sent).
    fn blocks(seed: u64, sensors: u32) -> Vec<Vec<Reading>> {
        use rand::rngs::SmallRng;
        use rand::{Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut queues: Vec<Vec<Reading>> = (0..sensors)
            .map(|sensor| {
                let mut seq = rng.gen_range(0..5u64);
                (0..rng.gen_range(50..400))
                    .map(|_| {
                        seq += match rng.gen_range(0..100) {
                            0 => SPAN + rng.gen_range(0..100),
                            1..=20 => rng.gen_range(2..5),
                            _ => 1,
                        };
                        let value = if rng.gen_bool(0.6) { 1.5 } else { 0.5 };
                        Reading { sensor, seq, value }
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        // Sensors join one by one, so later ones are first seen below the others' progress.
        let mut joined = 1;
        while queues.iter().any(|q| !q.is_empty()) {
            if joined < queues.len() && rng.gen_bool(0.05) {
                joined += 1;
            }
            let s = rng.gen_range(0..joined);
            let take = rng.gen_range(1..20).min(queues[s].len());
            if take > 0 {
                out.push(queues[s].drain(..take).collect());
            }
        }
        out
    }

    #[test]
    fn counts_and_marks_equal_a_sequential_oracle() {
        const LEVEL: f64 = 1.0;
        for seed in 0..30 {
            let input = blocks(seed, 1 + (seed % 7) as u32);
            let mut p = Partials::default();
            // What the oracle knows after each block: each sensor's latest seq.
            let mut latest: BTreeMap<u32, u64> = BTreeMap::new();
            let mut counted: BTreeMap<u64, u32> = BTreeMap::new();
            let mut sent_below = 0u64;
            for (i, block) in input.iter().enumerate() {
                let sensor = block[0].sensor;
                p.observe_run(sensor, block, LEVEL);
                latest.insert(sensor, block.last().unwrap().seq);
                let mut out = Vec::new();
                p.flush(3, false, |s| out.push(s));
                let out = flatten(out);
                let low = latest.values().copied().min().unwrap();
                for s in &out {
                    match *s {
                        Signal::Count { seq, in_alarm } => {
                            if seq < low {
                                // Below the watermark: no sensor seen has a reading at or
                                // below the seq still to come.
                                let later = input[i + 1..].iter().flatten();
                                assert!(
                                    later
                                        .filter(|r| latest.contains_key(&r.sensor))
                                        .all(|r| r.seq > seq),
                                    "seed {seed}: seq {seq} sent early"
                                );
                            } else {
                                // A sensor first seen late took the watermark down: what it
                                // adds below what was already sent goes out at once (the
                                // leak detector closes nothing before every sensor is seen).
                                assert!(seq < sent_below, "seed {seed}: seq {seq} sent early");
                            }
                            *counted.entry(seq).or_insert(0) += in_alarm;
                        }
                        Signal::Mark {
                            task,
                            sensors,
                            from,
                            low: marked,
                            blind,
                        } => {
                            assert_eq!((task, blind), (3, false));
                            assert_eq!(sensors as usize, latest.len(), "seed {seed}");
                            assert_eq!(
                                marked, low,
                                "seed {seed}: the mark is the lowest latest seq"
                            );
                            assert_eq!(from, sent_below, "seed {seed}");
                            sent_below = marked.max(sent_below);
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                // Counts come before the mark, ascending.
                let seqs: Vec<u64> = out
                    .iter()
                    .filter_map(|s| match s {
                        Signal::Count { seq, .. } => Some(*seq),
                        _ => None,
                    })
                    .collect();
                assert!(
                    seqs.windows(2).all(|w| w[0] < w[1]),
                    "seed {seed}: {seqs:?}"
                );
                assert!(out
                    .iter()
                    .rev()
                    .skip(1)
                    .all(|s| matches!(s, Signal::Count { .. })));
            }
            let mut out = Vec::new();
            p.finish(3, false, |s| out.push(s));
            for s in flatten(out) {
                if let Signal::Count { seq, in_alarm } = s {
                    *counted.entry(seq).or_insert(0) += in_alarm;
                }
            }
            // Every seq with a reading was sent, and its counts add up to the sensors in alarm.
            let mut expected: BTreeMap<u64, u32> = BTreeMap::new();
            for r in input.iter().flatten() {
                *expected.entry(r.seq).or_insert(0) += u32::from(r.value >= LEVEL);
            }
            assert_eq!(counted, expected, "seed {seed}");
        }
    }
}
