//! Event-time windows over CSV files: `squall run window-count` and `squall run window-join`.
//!
//! ```text
//! window-count:  events (CSV, watermarks) --fields(key)--> window (sliding counts) --global--> sink
//! window-join:   left (CSV, watermarks)  --fields(key)--\
//!                right (CSV, watermarks) --fields(key)--> join (tumbling) --global--> sink
//! ```
//!
//! Each spout task generates watermarks (its highest timestamp minus the lag); the window
//! bolts fire on the minimum over their inputs, hand late tuples to the sink's late lines,
//! and the sink writes the sorted results when the input ends. Windows and the sink's results
//! are checkpointed state, so under exactly-once the output is exact under failures.

mod count;
mod join;
mod sink;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use squall::window::{Watermarks, WindowSpec, Windowed};
use squall::{BuildError, Group, Topology, TopologyBuilder};
use squall_connectors::file::{CsvSpout, Malformed};

pub use count::CountPerKey;
pub use join::{JoinPerKey, Side};
pub use sink::{Lines, WindowOutput, WindowSink};

/// One line of a `window-count` input: `ts_ms,key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event time in milliseconds.
    pub ts_ms: u64,
    /// The key counted.
    pub key: String,
}

/// One line of a `window-join` input: `ts_ms,key,value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRow {
    /// Event time in milliseconds.
    pub ts_ms: u64,
    /// The join key.
    pub key: String,
    /// The value paired.
    pub value: String,
}

/// What the window bolts send the sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowResult {
    /// The output lines of one window and key, replacing any sent before for them (a late
    /// update sends them all again).
    Group {
        /// The window's start (ms).
        start: u64,
        /// The key.
        key: String,
        /// The output lines.
        lines: Vec<String>,
    },
    /// The input line of a late tuple.
    Late(String),
}

/// Event-time settings shared by both jobs, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    /// Window size.
    pub window_ms: u64,
    /// Window slide (the size for tumbling windows).
    pub slide_ms: u64,
    /// Bounded out-of-orderness of the watermark.
    pub lag_ms: u64,
    /// Allowed lateness.
    pub lateness_ms: u64,
}

impl EventTime {
    fn spec<T>(&self, ts: impl Fn(&T) -> u64 + Send + Sync + 'static) -> WindowSpec<T> {
        WindowSpec::sliding(
            Duration::from_millis(self.window_ms),
            Duration::from_millis(self.slide_ms),
        )
        .event_time(ts)
        .lateness(Duration::from_millis(self.lateness_ms))
    }
}

/// `squall run window-count`: counts per key in sliding event-time windows.
#[derive(Debug, Clone)]
pub struct WindowCountJob {
    /// The `ts_ms,key` CSV file.
    pub input: PathBuf,
    /// Windows, lag and lateness.
    pub time: EventTime,
    /// Tasks of the window bolt.
    pub parallelism: usize,
    /// Where the counts and the late lines go.
    pub output: WindowOutput,
}

impl WindowCountJob {
    /// Builds the topology; `malformed` counts the input lines skipped.
    pub fn topology(&self, malformed: Malformed) -> Result<Topology, BuildError> {
        let mut b = TopologyBuilder::new("window-count");
        let spout = CsvSpout::<Event>::new(&self.input).with_malformed(malformed);
        let events = b.set_spout("events", 1, move || spout.clone());
        b.set_watermarks(
            &events,
            Watermarks::bounded(self.time.lag_ms, |e: &Event| e.ts_ms),
        );
        let spec = self.time.spec(|e: &Event| e.ts_ms);
        let counts = b
            .set_bolt("window", self.parallelism, move || {
                Windowed::new(CountPerKey, spec.clone())
            })
            .fields_grouping(&events, |e: &Event| e.key.clone())
            .stream();
        let output = self.output.clone();
        b.set_bolt("sink", 1, move || WindowSink::new(output.clone(), false))
            .global_grouping(&counts);
        b.build()
    }
}

/// `squall run window-join`: an inner join of two inputs on the key per tumbling window.
#[derive(Debug, Clone)]
pub struct WindowJoinJob {
    /// The left `ts_ms,key,value` CSV file.
    pub left: PathBuf,
    /// The right one.
    pub right: PathBuf,
    /// Windows (tumbling: slide = size), lag and lateness.
    pub time: EventTime,
    /// Tasks of the join bolt.
    pub parallelism: usize,
    /// Where the pairs and the late lines go.
    pub output: WindowOutput,
}

impl WindowJoinJob {
    /// Builds the topology; `malformed` counts the input lines skipped.
    pub fn topology(&self, malformed: Malformed) -> Result<Topology, BuildError> {
        let mut b = TopologyBuilder::new("window-join");
        let mut sides = Vec::new();
        for (side, path) in [(Side::Left, &self.left), (Side::Right, &self.right)] {
            let spout = CsvSpout::<JoinRow>::new(path).with_malformed(malformed.clone());
            let rows = b.set_spout(side.name(), 1, move || spout.clone());
            b.set_watermarks(
                &rows,
                Watermarks::bounded(self.time.lag_ms, |r: &JoinRow| r.ts_ms),
            );
            sides.push((side, rows));
        }
        let spec = self.time.spec(|(_, r): &(Side, JoinRow)| r.ts_ms);
        let mut join = b.set_bolt("join", self.parallelism, move || {
            Windowed::new(JoinPerKey, spec.clone())
        });
        // Both files feed the join directly; each row becomes (side, row) as it arrives.
        for (side, rows) in &sides {
            let side = *side;
            let key = Group::fields(|r: &JoinRow| r.key.clone());
            join = join.input_with(rows, key, move |r| (side, r));
        }
        let pairs = join.stream();
        let output = self.output.clone();
        b.set_bolt("sink", 1, move || WindowSink::new(output.clone(), true))
            .global_grouping(&pairs);
        b.build()
    }
}
