//! `squall run sensor-alarm`.

use std::sync::Arc;

use squall::{Config, LiveCounters, LocalCluster, RunError, RunReport, Topology};
use squall_connectors::broker::ConnectionState;
use squall_connectors::file::{CsvReader, Malformed, STDIN};
use squall_connectors::MALFORMED;
use squall_ui::Watched;

use super::args::SensorArgs;
use super::inputs::require_file;
use super::progress::Progress;
use super::{endpoints, latency, prometheus, recovery, CliError};
use crate::sensor::{
    distinct_sensors, EventCounts, EventOutput, Reading, ReadingSource, SensorAlarm, Simulation,
    LEAKS, READINGS, SENSOR_ALARMS,
};

/// What a sensor-alarm run produced, for the caller to summarise.
pub(crate) struct SensorRun {
    pub report: RunReport,
    pub tally: Tally,
}

/// What the summary of a run needs besides its report: the events and malformed lines counted.
#[derive(Clone)]
pub(crate) struct Tally {
    pub counts: Arc<EventCounts>,
    pub malformed: Option<Malformed>,
}

/// A run ready to start.
pub(crate) struct Plan {
    pub topology: Topology,
    pub config: Config,
    pub tally: Tally,
    /// The live input and output, which must have been reached by the end.
    brokers: Vec<(&'static str, ConnectionState)>,
    /// Readings to expect (simulated input).
    total: Option<u64>,
}

/// Checks the arguments and builds the pipeline and its configuration.
pub(crate) fn prepare(args: &SensorArgs, output: EventOutput) -> Result<Plan, CliError> {
    let mut config = Config::default();
    args.run.configure(&mut config)?;
    let parallelism = args
        .parallelism
        .unwrap_or(config.workers.min(super::bounds::MAX_PARALLELISM))
        .max(1);
    let live = endpoints::live_input(args)?;
    let (source, sensors, malformed) = match &args.input {
        Some(_) if live.is_some() => {
            let (source, sensors, malformed) = live.expect("invariant: checked by the guard");
            (source, sensors, Some(malformed))
        }
        Some(path) => {
            let stdin = path.as_os_str() == STDIN;
            if !stdin {
                require_file(path)?;
            } else if config.chaos.is_some() && config.guarantee == squall::Guarantee::ExactlyOnce {
                // Recovery rewinds the spout to a checkpoint, and standard input cannot rewind.
                return Err(CliError::new(
                    "--input - (standard input) cannot be rewound: exactly-once with --chaos-panic-rate needs an input file",
                ));
            }
            let sensors = match args.sensors {
                Some(n) if stdin => n,
                Some(n) => {
                    // A wrong header is one error now, not a failing task restarted until the
                    // supervisor gives up (counting the sensors checks it too).
                    CsvReader::<Reading>::open(path).map_err(|e| CliError::new(e.to_string()))?;
                    n
                }
                None if stdin => {
                    return Err(CliError::new(
                        "--input - (standard input) needs --sensors: the sensors cannot be counted before the readings arrive",
                    ))
                }
                None => distinct_sensors(path).map_err(|e| CliError::new(e.to_string()))?,
            };
            let malformed = Malformed::new();
            let source = ReadingSource::Csv {
                path: path.clone(),
                malformed: malformed.clone(),
            };
            (source, sensors, Some(malformed))
        }
        None => {
            if !(0.0..=100.0).contains(&args.faulty_pct) {
                return Err(CliError::new(format!(
                    "--faulty-pct must be between 0 and 100, got {}",
                    args.faulty_pct
                )));
            }
            let sensors = args.sensors.unwrap_or(16);
            if sensors == 0 {
                return Err(CliError::new("--sensors must be at least 1"));
            }
            let sim = Simulation {
                sensors,
                samples: args.samples,
                faulty_pct: args.faulty_pct,
                level: args.level,
                seed: args.run.seed,
            };
            (ReadingSource::Simulated(sim), sensors, None)
        }
    };
    let mut brokers = Vec::new();
    if let ReadingSource::Live(spout) = &source {
        brokers.push(("--input", spout.connection().clone()));
    }
    if let EventOutput::Live(sink) = &output {
        brokers.push(("--output", sink.connection().clone()));
    }
    let total = match &source {
        ReadingSource::Simulated(sim) => Some(u64::from(sim.sensors) * sim.samples),
        _ => None,
    };
    let pipeline = SensorAlarm {
        source,
        sensors,
        threshold: args.threshold,
        level: args.level,
        parallelism,
        output,
    };
    pipeline.tune(&mut config);
    let counts = Arc::new(EventCounts::default());
    let topology = pipeline
        .topology(counts.clone())
        .map_err(|e| CliError::new(e.to_string()))?;
    Ok(Plan {
        topology,
        config,
        tally: Tally { counts, malformed },
        brokers,
        total,
    })
}

/// Builds the pipeline from the arguments and runs it to completion.
pub(crate) fn execute(args: &SensorArgs, output: EventOutput) -> Result<SensorRun, CliError> {
    let Plan {
        topology,
        mut config,
        tally,
        brokers,
        total,
    } = prepare(args, output)?;
    if let Some(addr) = args.run.metrics_addr {
        prometheus::serve(addr)?;
    }
    let live = Arc::new(LiveCounters::default());
    config.live = Some(live.clone());
    let watched = Watched {
        live: live.clone(),
        job: None,
    };
    let ui = super::ui::start(args.run.ui, &watched)?;
    let replays = live.clone();
    // Simulated readings travel in blocks, so the spout's tuples are not readings: count
    // what the alarm bolt executed (replays are counted in tuples, blocks there).
    let done: Box<dyn Fn() -> u64 + Send> = match total {
        Some(_) => {
            let counts = tally.counts.clone();
            Box::new(move || counts.readings())
        }
        None => Box::new(move || live.spout_emitted().saturating_sub(live.replayed())),
    };
    let progress = Progress::with_replays("readings", total, done, move || replays.replayed());
    let report = LocalCluster::new(config)
        .run_until_signal(topology)
        .map_err(|e| {
            // A sink that gave up on a broker it never reached ended the run: say which
            // flag named it.
            require_reached(&brokers)
                .err()
                .or_else(|| unreadable_input(&e))
                .unwrap_or_else(|| CliError::new(e.to_string()))
        })?;
    drop(progress);
    super::ui::finish(ui, args.report.as_deref(), &watched)?;
    if report.interrupted.is_none() {
        require_reached(&brokers)?;
    }
    Ok(SensorRun { report, tally })
}

/// An input found unreadable only once the reading task opened it (a wrong header on standard
/// input, which cannot be looked at before the run) is one error about the input, in the words
/// a file's is, not a task's failure.
fn unreadable_input(e: &RunError) -> Option<CliError> {
    match e {
        RunError::TaskFailed {
            task,
            hook: "open",
            message,
        } if task.component == "readings" => {
            let why = message.strip_prefix("returned an error: ")?;
            Some(CliError::new(why))
        }
        _ => None,
    }
}

/// A live input or output whose broker was never reached fails the run: it is not an empty
/// run (its clients said so on stderr while they retried).
fn require_reached(brokers: &[(&str, ConnectionState)]) -> Result<(), CliError> {
    let missing: Vec<String> = brokers
        .iter()
        .filter(|(_, c)| !c.ever_connected())
        .map(|(flag, c)| format!("{} ({flag} {})", c.address(), c.endpoint()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(CliError::new(format!(
        "never connected to {} before the run ended: is the broker running and listening there?",
        missing.join(" nor to ")
    )))
}

/// One line saying what the run did.
pub(crate) fn summary_line(report: &RunReport, tally: &Tally) -> String {
    // The alarm tasks count readings (simulated ones travel in blocks, so executed tuples
    // are not readings), the sink tasks the events they wrote: the report sums both over
    // every task, in whichever process it ran (`squall submit` runs them over workers).
    let readings = report.counter(READINGS);
    let secs = report.elapsed.as_secs_f64();
    let mut line = format!(
        "sensor-alarm: {} readings in {:.2}s ({:.2} M readings/s); {} sensor alarms, {} leaks",
        readings,
        secs,
        readings as f64 / secs.max(1e-9) / 1e6,
        report.counter(SENSOR_ALARMS),
        report.counter(LEAKS),
    );
    if tally.malformed.is_some() {
        // Counted by the reading tasks, wherever they ran.
        let skipped = report.counter(MALFORMED);
        line.push_str(&format!("; {skipped} malformed lines skipped"));
    }
    if let Some(signal) = report.interrupted {
        line.push_str(&format!("; interrupted by {signal}"));
    }
    line
}

/// What a run prints on stderr once it ended: the summary line, the recovery line and the
/// latency table.
pub(crate) fn summary(report: &RunReport, tally: &Tally) -> String {
    let mut text = summary_line(report, tally);
    text.push('\n');
    if let Some(line) = recovery::line(report) {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&latency::table(report));
    text
}

/// Where the events go: a live output, `--output`, or stdout.
pub(crate) fn output(args: &SensorArgs) -> Result<EventOutput, CliError> {
    Ok(match (endpoints::live_output(args)?, &args.output) {
        (Some(live), _) => live,
        (None, Some(path)) => {
            super::inputs::require_writable(path)?;
            EventOutput::File(path.clone())
        }
        (None, None) => EventOutput::Stdout { limit: None },
    })
}

/// `squall run sensor-alarm`: events to stdout or `--output`, the rest to stderr.
pub(crate) fn run(args: &SensorArgs) -> Result<(), CliError> {
    if let Some(dir) = &args.report {
        super::inputs::require_report_dir(dir)?;
    }
    let run = execute(args, output(args)?)?;
    eprint!("{}", summary(&run.report, &run.tally));
    if let Some(dir) = &args.report {
        latency::write_files(&run.report, dir, None)?;
        eprintln!("report written to {}", dir.display());
    }
    Ok(())
}
