//! The `squall` command's topologies for the cluster: `squall worker`, `submit`, `cluster
//! status` and `kill` serve `word-count` and `sensor-alarm` through a registry that prepares
//! and summarises them with the very functions `squall run` uses.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, FromArgMatches, Parser};
use squall_cluster::cli::{ClusterCommand, KillArgs, StatusArgs, SubmitArgs, WorkerArgs};
use squall_cluster::{Prepared, Registry};

use super::args::{SensorArgs, WordCountArgs};
use super::{sensor, word_count};
use crate::sensor::EventOutput;

/// The options of one topology, parsed as `squall run TOPOLOGY` parses them.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct Options<A: Args> {
    #[command(flatten)]
    args: A,
}

/// Parses `options` as `squall run NAME` would; an error is its first line.
fn parse<A: Args + FromArgMatches>(name: &str, options: &[String]) -> Result<A, String> {
    Options::<A>::try_parse_from(options)
        .map(|o| o.args)
        .map_err(|e| {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid options").trim();
            format!("{name}: {}", first.trim_start_matches("error: "))
        })
}

/// `word-count` and `sensor-alarm`, as `squall run` prepares and summarises them.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(
        "word-count",
        "storm-starter's word count as a bounded topology over text files",
        |options| {
            let args: WordCountArgs = parse("word-count", options)?;
            let (topology, config) = word_count::prepare(&args).map_err(|e| e.to_string())?;
            Ok(Prepared {
                topology,
                config,
                summary: Box::new(word_count::summary),
            })
        },
    );
    registry.register(
        "sensor-alarm",
        "per-sensor alarm runs and leak detection over sensor readings (simulated or CSV)",
        |options| {
            let args: SensorArgs = parse("sensor-alarm", options)?;
            let output = sensor::output(&args).map_err(|e| e.to_string())?;
            if matches!(output, EventOutput::File(_) | EventOutput::Stdout { .. }) {
                // The sink writes its events as checkpoints commit, in the process it runs in:
                // a file or the standard output there would lose what an earlier incarnation
                // wrote when tasks move. A broker sink de-duplicates what is written again.
                return Err(
                    "sensor-alarm on a cluster writes its events to a broker: give \
                            --output 'nats://HOST:PORT/SUBJECT?stream=NAME' (JetStream, \
                            de-duplicated by event), mqtt://, redis:// or postgres://, not a \
                            file or stdout"
                        .to_string(),
                );
            }
            let plan = sensor::prepare(&args, output).map_err(|e| e.to_string())?;
            let tally = plan.tally;
            Ok(Prepared {
                topology: plan.topology,
                config: plan.config,
                summary: Box::new(move |report| sensor::summary(report, &tally)),
            })
        },
    );
    registry
}

/// `squall worker`.
pub(crate) fn worker(args: &WorkerArgs) -> ExitCode {
    squall_cluster::cli::worker(Arc::new(registry()), args)
}

/// `squall submit`.
pub(crate) fn submit(args: &SubmitArgs) -> ExitCode {
    squall_cluster::cli::submit(&registry(), args)
}

/// `squall cluster status`.
pub(crate) fn cluster(command: &ClusterCommand) -> ExitCode {
    match command {
        ClusterCommand::Status(args) => status(args),
    }
}

fn status(args: &StatusArgs) -> ExitCode {
    squall_cluster::cli::status(&registry(), args)
}

/// `squall kill`.
pub(crate) fn kill(args: &KillArgs) -> ExitCode {
    squall_cluster::cli::kill(args)
}
