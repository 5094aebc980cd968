//! The latency part of a run's output: the percentile table and the report files.

use std::fs::File;
use std::path::Path;

use squall::report::{
    format_table, plot_percentiles, write_hgrm, ComponentSummary, LatencySummary, Summary,
};
use squall::RunReport;

use super::CliError;

/// The end-to-end percentile table of a run.
pub fn table(report: &RunReport) -> String {
    let summary = LatencySummary::from_histogram(&report.latency);
    format_table(&[("end-to-end".to_string(), summary)])
}

/// One line per component: tasks, emitted, executed, and the run's throughput.
pub fn components(report: &RunReport) -> String {
    let mut s = String::new();
    for c in &report.components {
        s.push_str(&format!(
            "  {:<10} tasks {:>2}  emitted {:>12}  executed {:>12}\n",
            c.id, c.tasks, c.emitted, c.executed
        ));
    }
    s
}

/// Writes `latency.hgrm`, `latency.svg` and `summary.json` into `dir` (created if missing).
pub fn write_files(
    report: &RunReport,
    dir: &Path,
    target_rate: Option<f64>,
) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::new(format!(
            "cannot create report directory {}: {e}",
            dir.display()
        ))
    })?;
    let hgrm = dir.join("latency.hgrm");
    let file = File::create(&hgrm)
        .map_err(|e| CliError::new(format!("cannot create {}: {e}", hgrm.display())))?;
    write_hgrm(&report.latency, file, 1000.0, 5)
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", hgrm.display())))?;
    plot_percentiles(
        &[("end-to-end".to_string(), &report.latency)],
        &dir.join("latency.svg"),
        &format!("{} end-to-end latency", report.topology),
    )
    .map_err(|e| CliError::new(e.to_string()))?;
    let empty = LatencySummary::from_histogram(
        &hdrhistogram::Histogram::<u64>::new(3).map_err(|e| CliError::new(e.to_string()))?,
    );
    let components = report
        .components
        .iter()
        .map(|c| ComponentSummary::new(c.id.clone(), c.tasks, c.executed, 0, &empty))
        .collect();
    let summary = Summary::new(
        report.topology.clone(),
        target_rate,
        report.elapsed.as_secs_f64(),
        &LatencySummary::from_histogram(&report.latency),
        components,
    );
    summary
        .write_json(&dir.join("summary.json"))
        .map_err(|e| CliError::new(e.to_string()))
}
