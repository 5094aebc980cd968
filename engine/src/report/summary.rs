//! `summary.json`: the machine-readable result of a run.
//!
//! The field names are a contract with tools outside the project:
//!
//! ```json
//! {
//!   "topology": "word_count",
//!   "target_rate": 10000.0,
//!   "achieved_rate": 9998.7,
//!   "duration_s": 30.0,
//!   "count": 299961,
//!   "latency_us": {"p50": 812.0, "p90": 950.3, "p99": 1250.0, "p999": 2010.1, "p9999": 3100.8, "max": 4200.6},
//!   "components": [
//!     {"id": "split", "tasks": 4, "executed": 299961, "restarts": 0,
//!      "execute_latency_us": {"p50": 3.1, "p99": 12.4, "max": 80.9}}
//!   ]
//! }
//! ```
//!
//! `target_rate` is `null` when the spouts ran unthrottled.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::percentiles::{micros, LatencySummary};

/// The result of one run, as written to `summary.json`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Summary {
    /// The topology's name.
    pub topology: String,
    /// Tuples per second the spouts were asked to emit; `None` (`null`) when unthrottled.
    pub target_rate: Option<f64>,
    /// Completed tuples per second over the run.
    pub achieved_rate: f64,
    /// Length of the measured run, in seconds.
    pub duration_s: f64,
    /// Completed tuples, the samples behind `latency_us`.
    pub count: u64,
    /// End-to-end latency, from the intended emit time to completion.
    pub latency_us: LatencyMicros,
    /// One entry per component, in topology order.
    pub components: Vec<ComponentSummary>,
}

impl Summary {
    /// A summary whose `count` is `latency.count` and whose `achieved_rate` is that count over
    /// `duration_s` (0 for a run of no length, so the JSON never holds `NaN`).
    pub fn new(
        topology: impl Into<String>,
        target_rate: Option<f64>,
        duration_s: f64,
        latency: &LatencySummary,
        components: Vec<ComponentSummary>,
    ) -> Self {
        let achieved_rate = if duration_s > 0.0 {
            latency.count as f64 / duration_s
        } else {
            0.0
        };
        Self {
            topology: topology.into(),
            target_rate,
            achieved_rate,
            duration_s,
            count: latency.count,
            latency_us: LatencyMicros::from(latency),
            components,
        }
    }

    /// Writes the summary as pretty-printed JSON to `path`, replacing any file there.
    ///
    /// # Errors
    ///
    /// [`SummaryError::Io`] when the file cannot be created or written.
    pub fn write_json(&self, path: &Path) -> Result<(), SummaryError> {
        let io_err = |source| SummaryError::Io {
            path: path.to_owned(),
            source,
        };
        let mut w = BufWriter::new(File::create(path).map_err(io_err)?);
        serde_json::to_writer_pretty(&mut w, self).map_err(|source| SummaryError::Json {
            path: path.to_owned(),
            source,
        })?;
        w.write_all(b"\n").map_err(io_err)?;
        w.flush().map_err(io_err)
    }

    /// Reads a summary written by [`Summary::write_json`].
    ///
    /// # Errors
    ///
    /// [`SummaryError::Io`] when the file cannot be read, [`SummaryError::Json`] when it does not
    /// hold a summary.
    pub fn read_json(path: &Path) -> Result<Self, SummaryError> {
        let file = File::open(path).map_err(|source| SummaryError::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_reader(BufReader::new(file)).map_err(|source| SummaryError::Json {
            path: path.to_owned(),
            source,
        })
    }
}

/// End-to-end latency percentiles in microseconds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct LatencyMicros {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// 99.99th percentile.
    pub p9999: f64,
    /// Largest recorded value.
    pub max: f64,
}

impl From<&LatencySummary> for LatencyMicros {
    fn from(s: &LatencySummary) -> Self {
        Self {
            p50: micros(s.p50),
            p90: micros(s.p90),
            p99: micros(s.p99),
            p999: micros(s.p999),
            p9999: micros(s.p9999),
            max: micros(s.max),
        }
    }
}

/// What one component did during the run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ComponentSummary {
    /// The component id given to the topology builder.
    pub id: String,
    /// Number of tasks (parallelism).
    pub tasks: usize,
    /// Tuples executed, summed over tasks.
    pub executed: u64,
    /// Task restarts by the supervisor, summed over tasks.
    pub restarts: u64,
    /// Time spent in `execute` per tuple.
    pub execute_latency_us: ExecuteLatencyMicros,
}

impl ComponentSummary {
    /// A component entry with its execute latency taken from `execute_latency` (nanoseconds).
    pub fn new(
        id: impl Into<String>,
        tasks: usize,
        executed: u64,
        restarts: u64,
        execute_latency: &LatencySummary,
    ) -> Self {
        Self {
            id: id.into(),
            tasks,
            executed,
            restarts,
            execute_latency_us: ExecuteLatencyMicros::from(execute_latency),
        }
    }
}

/// Per-tuple execute latency percentiles in microseconds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct ExecuteLatencyMicros {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest recorded value.
    pub max: f64,
}

impl From<&LatencySummary> for ExecuteLatencyMicros {
    fn from(s: &LatencySummary) -> Self {
        Self {
            p50: micros(s.p50),
            p99: micros(s.p99),
            max: micros(s.max),
        }
    }
}

/// Failure to write or read `summary.json`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// The file could not be created, opened, written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The summary file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The JSON could not be encoded, or the file does not hold a valid summary.
    #[error("{}: {source}", path.display())]
    Json {
        /// The summary file.
        path: PathBuf,
        /// The underlying error, with line and column for bad input.
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn latency(base: u64) -> LatencySummary {
        LatencySummary {
            count: 3_000,
            p50: base,
            p90: 2 * base,
            p99: 3 * base,
            p999: 4 * base,
            p9999: 5 * base,
            max: 6 * base,
            mean: base,
        }
    }

    fn sample() -> Summary {
        Summary::new(
            "word_count",
            Some(100.0),
            30.0,
            &latency(812_000),
            vec![ComponentSummary::new("split", 4, 3_000, 1, &latency(1_500))],
        )
    }

    #[test]
    fn json_matches_the_contract() {
        let got = serde_json::to_value(sample()).unwrap();
        let want = json!({
            "topology": "word_count",
            "target_rate": 100.0,
            "achieved_rate": 100.0,
            "duration_s": 30.0,
            "count": 3000,
            "latency_us": {
                "p50": 812.0, "p90": 1624.0, "p99": 2436.0,
                "p999": 3248.0, "p9999": 4060.0, "max": 4872.0
            },
            "components": [{
                "id": "split", "tasks": 4, "executed": 3000, "restarts": 1,
                "execute_latency_us": {"p50": 1.5, "p99": 4.5, "max": 9.0}
            }]
        });
        assert_eq!(got, want);
    }

    #[test]
    fn unthrottled_rate_is_null_and_zero_duration_is_finite() {
        let s = Summary::new("t", None, 0.0, &latency(1), Vec::new());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["target_rate"], Value::Null);
        assert_eq!(v["achieved_rate"], json!(0.0));
    }

    #[test]
    fn file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let s = sample();
        s.write_json(&path).unwrap();
        assert_eq!(Summary::read_json(&path).unwrap(), s);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        std::fs::write(&path, "{\"topology\": 3}").unwrap();
        let err = Summary::read_json(&path).unwrap_err().to_string();
        assert!(err.contains("summary.json"), "{err}");
        assert!(err.contains("line 1"), "{err}");

        let missing = dir.path().join("missing").join("summary.json");
        let err = sample().write_json(&missing).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
