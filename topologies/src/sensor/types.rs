//! The sensor pipeline's tuples and output events.

use serde::{Deserialize, Serialize};

/// One sensor reading (the CSV columns `sensor,seq,value`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The sensor's id.
    pub sensor: u32,
    /// The reading's sequence number; each sensor's readings ascend.
    pub seq: u64,
    /// The measured value; in alarm when `value >= level`.
    pub value: f64,
}

/// What the pipeline reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Event {
    /// A sensor had more than K consecutive readings in alarm; emitted at the reading where the
    /// run first exceeded K.
    SensorAlarm {
        /// The sensor.
        sensor: u32,
        /// The seq where the run first exceeded K.
        seq: u64,
        /// The run's length at that seq (K + 1).
        consecutive: u32,
    },
    /// More than half of the sensors were in alarm at the same seq for more than K consecutive
    /// seqs; emitted at the seq where that first exceeded K.
    Leak {
        /// The seq where the run first exceeded K.
        seq: u64,
        /// Sensors in alarm at that seq.
        sensors_in_alarm: u32,
        /// Sensors in the pipeline.
        sensors: u32,
    },
}

impl Event {
    /// The event as one line of JSON, exactly as the `squall` command's contract spells it.
    ///
    /// ```
    /// use squall_topologies::sensor::Event;
    /// let e = Event::SensorAlarm { sensor: 3, seq: 17, consecutive: 4 };
    /// assert_eq!(e.to_json(), r#"{"event":"sensor_alarm","sensor":3,"seq":17,"consecutive":4}"#);
    /// ```
    pub fn to_json(&self) -> String {
        match self {
            Event::SensorAlarm {
                sensor,
                seq,
                consecutive,
            } => format!(
                r#"{{"event":"sensor_alarm","sensor":{sensor},"seq":{seq},"consecutive":{consecutive}}}"#
            ),
            Event::Leak {
                seq,
                sensors_in_alarm,
                sensors,
            } => format!(
                r#"{{"event":"leak","seq":{seq},"sensors_in_alarm":{sensors_in_alarm},"sensors":{sensors}}}"#
            ),
        }
    }
}

/// Seqs one [`Signal::Counts`] carries at most.
pub const COUNTS: usize = 16;

/// What flows from the alarm bolt: per-reading status (to the leak detector, on stream
/// `status`) and events (to the sink, on stream `events`). One type, so the leak detector and
/// the sink can share the sink's input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Signal {
    /// Whether `sensor` was in alarm at `seq`.
    Status {
        /// The sensor.
        sensor: u32,
        /// The reading's seq.
        seq: u64,
        /// `value >= level`.
        in_alarm: bool,
        /// Statuses of this sensor before this one may be missing: the alarm task restarted
        /// without its state (at-most-once) and this is the first reading of the sensor it
        /// saw, so the reading that crashed it (or statuses not yet sent) may be lost.
        after_gap: bool,
    },
    /// An event for the output.
    Event(Event),
    /// Sent by an alarm task that restarted without its state (at-most-once) when its input
    /// ends: the last status of a sensor it has not seen since may be lost, with no later
    /// status of that sensor to say so.
    Lost,
    /// Exactly-once and at-most-once, in place of statuses: of one alarm task's sensors,
    /// `in_alarm` were in alarm at `seq` (more may follow for the same seq from a sensor the
    /// task first sees late; counts add up).
    Count {
        /// The seq.
        seq: u64,
        /// Sensors of the task in alarm at `seq`.
        in_alarm: u32,
    },
    /// [`Signal::Count`]s of consecutive seqs in one tuple: `in_alarm[i]` for seq `first + i`,
    /// `i < len` (every one of those seqs has a reading). An alarm task sends the counts of a
    /// block's seqs this way, so the leak detector's input is not one tuple per seq.
    Counts {
        /// The first seq.
        first: u64,
        /// How many seqs (at most [`COUNTS`]).
        len: u8,
        /// Sensors of the task in alarm at each seq.
        in_alarm: [u32; COUNTS],
    },
    /// Follows an alarm task's counts: it has seen `sensors` sensors, and every one of them has
    /// passed every seq below `low`, whose counts it has all sent.
    Mark {
        /// The alarm task's index.
        task: u32,
        /// Distinct sensors the task has seen.
        sensors: u32,
        /// The counts of the seqs below it were sent before this mark's counts.
        from: u64,
        /// Every seq below it is complete from this task (lower than the previous mark's when
        /// the task first saw a sensor below that).
        low: u64,
        /// The task restarted without its state (at-most-once): counts it had not yet sent
        /// were lost.
        blind: bool,
    },
}

/// Consecutive readings of one sensor in ascending seq order, carried as one tuple from the
/// spout to the alarm bolt: the engine's per-tuple cost (routing, queueing, acking) is paid
/// once per block instead of once per reading, and the alarm bolt walks the block in a tight
/// loop. A block is the unit of replay (at-least-once) and of loss (at-most-once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The sensor every reading of the block belongs to (the fields grouping's key).
    pub sensor: u32,
    /// The readings, each with `sensor` as its sensor, seqs ascending.
    pub readings: Vec<Reading>,
}

/// What the alarm bolt takes: one reading or a block of one sensor's readings.
pub trait Readings: squall::Tuple {
    /// The sensor of every reading (the fields grouping's key).
    fn sensor(&self) -> u32;
    /// The readings in order.
    fn readings(&self) -> &[Reading];
}

impl Readings for Reading {
    fn sensor(&self) -> u32 {
        self.sensor
    }
    fn readings(&self) -> &[Reading] {
        std::slice::from_ref(self)
    }
}

impl Readings for Block {
    fn sensor(&self) -> u32 {
        self.sensor
    }
    fn readings(&self) -> &[Reading] {
        &self.readings
    }
}
