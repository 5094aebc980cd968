//! The leak detector: counts sensors in alarm per seq and closes a seq once every sensor has
//! passed it, so its memory is bounded by how far the sensors' streams are skewed, not by the
//! input's length.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError};

use super::types::{Event, Signal};

/// Emits [`Event::Leak`] when more than half of `sensors` are in alarm at the same seq for
/// more than `threshold` consecutive seqs (the seqs that occur in the input, in order).
/// Runs as one task (global grouping).
#[derive(Debug, Clone)]
pub struct LeakBolt {
    sensors: u32,
    /// Distinct sensors whose streams must all pass a seq before it closes (at least
    /// `sensors`; more when the input holds more sensor ids than the majority is taken over).
    population: u32,
    threshold: u32,
    /// Sensors in alarm per seq not yet closed.
    open: BTreeMap<u64, u32>,
    /// Each sensor's latest seq.
    last: FxHashMap<u32, u64>,
    /// How many sensors have each latest seq; its first key is the low watermark.
    latest: BTreeMap<u64, u32>,
    /// Consecutive closed seqs with a majority in alarm.
    run: u32,
}

impl LeakBolt {
    /// A detector for `sensors` sensors with alarm threshold `threshold`.
    pub fn new(sensors: u32, threshold: u32) -> Self {
        LeakBolt {
            sensors,
            population: sensors,
            threshold,
            open: BTreeMap::new(),
            last: FxHashMap::default(),
            latest: BTreeMap::new(),
            run: 0,
        }
    }

    /// Waits for `population` distinct sensors (when the input is known to hold more sensor ids
    /// than `sensors`) before closing any seq.
    pub fn with_population(mut self, population: u32) -> Self {
        self.population = population.max(self.sensors);
        self
    }

    /// Seqs below the lowest latest seq of all sensors can receive no more readings.
    fn watermark(&self) -> Option<u64> {
        if (self.last.len() as u64) < u64::from(self.population) {
            return None;
        }
        self.latest.keys().next().copied()
    }

    /// Seqs received but not yet closed: bounded by the skew between the sensors' streams.
    pub fn open_seqs(&self) -> usize {
        self.open.len()
    }

    /// Takes one reading's status; calls `emit` for each leak it completes.
    pub fn observe(&mut self, sensor: u32, seq: u64, in_alarm: bool, emit: impl FnMut(Event)) {
        *self.open.entry(seq).or_insert(0) += u32::from(in_alarm);
        if let Some(previous) = self.last.insert(sensor, seq) {
            if let Some(count) = self.latest.get_mut(&previous) {
                *count -= 1;
                if *count == 0 {
                    self.latest.remove(&previous);
                }
            }
        }
        *self.latest.entry(seq).or_insert(0) += 1;
        if let Some(bound) = self.watermark() {
            self.close_below(Some(bound), emit);
        }
    }

    /// Closes every open seq (the input ended).
    pub fn close_all(&mut self, emit: impl FnMut(Event)) {
        self.close_below(None, emit);
    }

    fn close_below(&mut self, bound: Option<u64>, mut emit: impl FnMut(Event)) {
        while let Some((&seq, &in_alarm)) = self.open.first_key_value() {
            if bound.is_some_and(|b| seq >= b) {
                break;
            }
            self.open.remove(&seq);
            if 2 * u64::from(in_alarm) > u64::from(self.sensors) {
                self.run += 1;
                if self.run == self.threshold.saturating_add(1) {
                    emit(Event::Leak {
                        seq,
                        sensors_in_alarm: in_alarm,
                        sensors: self.sensors,
                    });
                }
            } else {
                self.run = 0;
            }
        }
    }
}

impl Bolt for LeakBolt {
    type Input = Signal;
    type Output = Signal;

    fn execute(
        &mut self,
        s: Signal,
        out: &mut BoltCollector<'_, Signal>,
    ) -> Result<(), ComponentError> {
        let Signal::Status {
            sensor,
            seq,
            in_alarm,
        } = s
        else {
            return Ok(());
        };
        self.observe(sensor, seq, in_alarm, |e| out.emit(Signal::Event(e)));
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, Signal>) -> Result<(), ComponentError> {
        self.close_all(|e| out.emit(Signal::Event(e)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_by_the_skew_not_the_input() {
        let sensors = 8;
        let mut leak = LeakBolt::new(sensors, 3);
        let mut leaks = Vec::new();
        let mut most_open = 0;
        for seq in 0..100_000u64 {
            // Sensor s runs s seqs behind sensor 0: a skew of up to 7 seqs.
            for s in 0..sensors {
                if seq >= u64::from(s) {
                    let q = seq - u64::from(s);
                    leak.observe(s, q, q % 10 < 5, |e| leaks.push(e));
                }
            }
            most_open = most_open.max(leak.open_seqs());
        }
        assert!(most_open <= 9, "open seqs grew to {most_open}");
        leak.close_all(|e| leaks.push(e));
        assert_eq!(leak.open_seqs(), 0);
        // Seqs 0..5 of every 10 have all 8 sensors in alarm: one leak per decade, at its 4th seq.
        assert_eq!(leaks.len(), 100_000 / 10);
        assert_eq!(
            leaks[0],
            Event::Leak {
                seq: 3,
                sensors_in_alarm: 8,
                sensors: 8
            }
        );
    }

    #[test]
    fn exactly_half_is_not_a_majority() {
        let mut leak = LeakBolt::new(4, 1);
        let mut leaks = Vec::new();
        for seq in 0..10u64 {
            for s in 0..4u32 {
                leak.observe(s, seq, s < 2, |e| leaks.push(e));
            }
        }
        leak.close_all(|e| leaks.push(e));
        assert!(leaks.is_empty());
    }
}
