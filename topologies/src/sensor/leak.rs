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
            threshold,
            open: BTreeMap::new(),
            last: FxHashMap::default(),
            latest: BTreeMap::new(),
            run: 0,
        }
    }

    /// Seqs below the lowest latest seq of all sensors can receive no more readings.
    fn watermark(&self) -> Option<u64> {
        if (self.last.len() as u64) < u64::from(self.sensors) {
            return None;
        }
        self.latest.keys().next().copied()
    }

    fn close_below(&mut self, bound: Option<u64>, out: &mut BoltCollector<'_, Signal>) {
        while let Some((&seq, &in_alarm)) = self.open.first_key_value() {
            if bound.is_some_and(|b| seq >= b) {
                break;
            }
            self.open.remove(&seq);
            if 2 * u64::from(in_alarm) > u64::from(self.sensors) {
                self.run += 1;
                if self.run == self.threshold.saturating_add(1) {
                    out.emit(Signal::Event(Event::Leak {
                        seq,
                        sensors_in_alarm: in_alarm,
                        sensors: self.sensors,
                    }));
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
            self.close_below(Some(bound), out);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, Signal>) -> Result<(), ComponentError> {
        self.close_below(None, out);
        Ok(())
    }
}
