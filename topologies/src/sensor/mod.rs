//! The sensor alarm pipeline.
//!
//! ```text
//! readings (simulated or CSV) --fields(sensor)--> alarm --"events"--------global--> sink
//!                                                       \--"status"--global--> leak --/
//! ```
//!
//! - `alarm` keeps each sensor's run of consecutive readings in alarm (`value >= level`) and
//!   emits a sensor alarm when a run first exceeds the threshold K.
//! - `leak` counts the sensors in alarm at each seq, closes a seq once every sensor has passed
//!   it, and emits a leak when more than half of the sensors were in alarm for more than K
//!   consecutive seqs.

mod alarm;
mod blocks;
mod leak;
mod partial;
mod record;
mod repeats;
mod simulate;
mod sink;
mod types;
mod window;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashSet;

use squall::{
    Bolt, BuildError, Config, Guarantee, Stream, Topology, TopologyBuilder, DEFAULT_STREAM,
};
use squall_connectors::broker::BrokerSpout;
use squall_connectors::file::{distinct_keys, CsvSpout, FileError, Malformed};

use crate::bench::{PacedSpout, Pacing, SensorReadings};

pub use alarm::{AlarmBolt, EVENTS_STREAM, READINGS, STATUS_STREAM};
pub use blocks::{SimulatedBlocks, BLOCK_SEQS};
pub use leak::LeakBolt;
pub use record::EventRecord;
pub use simulate::{SimulatedSensors, Simulation};
pub use sink::{EventCounts, EventLog, EventOutput, EventSink, LEAKS, SENSOR_ALARMS};
pub use types::{Block, Event, Reading, Readings, Signal};

/// Where readings come from.
#[derive(Debug, Clone)]
pub enum ReadingSource {
    /// Seeded simulated sensors.
    Simulated(Simulation),
    /// A CSV file with header `sensor,seq,value`; malformed lines are reported and skipped.
    Csv {
        /// The file.
        path: PathBuf,
        /// Counts the skipped lines.
        malformed: Malformed,
    },
    /// Simulated sensors (`samples` ignored) emitting at a fixed rate, one reading per sensor
    /// in turn, from one spout task (`squall bench`).
    Paced(Simulation, Arc<Pacing>),
    /// A broker (MQTT, NATS, Redis): JSON or MessagePack readings, unbounded unless the spout
    /// has an idle exit or a record limit. The leak detector's population is `sensors`.
    Live(BrokerSpout<Reading>),
}

/// How to build the pipeline.
#[derive(Debug, Clone)]
pub struct SensorAlarm {
    /// Where readings come from.
    pub source: ReadingSource,
    /// N, the number of sensors the leak majority is taken over.
    pub sensors: u32,
    /// K: alarms fire when a run exceeds it.
    pub threshold: u32,
    /// A reading is in alarm when `value >= level`.
    pub level: f64,
    /// Tasks of the alarm bolt (and of the simulated spout, at most one per sensor).
    pub parallelism: usize,
    /// Where events go.
    pub output: EventOutput,
}

/// Readings a batch of [`Block`]s carries, about: [`SensorAlarm::tune`] sizes batches of
/// blocks to it.
pub const READINGS_PER_BATCH: usize = 4096;

impl SensorAlarm {
    /// Fits `config` to the tuples this pipeline sends. Simulated readings travel as blocks of
    /// [`BLOCK_SEQS`] readings (except under at-least-once, where a block holds one), so a
    /// batch of `config.batch_size` blocks would carry 64 times the readings a batch was sized
    /// for: milliseconds of work per batch, and a checkpoint barrier queued behind seconds of
    /// it. Batches of blocks are cut to about [`READINGS_PER_BATCH`] readings, so a barrier
    /// reaches every task within a few batches' work and a recovery under exactly-once goes
    /// back that little, not to the start of the input.
    pub fn tune(&self, config: &mut Config) {
        let blocks = matches!(self.source, ReadingSource::Simulated(_))
            && config.guarantee != Guarantee::AtLeastOnce;
        if blocks {
            let per_block = usize::try_from(BLOCK_SEQS).unwrap_or(1).max(1);
            config.batch_size = config
                .batch_size
                .min((READINGS_PER_BATCH / per_block).max(1));
        }
    }

    /// Builds the topology; `counts` receives the number of events of each kind and of the
    /// readings executed. Simulated sensors travel as [`Block`]s (one tuple per
    /// [`BLOCK_SEQS`] readings of a sensor); the other sources one reading per tuple.
    pub fn topology(&self, counts: Arc<EventCounts>) -> Result<Topology, BuildError> {
        let (threshold, level) = (self.threshold, self.level);
        let executed = counts.readings_executed();
        match &self.source {
            ReadingSource::Simulated(sim) => {
                let sim = *sim;
                let mut b = TopologyBuilder::new("sensor-alarm");
                let tasks = self.parallelism.min(sim.sensors.max(1) as usize).max(1);
                let readings = b.set_spout("readings", tasks, move || SimulatedBlocks::new(sim));
                self.downstream(b, &readings, counts, move || {
                    AlarmBolt::blocks(threshold, level).counting(executed.clone())
                })
            }
            _ => self.topology_with(counts, move || {
                AlarmBolt::new(threshold, level).counting(executed.clone())
            }),
        }
    }

    /// Builds the topology with one reading per tuple and `alarm` making the alarm bolt's
    /// instances (a benchmark wraps [`AlarmBolt`] to inject a stall; a test compares this
    /// path with the blocks of [`SensorAlarm::topology`]).
    pub fn topology_with<A>(
        &self,
        counts: Arc<EventCounts>,
        alarm: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Topology, BuildError>
    where
        A: Bolt<Input = Reading, Output = Signal>,
    {
        let mut b = TopologyBuilder::new("sensor-alarm");
        let readings = match &self.source {
            ReadingSource::Simulated(sim) => {
                let sim = *sim;
                let tasks = self.parallelism.min(sim.sensors.max(1) as usize).max(1);
                b.set_spout("readings", tasks, move || SimulatedSensors::new(sim))
            }
            ReadingSource::Csv { path, malformed } => {
                let (path, malformed) = (path.clone(), malformed.clone());
                let admit = admit_sensors(self.sensors);
                // Each sensor's seqs must ascend: a violation is reported and skipped here,
                // where the file is read once and in order, so every guarantee sees the same
                // readings (the bolts could not tell a violation from a replay).
                b.set_spout("readings", 1, move || {
                    CsvSpout::<Reading>::new(path.clone())
                        .with_malformed(malformed.clone())
                        .with_check(admit.clone())
                        .with_ascending(("sensor", "seq"), |r: &Reading| {
                            (u64::from(r.sensor), r.seq)
                        })
                })
            }
            ReadingSource::Paced(sim, pacing) => {
                let (sim, pacing) = (*sim, pacing.clone());
                b.set_spout("readings", 1, move || {
                    PacedSpout::new(SensorReadings::new(sim), pacing.clone())
                })
            }
            ReadingSource::Live(spout) => {
                let spout = spout.clone();
                b.set_spout("readings", 1, move || spout.clone())
            }
        };
        self.downstream(b, &readings, counts, alarm)
    }

    /// Everything after the spout: alarm, leak and sink.
    fn downstream<I, A>(
        &self,
        mut b: TopologyBuilder,
        readings: &Stream<I>,
        counts: Arc<EventCounts>,
        alarm: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Topology, BuildError>
    where
        I: Readings,
        A: Bolt<Input = I, Output = Signal>,
    {
        let (threshold, sensors) = (self.threshold, self.sensors);
        // Every sensor stream must pass a seq before the leak detector closes it, so it must
        // know how many streams there are, which may be more than N.
        let population = match &self.source {
            ReadingSource::Simulated(sim) | ReadingSource::Paced(sim, _) => sim.sensors,
            // The spout admits at most N distinct sensors.
            ReadingSource::Csv { .. } => sensors,
            ReadingSource::Live(_) => sensors,
        };
        let mut alarm = b
            .set_bolt("alarm", self.parallelism, alarm)
            .fields_grouping(readings, |r: &I| r.sensor());
        let events = alarm.declare_stream(EVENTS_STREAM);
        let status = alarm.declare_stream(STATUS_STREAM);
        let leaks = b
            .set_bolt("leak", 1, move || {
                LeakBolt::new(sensors, threshold).with_population(population)
            })
            .global_grouping(&status)
            .stream();
        // One log for every instance of the sink, so a restarted one appends to the same
        // output and knows what was committed.
        let log = EventLog::new(self.output.clone(), counts);
        b.set_bolt("sink", 1, move || EventSink::new(log.clone()))
            .global_grouping(&events)
            .global_grouping(&leaks);
        debug_assert_eq!(leaks.name(), DEFAULT_STREAM);
        b.build()
    }
}

/// A check admitting the readings of the first `sensors` distinct sensors in input order and
/// refusing the others, so that M never exceeds N. Input order is file order (one spout task),
/// so the same lines are refused in every run, and on a replay after a rollback: the sensors
/// admitted are shared by every instance of the spout. Once N sensors are admitted the set is
/// frozen and read without a lock.
fn admit_sensors(sensors: u32) -> impl Fn(&Reading) -> Result<(), String> + Clone {
    let growing = Arc::new(Mutex::new(HashSet::new()));
    let frozen: Arc<OnceLock<FxHashSet<u32>>> = Arc::new(OnceLock::new());
    let refuse = move |sensor: u32| {
        Err(format!(
            "sensor {sensor} is not among the first {sensors} distinct sensors of the input (--sensors {sensors})"
        ))
    };
    move |r: &Reading| {
        if let Some(admitted) = frozen.get() {
            return if admitted.contains(&r.sensor) {
                Ok(())
            } else {
                refuse(r.sensor)
            };
        }
        let mut admitted = growing
            .lock()
            .map_err(|_| "the sensor set's lock is poisoned".to_string())?;
        if admitted.contains(&r.sensor) || admitted.len() < sensors as usize {
            admitted.insert(r.sensor);
            if admitted.len() == sensors as usize {
                let _ = frozen.set(admitted.iter().copied().collect());
            }
            return Ok(());
        }
        refuse(r.sensor)
    }
}

/// The number of distinct sensors in a readings CSV (N when `--sensors` is not given): a
/// parallel scan of the `sensor` column on every core (see [`distinct_keys`]), which parses a
/// whole line only when its sensor is new to the scanning thread. Lines that do not parse are
/// not sensors (the spout reports them). `-` reads standard input (which the spout then cannot
/// read again). Fails as the spout would on a file it cannot open or whose header is not
/// `sensor,seq,value`.
pub fn distinct_sensors(path: &Path) -> Result<u32, FileError> {
    let n = distinct_keys::<Reading>(path, "sensor", |r| u64::from(r.sensor))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}
