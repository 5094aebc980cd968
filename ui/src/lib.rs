//! The web UI of a Squall run (`squall ... --ui HOST:PORT`): while the run lasts, a page that
//! draws the topology as a graph with live rates, capacity, queue depth, restarts,
//! checkpoints, end-to-end and execute latency, dead letters and, for a MapReduce job, its
//! tasks and counters; and the same numbers as JSON (`docs/ui.md`).
//!
//! # Layout
//!
//! - `sampler`: a thread that reads the engine's [`squall::LiveCounters::snapshot`] (and a
//!   job's [`squall::mapreduce::JobWatch::status`]) twice a second, derives rates, and keeps
//!   the JSON. Requests only copy the latest bytes, so the run is read at one steady pace
//!   however many pages are open, and never from its own threads.
//! - `model`: the JSON documents (`/api/v1/topology`, `/api/v1/job`).
//! - `server`: actix-web on its own thread and system, one worker.
//! - `assets`: the page, script and style, compiled in; the script draws the graph and plots
//!   as SVG by hand (no CDN, no framework).
//! - `report`: the same page as one static file, `report.html`, with the final numbers in it.

#![deny(missing_docs)]

mod assets;
mod model;
mod report;
mod sampler;
mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use squall::mapreduce::JobWatch;
use squall::LiveCounters;

pub use model::{
    tuple_text, CheckpointsJson, ComponentJson, DeadLetterJson, EdgeJson, JobJson, JobTaskJson,
    LatencyJson, Percentiles, RatesJson, TimelineJson, TopologyJson,
};

/// What the UI watches: a run's live counters (the same `Arc` as in its
/// [`squall::Config::live`]) and, for a MapReduce job, its watch.
#[derive(Debug, Clone)]
pub struct Watched {
    /// The run's counters.
    pub live: Arc<LiveCounters>,
    /// The job's watch, for a MapReduce job.
    pub job: Option<Arc<JobWatch>>,
}

/// The UI could not serve or write its report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UiError {
    /// The address could not be listened on.
    #[error("--ui {addr}: cannot listen there: {source}")]
    Io {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `report.html` could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Report {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A UI serving while a run lasts; [`Ui::finish`] at the run's end.
pub struct Ui {
    sampler: sampler::SamplerThread,
    server: server::Server,
}

impl Ui {
    /// Starts sampling `watched` and serving on `addr` (port 0 picks a free one, see
    /// [`Ui::addr`]). Call it before the run starts: the page shows the run from its start.
    pub fn serve(addr: SocketAddr, watched: Watched) -> Result<Ui, UiError> {
        let sampler = sampler::Sampler::new(watched);
        let server = server::Server::start(addr, sampler.latest())?;
        let sampler = match sampler::SamplerThread::start(sampler) {
            Ok(s) => s,
            Err(e) => {
                server.stop();
                return Err(UiError::Io { addr, source: e });
            }
        };
        Ok(Ui { sampler, server })
    }

    /// The address the UI listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The run ended: takes the final sample, stops serving, and returns the final page as one
    /// static HTML document (what [`write_report`] writes).
    pub fn finish(self) -> Option<String> {
        let final_page = self.sampler.finish().map(|mut s| {
            let (topology, job) = s.sample(true);
            report::page(topology.as_deref(), job.as_deref())
        });
        self.server.stop();
        final_page
    }
}

/// Writes `dir/report.html`: the page with the run's final numbers in it, for looking at a
/// finished run later (no server needed).
pub fn write_report(dir: &Path, watched: Watched) -> Result<(), UiError> {
    let mut sampler = sampler::Sampler::new(watched);
    let (topology, job) = sampler.sample(true);
    write_page(dir, &report::page(topology.as_deref(), job.as_deref()))
}

/// Writes an already rendered page (from [`Ui::finish`]) as `dir/report.html`.
pub fn write_page(dir: &Path, page: &str) -> Result<(), UiError> {
    let path = dir.join("report.html");
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, page))
        .map_err(|source| UiError::Report { path, source })
}
