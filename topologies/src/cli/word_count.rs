//! `squall run word-count`, and its preparation and summary, which the cluster shares.

use std::sync::Arc;

use squall::{Config, LiveCounters, LocalCluster, RunReport, Topology};

use super::args::WordCountArgs;
use super::inputs::expand;
use super::progress::Progress;
use super::{latency, prometheus, recovery, CliError};
use crate::word_count::{CountsOutput, WordCountJob};

/// Checks the options and builds the topology and its configuration.
pub(crate) fn prepare(args: &WordCountArgs) -> Result<(Topology, Config), CliError> {
    let mut config = Config::default();
    args.run.configure(&mut config)?;
    for (flag, path) in args
        .input
        .iter()
        .map(|p| ("--input", p))
        .chain(args.output.iter().map(|p| ("--output", p)))
    {
        let text = path.to_string_lossy();
        if let Some(scheme) = super::endpoints::unknown_scheme(&text) {
            return Err(CliError::new(format!(
                "{flag} {text}: unknown scheme {scheme}, expected a file path (word-count reads and writes files)"
            )));
        }
    }
    let inputs = expand(&args.input)?;
    let parallelism = args
        .parallelism
        .unwrap_or(config.workers.min(super::bounds::MAX_PARALLELISM))
        .max(1);
    let output = match &args.output {
        Some(path) => {
            super::inputs::require_writable(path)?;
            CountsOutput::File(path.clone())
        }
        None => CountsOutput::Stdout,
    };
    let job = WordCountJob {
        inputs,
        parallelism,
        output,
    };
    // The reading tasks count the lines they skip in the report (`MALFORMED`), wherever they
    // run; this process's own count is not needed.
    let topology = job.topology().map_err(|e| CliError::new(e.to_string()))?;
    Ok((topology, config))
}

/// What a run prints on stderr once it ended: the summary line, the recovery line and the
/// components' counts.
pub(crate) fn summary(report: &RunReport) -> String {
    let lines = report.component("split").map_or(0, |c| c.executed);
    let totals = report.component("count").map_or(0, |c| c.emitted);
    let mut text = format!(
        "word-count: {lines} lines, {totals} distinct words in {:.2}s",
        report.elapsed.as_secs_f64()
    );
    // Counted by the reading tasks, wherever they ran.
    let skipped = report.counter(squall_connectors::MALFORMED);
    if skipped > 0 {
        text.push_str(&format!("; {skipped} lines skipped as not UTF-8"));
    }
    if report.interrupted.is_some() {
        text.push_str("; interrupted, so the partial counts were not written");
    }
    text.push('\n');
    if let Some(line) = recovery::line(report) {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&latency::components(report));
    text
}

/// Runs word count over the inputs; counts to stdout or `--output`, a summary to stderr.
pub(crate) fn run(args: &WordCountArgs) -> Result<(), CliError> {
    let (topology, mut config) = prepare(args)?;
    if let Some(addr) = args.run.metrics_addr {
        prometheus::serve(addr)?;
    }
    let live = Arc::new(LiveCounters::default());
    config.live = Some(live.clone());
    let watched = squall_ui::Watched {
        live: live.clone(),
        job: None,
    };
    let ui = super::ui::start(args.run.ui, &watched)?;
    let progress = Progress::start("lines read", None, move || live.spout_emitted());
    let report = LocalCluster::new(config)
        .run_until_signal(topology)
        .map_err(|e| CliError::new(e.to_string()))?;
    drop(progress);
    super::ui::finish(ui, None, &watched)?;
    eprint!("{}", summary(&report));
    Ok(())
}
