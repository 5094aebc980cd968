//! The sensor alarm detection on renoir, on simulated sensors (peer engine for `run-sensor.sh`;
//! needs `--features peers`).
//!
//! `sensor_renoir [--workers W] [--sensors N --samples S --faulty-pct P --seed S]
//! [--threshold K] [--level X] [--output FILE]` runs a local renoir job with parallelism W
//! (default 2): a parallel source whose replica i draws the readings of the sensors with
//! sensor % W == i (Squall's own function, seq by seq), `group_by(sensor)` into a per-key
//! `rich_map` keeping the sensor's run (the alarm step), then a split: the sensor alarms are
//! collected, and `group_by_sum(seq)` counts the sensors in alarm per seq (pre-aggregated
//! before the shuffle). renoir has no frontier to close a seq on, so the leak rule runs over the
//! collected counts, in seq order, once the job has finished (inside the timed span).

use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use renoir::prelude::*;
use squall_benches::sensor::{finish, summary, write_events, Leaks, Runs, SensorArgs};
use squall_topologies::sensor::{Event, Reading, SimulatedSensors};

fn main() -> std::process::ExitCode {
    finish(run())
}

fn run() -> Result<()> {
    let args = SensorArgs::parse()?;
    let start = Instant::now();
    let workers = u64::try_from(args.workers).context("too many workers")?;
    let config = RuntimeConfig::local(workers).map_err(|e| anyhow!("renoir config: {e}"))?;
    let env = StreamContext::new(config);
    let (sim, k) = (args.sim, args.threshold);
    let statuses = env
        .stream_par_iter(move |i: u64, peers: u64| {
            let mine: Vec<u32> = (0..sim.sensors)
                .filter(|&s| u64::from(s) % peers == i)
                .collect();
            let per_seq = mine.len() as u64;
            (0..sim.samples * per_seq).map(move |j| {
                let sensor = mine[(j % per_seq) as usize];
                SimulatedSensors::draw(&sim, sensor, j / per_seq)
            })
        })
        .batch_mode(BatchMode::fixed(1024))
        .group_by(|r: &Reading| r.sensor)
        .rich_map({
            let mut runs = Runs::default();
            move |(_, r): (&u32, Reading)| {
                let mut fired = Vec::new();
                let in_alarm = runs.observe(&r, k, sim.level, &mut fired);
                (r.seq, in_alarm, fired.pop())
            }
        })
        .drop_key();
    let mut split = statuses.split(2).into_iter();
    let (Some(for_alarms), Some(for_leaks)) = (split.next(), split.next()) else {
        return Err(anyhow!("renoir split gave fewer than 2 streams"));
    };
    let alarms = for_alarms
        .filter_map(|(_, _, fired): (u64, bool, Option<Event>)| fired)
        .collect_vec();
    let counts = for_leaks
        .group_by_sum(|s: &(u64, bool, Option<Event>)| s.0, |s| u32::from(s.1))
        .collect_vec();
    env.execute_blocking();
    let mut events = alarms.get().context("renoir returned no alarms")?;
    let mut counts = counts.get().context("renoir returned no counts")?;
    counts.sort_unstable();
    let mut leaks = Leaks::default();
    for (seq, m) in counts {
        leaks.close(seq, m, sim.sensors, k, &mut events);
    }
    let readings = u64::from(sim.sensors) * sim.samples;
    let elapsed = start.elapsed();
    write_events(args.output.as_deref(), &events)?;
    eprintln!("{}", summary(readings, &events, elapsed));
    Ok(())
}
