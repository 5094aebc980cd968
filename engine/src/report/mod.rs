//! Latency reports: what a run prints and writes when it ends.
//!
//! Latencies are recorded as nanoseconds in [`hdrhistogram::Histogram<u64>`]s (3 significant
//! digits, auto-resizing); histograms from different tasks are added, never their percentiles
//! averaged. From them this module builds:
//!
//! - [`percentiles`]: [`LatencySummary`] (p50 ... p99.99, max) and the stdout table
//!   ([`format_table`]).
//! - [`hgrm`]: the full distribution as `latency.hgrm`, HdrHistogram's text format
//!   ([`write_hgrm`], read back by [`parse_hgrm`]).
//! - [`plot`]: `latency.svg`, the percentile distribution on HdrHistogram's log axis
//!   ([`plot_percentiles`]), and latency over time ([`plot_timeline`]).
//! - [`timeline`]: a histogram per second of the run ([`Timeline`]).
//! - [`summary`]: `summary.json` ([`Summary`]).
//! - [`run`]: all of the above for a finished run, as methods of [`crate::RunReport`].
//! - [`metric_names`]: the metrics every task exports through the `metrics` facade.

pub mod hgrm;
pub mod metric_names;
pub mod percentiles;
pub mod plot;
pub mod run;
pub mod summary;
pub mod timeline;

pub use hgrm::{parse_hgrm, write_hgrm, HgrmError, HgrmRow};
pub use percentiles::{format_table, human_duration, micros, LatencySummary};
pub use plot::{plot_percentiles, plot_timeline, PlotError};
pub use run::{ReportError, REPORT_FILES};
pub use summary::{ComponentSummary, ExecuteLatencyMicros, LatencyMicros, Summary, SummaryError};
pub use timeline::{Timeline, TimelinePoint};
