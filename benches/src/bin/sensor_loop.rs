//! The sensor alarm pipeline as one plain single-threaded loop (the COST baseline for
//! `run-sensor.sh`).
//!
//! `sensor_loop [--input FILE | --sensors N --samples S --faulty-pct P --seed S] [--threshold K]
//! [--level X] [--output FILE]`. From a CSV it parses every line with the same reader Squall's
//! spout uses (`squall_connectors::file::CsvReader`), keeps each sensor's run and each seq's
//! count of sensors in alarm, and decides the leaks once the file is read (N: the distinct
//! sensors). From simulated sensors it draws the same readings as Squall (seq by seq, every
//! sensor in turn) and decides each seq's leak as soon as the seq is complete. It writes the
//! same JSON Lines as `squall run sensor-alarm` (in a different order: compare sorted). Lines
//! whose seq does not ascend are not checked for (a valid input has none), which only makes the
//! loop faster than the pipeline, which checks them.

use std::time::Instant;

use anyhow::Result;
use rustc_hash::FxHashMap;
use squall_benches::sensor::{finish, summary, write_events, Leaks, Runs, SensorArgs};
use squall_connectors::file::{CsvLine, CsvReader};
use squall_topologies::sensor::Reading;

fn main() -> std::process::ExitCode {
    finish(run())
}

fn run() -> Result<()> {
    let args = SensorArgs::parse()?;
    let start = Instant::now();
    let (k, level) = (args.threshold, args.sim.level);
    let mut runs = Runs::default();
    let mut leaks = Leaks::default();
    let mut events = Vec::new();
    let mut readings = 0u64;
    match &args.input {
        Some(path) => {
            let mut reader = CsvReader::<Reading>::open(path)?;
            let mut per_seq: FxHashMap<u64, u32> = FxHashMap::default();
            while let Some(line) = reader.read()? {
                match line {
                    CsvLine::Record(r) => {
                        readings += 1;
                        let in_alarm = runs.observe(&r, k, level, &mut events);
                        *per_seq.entry(r.seq).or_insert(0) += u32::from(in_alarm);
                    }
                    CsvLine::Blank => {}
                    CsvLine::Malformed(reason) => eprintln!(
                        "{}: line {}: {reason}; line skipped",
                        path.display(),
                        reader.line()
                    ),
                }
            }
            let n = runs.sensors();
            let mut seqs: Vec<(u64, u32)> = per_seq.into_iter().collect();
            seqs.sort_unstable();
            for (seq, m) in seqs {
                leaks.close(seq, m, n, k, &mut events);
            }
        }
        None => {
            let n = args.sim.sensors;
            for seq in 0..args.sim.samples {
                let mut m = 0;
                for sensor in 0..n {
                    let r = args.draw(sensor, seq);
                    m += u32::from(runs.observe(&r, k, level, &mut events));
                }
                readings += u64::from(n);
                leaks.close(seq, m, n, k, &mut events);
            }
        }
    }
    write_events(args.output.as_deref(), &events)?;
    eprintln!("{}", summary(readings, &events, start.elapsed()));
    Ok(())
}
