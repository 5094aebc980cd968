//! `squall` with no arguments: the sensor alarm demo on simulated sensors.

use std::sync::atomic::Ordering;

use clap::Parser;

use super::args::{Cli, Command, RunTopology};
use super::sensor::{execute, summary_line};
use super::{latency, CliError};
use crate::sensor::EventOutput;

/// Alarms printed in full before the demo only counts them.
const SHOWN: u64 = 10;

/// Runs `samples` readings of each of 32 simulated sensors (a few seconds at the default) and
/// prints alarms and the latency table.
pub(crate) fn run(samples: u64, ui: Option<std::net::SocketAddr>) -> Result<(), CliError> {
    let samples = samples.to_string();
    let cli = Cli::parse_from([
        "squall",
        "run",
        "sensor-alarm",
        "--sensors",
        "32",
        "--samples",
        samples.as_str(),
        "--faulty-pct",
        "45",
    ]);
    let Some(Command::Run {
        topology: RunTopology::SensorAlarm(mut args),
    }) = cli.command
    else {
        return Err(CliError::new("the demo's arguments did not parse"));
    };
    args.run.ui = ui;
    println!(
        "Squall sensor alarm demo: {} simulated sensors x {} readings, {}% faulty, alarm after more than {} consecutive readings >= {}",
        args.sensors.unwrap_or(16),
        args.samples,
        args.faulty_pct,
        args.threshold,
        args.level
    );
    println!("First {SHOWN} events:");
    let run = execute(&args, EventOutput::Stdout { limit: Some(SHOWN) })?;
    let counts = &run.tally.counts;
    let total = counts.sensor_alarms.load(Ordering::Relaxed) + counts.leaks.load(Ordering::Relaxed);
    if total > SHOWN {
        println!("... and {} more events", total - SHOWN);
    }
    println!("{}", summary_line(&run.report, &run.tally));
    println!("End-to-end latency (emit to last processing step):");
    print!("{}", latency::table(&run.report));
    print!("{}", latency::components(&run.report));
    println!("Try `squall list` and `squall run sensor-alarm --help`.");
    Ok(())
}
