//! What event time and ticks cost the sensor alarm demo's pipeline.
//!
//! `sensor_time [--mode plain|timed] [--samples N]` runs the demo's topology (32 simulated
//! sensors x N readings, 45 % in alarm, readings -> alarm (2 tasks) -> leak -> sink, events
//! discarded). `timed` adds what a windowed pipeline pays: the spout generates watermarks on
//! the readings' seq (so every batch carries one and every bolt computes and passes on its
//! input watermark), and the alarm bolt asks for a tick every 10 ms. Prints the event counts
//! on stdout (both modes must agree) and `elapsed_s readings_per_s` on stderr.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use squall::window::Watermarks;
use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, State, TaskContext, TopologyBuilder,
};
use squall_topologies::sensor::{
    AlarmBolt, EventCounts, EventLog, EventOutput, EventSink, LeakBolt, Reading, Signal,
    SimulatedSensors, Simulation, EVENTS_STREAM, STATUS_STREAM,
};

/// The alarm bolt, asking for a tick every 10 ms (a no-op) when `.1`, everything else passed
/// through (the same wrapper in both modes, so only the ticks differ).
struct Ticked(AlarmBolt, bool);

impl Bolt for Ticked {
    type Input = Reading;
    type Output = Signal;
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.0.prepare(ctx)
    }
    fn execute(
        &mut self,
        r: Reading,
        out: &mut BoltCollector<'_, Signal>,
    ) -> Result<(), ComponentError> {
        self.0.execute(r, out)
    }
    fn finish(&mut self, out: &mut BoltCollector<'_, Signal>) -> Result<(), ComponentError> {
        self.0.finish(out)
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        self.0.snapshot()
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.0.restore(state)
    }
    fn tick_interval(&self) -> Option<Duration> {
        self.1.then_some(Duration::from_millis(10))
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let timed = match flag("--mode").as_deref() {
        None | Some("plain") => false,
        Some("timed") => true,
        Some(m) => bail!("unknown mode {m}"),
    };
    let samples: u64 = flag("--samples")
        .and_then(|s| s.parse().ok())
        .unwrap_or(500_000);
    let sim = Simulation {
        sensors: 32,
        samples,
        faulty_pct: 45.0,
        level: 1.0,
        seed: 42,
    };
    let (threshold, level, parallelism) = (3, 1.0, 2);
    let counts = Arc::new(EventCounts::default());
    let mut b = TopologyBuilder::new("sensor-alarm");
    let readings = b.set_spout("readings", parallelism, move || SimulatedSensors::new(sim));
    if timed {
        b.set_watermarks(
            &readings,
            Watermarks::bounded(0, |r: &Reading| r.seq).idle_after(Duration::from_secs(1)),
        );
    }
    let mut alarm = b
        .set_bolt("alarm", parallelism, move || {
            Ticked(AlarmBolt::new(threshold, level), timed)
        })
        .fields_grouping(&readings, |r: &Reading| r.sensor);
    let events = alarm.declare_stream(EVENTS_STREAM);
    let status = alarm.declare_stream(STATUS_STREAM);
    let leaks = b
        .set_bolt("leak", 1, move || {
            LeakBolt::new(32, threshold).with_population(32)
        })
        .global_grouping(&status)
        .stream();
    let log = EventLog::new(EventOutput::Discard, counts.clone());
    b.set_bolt("sink", 1, move || EventSink::new(log.clone()))
        .global_grouping(&events)
        .global_grouping(&leaks);
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = squall::Guarantee::ExactlyOnce;
    let start = Instant::now();
    LocalCluster::new(config).run(b.build()?)?;
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "sensor_alarms={} leaks={}",
        counts.sensor_alarms.load(Ordering::Relaxed),
        counts.leaks.load(Ordering::Relaxed)
    );
    eprintln!("{elapsed:.3} {:.0}", (32 * samples) as f64 / elapsed);
    Ok(())
}
