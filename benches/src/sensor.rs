//! Shared pieces of the sensor-alarm benchmark binaries (`sensor_loop`, `sensor_timely`,
//! `sensor_renoir`): the command line, the detection steps every implementation runs (the same
//! rules as `squall run sensor-alarm`, see `docs/cli.md`), and the output, JSON Lines exactly as
//! Squall writes them so outputs can be compared once sorted.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rustc_hash::FxHashMap;
use squall_topologies::sensor::{Event, Reading, SimulatedSensors, Simulation};

/// Command line shared by the sensor binaries: `[--input FILE] [--sensors N] [--samples S]
/// [--faulty-pct P] [--seed S] [--threshold K] [--level X] [--workers W] [--output FILE]`.
#[derive(Debug, Clone)]
pub struct SensorArgs {
    /// A readings CSV (`sensor,seq,value`); simulated sensors when absent.
    pub input: Option<PathBuf>,
    /// The simulation (`sensors`, `samples`, `faulty_pct`, `level`, `seed`), as Squall's.
    pub sim: Simulation,
    /// K.
    pub threshold: u32,
    /// Worker threads (peer engines only; default 2).
    pub workers: usize,
    /// Where the events go (JSON Lines); discarded when absent.
    pub output: Option<PathBuf>,
}

impl SensorArgs {
    /// Parses `std::env::args()`; the defaults are `squall run sensor-alarm`'s.
    pub fn parse() -> Result<Self> {
        let mut a = SensorArgs {
            input: None,
            sim: Simulation {
                sensors: 16,
                samples: 100_000,
                faulty_pct: 35.0,
                level: 1.0,
                seed: 42,
            },
            threshold: 3,
            workers: 2,
            output: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .with_context(|| format!("{flag} needs a value"))?;
            let bad = || format!("{flag}: cannot use {value:?}");
            match flag.as_str() {
                "--input" => a.input = Some(PathBuf::from(&value)),
                "--output" => a.output = Some(PathBuf::from(&value)),
                "--sensors" => a.sim.sensors = value.parse().with_context(bad)?,
                "--samples" => a.sim.samples = value.parse().with_context(bad)?,
                "--faulty-pct" => a.sim.faulty_pct = value.parse().with_context(bad)?,
                "--seed" => a.sim.seed = value.parse().with_context(bad)?,
                "--level" => a.sim.level = value.parse().with_context(bad)?,
                "--threshold" => a.threshold = value.parse().with_context(bad)?,
                "--workers" => a.workers = value.parse().with_context(bad)?,
                other => bail!("unknown argument {other:?}"),
            }
        }
        Ok(a)
    }

    /// The reading of `sensor` at `seq` of the simulation (Squall's own function).
    pub fn draw(&self, sensor: u32, seq: u64) -> Reading {
        SimulatedSensors::draw(&self.sim, sensor, seq)
    }
}

/// Each sensor's run of consecutive readings in alarm.
#[derive(Debug, Default, Clone)]
pub struct Runs(FxHashMap<u32, u32>);

impl Runs {
    /// Takes one reading (each sensor's in seq order); returns whether it is in alarm and
    /// pushes the sensor alarm it fires, if any.
    pub fn observe(&mut self, r: &Reading, k: u32, level: f64, events: &mut Vec<Event>) -> bool {
        let in_alarm = r.value >= level;
        let run = self.0.entry(r.sensor).or_insert(0);
        if in_alarm {
            *run += 1;
            if *run == k + 1 {
                events.push(Event::SensorAlarm {
                    sensor: r.sensor,
                    seq: r.seq,
                    consecutive: k + 1,
                });
            }
        } else {
            *run = 0;
        }
        in_alarm
    }

    /// Distinct sensors seen.
    pub fn sensors(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }
}

/// The leak rule over the seqs of the input, in seq order.
#[derive(Debug, Default)]
pub struct Leaks {
    run: u32,
}

impl Leaks {
    /// Takes seq `seq` with `m` of `n` sensors in alarm; pushes the leak it completes, if any.
    pub fn close(&mut self, seq: u64, m: u32, n: u32, k: u32, events: &mut Vec<Event>) {
        if 2 * u64::from(m) > u64::from(n) {
            self.run += 1;
            if self.run == k + 1 {
                events.push(Event::Leak {
                    seq,
                    sensors_in_alarm: m,
                    sensors: n,
                });
            }
        } else {
            self.run = 0;
        }
    }
}

/// Writes `events` as JSON Lines to `output` (nothing when `None`).
pub fn write_events(output: Option<&std::path::Path>, events: &[Event]) -> Result<()> {
    let Some(path) = output else { return Ok(()) };
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    for e in events {
        writeln!(w, "{}", e.to_json())?;
    }
    w.flush()?;
    Ok(())
}

/// The summary line every sensor binary prints on stderr.
pub fn summary(readings: u64, events: &[Event], elapsed: Duration) -> String {
    let leaks = events
        .iter()
        .filter(|e| matches!(e, Event::Leak { .. }))
        .count();
    format!(
        "{readings} readings in {:.3}s ({:.2} M readings/s); {} sensor alarms, {leaks} leaks",
        elapsed.as_secs_f64(),
        readings as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6,
        events.len() - leaks,
    )
}

/// Exit status for `main`: errors on stderr (the word-count binaries' own).
pub use crate::wordcount::finish;
