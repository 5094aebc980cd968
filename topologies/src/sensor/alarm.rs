//! Per-sensor runs of readings in alarm (fields grouping on the sensor, so each sensor's state
//! lives in exactly one task and sees its readings in order).

use rustc_hash::FxHashMap;
use squall::{Bolt, BoltCollector, ComponentError};

use super::types::{Event, Reading, Signal};

/// Stream carrying [`Signal::Status`] to the leak detector.
pub const STATUS_STREAM: &str = "status";
/// Stream carrying [`Signal::Event`] to the sink.
pub const EVENTS_STREAM: &str = "events";

/// Counts each sensor's consecutive readings in alarm and emits a
/// [`Event::SensorAlarm`] when a run first exceeds `threshold`.
#[derive(Debug, Clone)]
pub struct AlarmBolt {
    threshold: u32,
    level: f64,
    runs: FxHashMap<u32, u32>,
}

impl AlarmBolt {
    /// A reading is in alarm when `value >= level`; an alarm fires when more than `threshold`
    /// consecutive readings are.
    pub fn new(threshold: u32, level: f64) -> Self {
        AlarmBolt {
            threshold,
            level,
            runs: FxHashMap::default(),
        }
    }
}

impl Bolt for AlarmBolt {
    type Input = Reading;
    type Output = Signal;

    fn execute(
        &mut self,
        r: Reading,
        out: &mut BoltCollector<'_, Signal>,
    ) -> Result<(), ComponentError> {
        let in_alarm = r.value >= self.level;
        let run = self.runs.entry(r.sensor).or_insert(0);
        if in_alarm {
            *run = run.saturating_add(1);
            if *run == self.threshold.saturating_add(1) {
                out.emit_to(
                    EVENTS_STREAM,
                    Signal::Event(Event::SensorAlarm {
                        sensor: r.sensor,
                        seq: r.seq,
                        consecutive: *run,
                    }),
                );
            }
        } else {
            *run = 0;
        }
        out.emit_to(
            STATUS_STREAM,
            Signal::Status {
                sensor: r.sensor,
                seq: r.seq,
                in_alarm,
            },
        );
        Ok(())
    }
}
