//! The latency part of a run's output: the percentile table and the report files.

use std::path::Path;

use squall::report::format_table;
use squall::RunReport;

use super::CliError;

/// The end-to-end percentile table of a run, with a row per bolt's execute latency.
pub fn table(report: &RunReport) -> String {
    format_table(&report.latency_rows())
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

/// Writes `latency.hgrm`, `latency.svg`, `latency-timeline.svg` and `summary.json` into `dir`
/// (created if missing).
pub fn write_files(
    report: &RunReport,
    dir: &Path,
    target_rate: Option<f64>,
) -> Result<(), CliError> {
    report
        .write_report(dir, &report.summary(target_rate))
        .map_err(|e| CliError::new(e.to_string()))
}
