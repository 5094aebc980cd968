//! The latency report of a finished run, built from its [`RunReport`]: the stdout table and the
//! report directory (`latency.hgrm`, `latency.svg`, `latency-timeline.svg`, `summary.json`).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::hgrm::write_hgrm;
use super::percentiles::{format_table, LatencySummary};
use super::plot::{plot_percentiles, plot_timeline, PlotError};
use super::summary::{ComponentSummary, Summary, SummaryError};
use crate::RunReport;

/// The files [`RunReport::write_report`] writes, in that order.
pub const REPORT_FILES: [&str; 4] = [
    "latency.hgrm",
    "latency.svg",
    "latency-timeline.svg",
    "summary.json",
];

/// Failure to write a report directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The directory or a file in it could not be created or written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// `summary.json` could not be written.
    #[error(transparent)]
    Summary(#[from] SummaryError),
}

impl RunReport {
    /// The run as `summary.json` holds it: end-to-end percentiles, and per component its tasks,
    /// executed tuples, restarts and execute latency. The rate is the latency samples per
    /// second of the run's elapsed time; a fixed-rate bench sets `achieved_rate` and
    /// `duration_s` from its measured period instead.
    ///
    /// ```
    /// # use squall::{Config, LocalCluster, TopologyBuilder, Spout, SpoutCollector, Bolt, BoltCollector, ComponentError};
    /// # struct One(bool);
    /// # impl Spout for One {
    /// #     type Output = u8;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u8>) -> Result<(), ComponentError> { out.emit(1); self.0 = true; Ok(()) }
    /// #     fn is_finished(&self) -> bool { self.0 }
    /// # }
    /// # struct Sink;
    /// # impl Bolt for Sink {
    /// #     type Input = u8; type Output = ();
    /// #     fn execute(&mut self, _: u8, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut b = TopologyBuilder::new("one");
    /// let s = b.set_spout("one", 1, || One(false));
    /// b.set_bolt("sink", 1, || Sink).shuffle_grouping(&s);
    /// let report = LocalCluster::new(Config::default()).run(b.build()?)?;
    /// let summary = report.summary(None);
    /// assert_eq!(summary.count, 1);
    /// assert_eq!(summary.components[1].executed, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn summary(&self, target_rate: Option<f64>) -> Summary {
        let components = self
            .components
            .iter()
            .map(|c| {
                ComponentSummary::new(
                    c.id.clone(),
                    c.tasks,
                    c.executed,
                    c.restarts,
                    &LatencySummary::from_histogram(&c.execute_latency),
                )
            })
            .collect();
        Summary::new(
            self.topology.clone(),
            target_rate,
            self.elapsed.as_secs_f64(),
            &LatencySummary::from_histogram(&self.latency),
            components,
        )
    }

    /// The table rows: end-to-end latency first, then the execute latency of every component
    /// that executed anything (`execute <id>`, counted in tuples).
    pub fn latency_rows(&self) -> Vec<(String, LatencySummary)> {
        let mut rows = vec![(
            "end-to-end".to_string(),
            LatencySummary::from_histogram(&self.latency),
        )];
        for c in &self.components {
            if !c.execute_latency.is_empty() {
                let mut s = LatencySummary::from_histogram(&c.execute_latency);
                // The histogram holds per-batch means weighted by tuples, so its count is
                // the tuples executed.
                s.count = c.executed.max(s.count);
                rows.push((format!("execute {}", c.id), s));
            }
        }
        rows
    }

    /// What a person reads at the end of a run: target and achieved rate, then the
    /// percentile table (see [`RunReport::latency_rows`]).
    pub fn format_report(&self, summary: &Summary) -> String {
        let mut out = String::new();
        let target = summary
            .target_rate
            .map_or_else(|| "unthrottled".to_string(), |r| format!("{r:.0}/s"));
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{}: target rate {target}, achieved rate {:.0}/s over {:.2}s, {} latency samples",
            summary.topology, summary.achieved_rate, summary.duration_s, summary.count
        );
        out.push_str(&format_table(&self.latency_rows()));
        out
    }

    /// Writes [`REPORT_FILES`] into `dir` (created if missing): the end-to-end distribution as
    /// `latency.hgrm` (microseconds) and its plot, p50/p99/max per second, and `summary`.
    ///
    /// # Errors
    ///
    /// [`ReportError`] naming the file that could not be written.
    pub fn write_report(&self, dir: &Path, summary: &Summary) -> Result<(), ReportError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ReportError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let hgrm = dir.join(REPORT_FILES[0]);
        let file = File::create(&hgrm).map_err(io(&hgrm))?;
        write_hgrm(&self.latency, file, 1000.0, 5).map_err(io(&hgrm))?;
        plot_percentiles(
            &[("end-to-end".to_string(), &self.latency)],
            &dir.join(REPORT_FILES[1]),
            &format!("{}: end-to-end latency by percentile", self.topology),
        )?;
        plot_timeline(
            &self.timeline.points(),
            &dir.join(REPORT_FILES[2]),
            &format!("{}: end-to-end latency per second", self.topology),
        )?;
        summary.write_json(&dir.join(REPORT_FILES[3]))?;
        Ok(())
    }
}
