//! The `squall` command: argument parsing and the subcommands.
//!
//! Output contract (`docs/cli.md`): results go to stdout (or `--output`); progress,
//! summaries, latency tables and errors go to stderr, except in the no-argument demo, which
//! prints its alarms and latency table on stdout for a person to read, and in `bench`, whose
//! result is the rates and the latency table (stdout).

mod args;
pub mod bench;
mod bounds;
pub mod cluster;
mod demo;
mod endpoints;
mod inputs;
mod latency;
mod mapreduce;
mod progress;
mod prometheus;
mod recovery;
mod sensor;
mod ui;
mod window;
mod word_count;

use std::process::ExitCode;

use clap::Parser;

pub use args::{
    BenchArgs, BenchTopology, Cli, Command, Guarantee, RunOptions, RunTopology, SensorArgs,
    WindowCountArgs, WindowJoinArgs, WordCountArgs,
};
pub use bounds::{MAX_PARALLELISM, MAX_TASKS};
pub use mapreduce::{CooccurrenceArgs, JobArgs, MapReduceJob, Method};

/// A mistake of the user's, or a failed run: one sentence for stderr.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

impl CliError {
    /// Wraps anything printable.
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }
}

/// The topologies and jobs `squall list` prints.
pub const CATALOGUE: &[(&str, &str)] = &[
    (
        "run sensor-alarm",
        "per-sensor alarm runs and leak detection over sensor readings (simulated or CSV)",
    ),
    (
        "run word-count",
        "storm-starter's word count as a bounded topology over text files",
    ),
    (
        "run window-count",
        "counts per key in sliding event-time windows over a ts_ms,key CSV file",
    ),
    (
        "run window-join",
        "inner join of two ts_ms,key,value CSV files on the key per event-time window",
    ),
    (
        "bench sensor-alarm",
        "sensor alarm fed at a fixed rate: latency report without coordinated omission",
    ),
    (
        "bench word-count",
        "word count fed generated lines at a fixed rate: latency report",
    ),
    (
        "mapreduce wordcount",
        "MapReduce word count: word<TAB>count in part-r-NNNNN files",
    ),
    (
        "mapreduce inverted-index",
        "MapReduce inverted index: word<TAB>documents, relative to the input directory",
    ),
    (
        "mapreduce cooccurrence",
        "MapReduce item pair co-occurrence counts, --method pairs or stripes",
    ),
];

/// Runs the command line `args` (program name first); returns the process exit code.
pub fn main_with(args: impl IntoIterator<Item = String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return args::report_usage_error(e),
    };
    // The cluster's client commands are short: Ctrl-C ends them at once.
    let client = matches!(
        cli.command,
        Some(Command::List | Command::Submit(_) | Command::Cluster { .. } | Command::Kill(_))
    );
    if !client {
        // The first SIGINT or SIGTERM drains the run (its output, summary and report are
        // written); a second one ends the process at once.
        if let Err(e) = squall::runtime::catch_stop_signals() {
            eprintln!("warning: {e}; Ctrl-C will end the run without a summary");
        }
    }
    let result = match cli.command {
        None => demo::run(args::DEMO_SAMPLES, None),
        Some(Command::Demo { samples, ui }) => demo::run(samples, ui),
        Some(Command::List) => {
            for (name, what) in CATALOGUE {
                println!("{name:<26} {what}");
            }
            Ok(())
        }
        Some(Command::Run { topology }) => match topology {
            RunTopology::SensorAlarm(a) => sensor::run(&a),
            RunTopology::WordCount(a) => word_count::run(&a),
            RunTopology::WindowCount(a) => window::count(&a),
            RunTopology::WindowJoin(a) => window::join(&a),
        },
        Some(Command::Bench(a)) => bench::run(&a),
        Some(Command::Mapreduce { job }) => mapreduce::run(&job),
        // The cluster's commands choose their exit status: a worker exits 0 once it left
        // after a stop signal.
        Some(Command::Worker(a)) => return cluster::worker(&a),
        Some(Command::Submit(a)) => return cluster::submit(&a),
        Some(Command::Cluster { command }) => return cluster::cluster(&command),
        Some(Command::Kill(a)) => return cluster::kill(&a),
    };
    if let Err(e) = &result {
        eprintln!("error: {e}");
    }
    match (squall::runtime::stop_requested(), result) {
        (Some(signal), result) => {
            if result.is_ok() {
                eprintln!("interrupted by {signal}: the run was drained; what it wrote covers the input read before the signal");
            }
            ExitCode::from(signal.exit_code())
        }
        (None, Ok(())) => ExitCode::SUCCESS,
        (None, Err(_)) => ExitCode::FAILURE,
    }
}
