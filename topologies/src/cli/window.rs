//! `squall run window-count` and `squall run window-join`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use squall::{Config, LocalCluster, Topology};
use squall_connectors::file::{CsvReader, Malformed};

use super::args::{WindowCountArgs, WindowJoinArgs};
use super::{latency, recovery, CliError};
use crate::window::{
    Event, EventTime, JoinRow, Lines, WindowCountJob, WindowJoinJob, WindowOutput,
};

/// Seconds from a flag as whole milliseconds.
fn millis(secs: f64) -> u64 {
    (secs * 1000.0).round() as u64
}

/// Checks the output flags and makes the output.
fn output(results: Option<&PathBuf>, late: Option<&PathBuf>) -> Result<WindowOutput, CliError> {
    let lines = |p: Option<&PathBuf>, none: Lines| -> Result<Lines, CliError> {
        match p {
            Some(path) => {
                super::inputs::require_writable(path)?;
                Ok(Lines::File(path.clone()))
            }
            None => Ok(none),
        }
    };
    Ok(WindowOutput {
        results: lines(results, Lines::Stdout)?,
        late: lines(late, Lines::Discard)?,
        late_count: Arc::default(),
    })
}

/// Fails now, once, when an input cannot be read or lacks its header.
fn check_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(), CliError> {
    super::inputs::require_file(path)?;
    CsvReader::<T>::open(path)
        .map(|_| ())
        .map_err(|e| CliError::new(e.to_string()))
}

fn parallelism(flag: Option<usize>, config: &Config) -> usize {
    flag.unwrap_or(config.workers.min(super::bounds::MAX_PARALLELISM))
        .max(1)
}

/// Event time from the flags, in whole milliseconds (window and slide at least 1 ms).
fn event_time(window: f64, slide: f64, lag: f64, lateness: f64) -> EventTime {
    EventTime {
        window_ms: millis(window).max(1),
        slide_ms: millis(slide).max(1),
        lag_ms: millis(lag),
        lateness_ms: millis(lateness),
    }
}

/// Builds the topology with `build` and runs it; prints the summary line (tuples executed by
/// component `bolt`), recovery and latency on stderr.
fn run<E: std::fmt::Display>(
    (name, bolt): (&str, &str),
    config: Config,
    output: &WindowOutput,
    late_flag: bool,
    build: impl FnOnce(Malformed) -> Result<Topology, E>,
) -> Result<(), CliError> {
    let malformed = Malformed::new();
    let topology = build(malformed.clone()).map_err(|e| CliError::new(e.to_string()))?;
    let report = LocalCluster::new(config)
        .run_until_signal(topology)
        .map_err(|e| CliError::new(e.to_string()))?;
    let read = report.component(bolt).map_or(0, |c| c.executed);
    let late = output.late_count.load(std::sync::atomic::Ordering::Relaxed);
    let mut summary = format!(
        "{name}: {read} tuples windowed, {late} late in {:.2}s",
        report.elapsed.as_secs_f64()
    );
    if late > 0 && !late_flag {
        summary.push_str(" (--late-output writes their lines)");
    }
    if malformed.count() > 0 {
        summary.push_str(&format!("; {} malformed lines skipped", malformed.count()));
    }
    eprintln!("{summary}");
    if let Some(line) = recovery::line(&report) {
        eprintln!("{line}");
    }
    eprint!("{}", latency::components(&report));
    Ok(())
}

/// `squall run window-count`.
pub(crate) fn count(args: &WindowCountArgs) -> Result<(), CliError> {
    let mut config = Config::default();
    args.run.configure(&mut config)?;
    check_csv::<Event>(&args.input)?;
    let output = output(args.output.as_ref(), args.late_output.as_ref())?;
    let job = WindowCountJob {
        input: args.input.clone(),
        time: event_time(args.window, args.slide, args.lag, args.lateness),
        parallelism: parallelism(args.parallelism, &config),
        output: output.clone(),
    };
    let late_flag = args.late_output.is_some();
    run(
        ("window-count", "window"),
        config,
        &output,
        late_flag,
        |m| job.topology(m),
    )
}

/// `squall run window-join`.
pub(crate) fn join(args: &WindowJoinArgs) -> Result<(), CliError> {
    let mut config = Config::default();
    args.run.configure(&mut config)?;
    check_csv::<JoinRow>(&args.left)?;
    check_csv::<JoinRow>(&args.right)?;
    let output = output(args.output.as_ref(), args.late_output.as_ref())?;
    let job = WindowJoinJob {
        left: args.left.clone(),
        right: args.right.clone(),
        // Tumbling: the slide is the window.
        time: event_time(args.window, args.window, args.lag, args.lateness),
        parallelism: parallelism(args.parallelism, &config),
        output: output.clone(),
    };
    let late_flag = args.late_output.is_some();
    run(("window-join", "join"), config, &output, late_flag, |m| {
        job.topology(m)
    })
}
