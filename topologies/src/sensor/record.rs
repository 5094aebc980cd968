//! Events as broker messages: the same JSON objects as the JSON Lines output, and an identity
//! for de-duplicating sinks.

use serde::{Deserialize, Serialize};

use super::types::Event;

/// An [`Event`] in its wire form: `{"event":"sensor_alarm","sensor":S,"seq":Q,"consecutive":C}`
/// or `{"event":"leak","seq":Q,"sensors_in_alarm":M,"sensors":N}` (field for field what
/// [`Event::to_json`] writes; in MessagePack, the same map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventRecord {
    /// See [`Event::SensorAlarm`].
    SensorAlarm {
        /// The sensor.
        sensor: u32,
        /// The seq where the run first exceeded K.
        seq: u64,
        /// The run's length at that seq.
        consecutive: u32,
    },
    /// See [`Event::Leak`].
    Leak {
        /// The seq where the run first exceeded K.
        seq: u64,
        /// Sensors in alarm at that seq.
        sensors_in_alarm: u32,
        /// Sensors in the pipeline.
        sensors: u32,
    },
}

impl EventRecord {
    /// What makes the event unique within a run (at most one alarm per sensor per seq, one leak
    /// per seq): the JetStream message id and PostgreSQL key, so a replayed event is stored once.
    ///
    /// ```
    /// use squall_topologies::sensor::{Event, EventRecord};
    /// let e = EventRecord::from(Event::Leak { seq: 9, sensors_in_alarm: 5, sensors: 8 });
    /// assert_eq!(e.identity(), "leak:9");
    /// ```
    pub fn identity(&self) -> String {
        match self {
            EventRecord::SensorAlarm { sensor, seq, .. } => format!("sensor_alarm:{sensor}:{seq}"),
            EventRecord::Leak { seq, .. } => format!("leak:{seq}"),
        }
    }
}

impl From<Event> for EventRecord {
    fn from(e: Event) -> Self {
        match e {
            Event::SensorAlarm {
                sensor,
                seq,
                consecutive,
            } => EventRecord::SensorAlarm {
                sensor,
                seq,
                consecutive,
            },
            Event::Leak {
                seq,
                sensors_in_alarm,
                sensors,
            } => EventRecord::Leak {
                seq,
                sensors_in_alarm,
                sensors,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_json_lines_output() {
        for e in [
            Event::SensorAlarm {
                sensor: 3,
                seq: 17,
                consecutive: 4,
            },
            Event::Leak {
                seq: 5,
                sensors_in_alarm: 9,
                sensors: 16,
            },
        ] {
            let json = serde_json::to_string(&EventRecord::from(e)).unwrap();
            assert_eq!(json, e.to_json());
        }
    }
}
