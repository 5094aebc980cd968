//! `squall mapreduce JOB`: the MapReduce jobs of `docs/cli.md`, with progress lines and
//! the counters on stderr.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use squall::mapreduce::{
    FailureInjection, InjectedFailure, Job, JobReport, JobWatch, Mapper, Progress, Reducer,
    Settings,
};

use super::inputs::require_rate;
use super::CliError;
use crate::mapreduce::{cooccurrence, inverted_index, wordcount};

/// The jobs `squall mapreduce` runs.
#[derive(Debug, Subcommand)]
pub enum MapReduceJob {
    /// Word count: `word<TAB>count` lines.
    Wordcount(JobArgs),
    /// Inverted index: `word<TAB>doc1,doc2,...` lines, documents relative to --input.
    InvertedIndex(JobArgs),
    /// Co-occurrence of the items of each line: `a<TAB>b<TAB>count` lines.
    Cooccurrence(CooccurrenceArgs),
}

/// The flags every job takes.
#[derive(Debug, Clone, Args)]
pub struct JobArgs {
    /// Input files or directories (every regular file below a directory).
    #[arg(long, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Output directory; must not exist.
    #[arg(long)]
    pub output: PathBuf,
    /// Map tasks running at once, 1 to 256; default: one per core.
    #[arg(long, value_parser = super::bounds::tasks)]
    pub mappers: Option<usize>,
    /// Reduce tasks (output files), 1 to 256; default: one per core.
    #[arg(long, value_parser = super::bounds::tasks)]
    pub reducers: Option<usize>,
    /// Do not combine map output before the shuffle.
    #[arg(long)]
    pub no_combiner: bool,
    /// Probability that a task attempt panics partway (failure injection), from 0 to 1.
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_parser = super::bounds::rate
    )]
    pub inject_failures: f64,
    /// Seed of failure injection.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sort buffer per map task in MiB; map output beyond it spills to disk.
    #[arg(long, default_value_t = 64)]
    pub sort_buffer_mb: usize,
    /// Serve a web UI of the job on HOST:PORT while it runs (port 0: any free port): its map
    /// and reduce tasks, attempts, progress and counters; JSON at /api/v1/job.
    #[arg(long, value_name = "HOST:PORT", value_parser = super::bounds::socket_addr)]
    pub ui: Option<std::net::SocketAddr>,
}

/// Co-occurrence's method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// One record per pair.
    Pairs,
    /// One associative array per item.
    Stripes,
}

/// `squall mapreduce cooccurrence`.
#[derive(Debug, Clone, Args)]
pub struct CooccurrenceArgs {
    /// pairs or stripes.
    #[arg(long, value_enum)]
    pub method: Method,
    /// Input, output and job flags.
    #[command(flatten)]
    pub job: JobArgs,
}

impl JobArgs {
    fn settings(&self) -> Result<Settings, CliError> {
        require_rate("--inject-failures", self.inject_failures)?;
        let mut s = Settings::default();
        if let Some(m) = self.mappers {
            s.mappers = m;
        }
        if let Some(r) = self.reducers {
            s.reducers = r;
        }
        if s.mappers == 0 || s.reducers == 0 {
            return Err(CliError::new("--mappers and --reducers must be at least 1"));
        }
        if self.sort_buffer_mb == 0 {
            return Err(CliError::new("--sort-buffer-mb must be at least 1"));
        }
        s.sort_buffer_bytes = self.sort_buffer_mb << 20;
        if self.inject_failures > 0.0 {
            s.inject_failures = Some(FailureInjection {
                rate: self.inject_failures,
                seed: self.seed,
            });
        }
        Ok(s)
    }

    /// The one input path of a job that takes one.
    fn single_input(&self, job: &str) -> Result<PathBuf, CliError> {
        match self.input.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(CliError::new(format!(
                "{job} takes exactly one --input path"
            ))),
        }
    }
}

/// Runs a job; output files under --output, progress and counters on stderr.
pub(crate) fn run(job: &MapReduceJob) -> Result<(), CliError> {
    quiet_injected_panics();
    match job {
        MapReduceJob::Wordcount(a) => execute(
            "wordcount",
            a.ui,
            wordcount::wordcount(
                a.input.clone(),
                a.output.clone(),
                a.settings()?,
                !a.no_combiner,
            ),
        ),
        MapReduceJob::InvertedIndex(a) => execute(
            "inverted-index",
            a.ui,
            inverted_index::inverted_index(
                a.single_input("inverted-index")?,
                a.output.clone(),
                a.settings()?,
                !a.no_combiner,
            ),
        ),
        MapReduceJob::Cooccurrence(c) => {
            let a = &c.job;
            let input = a.single_input("cooccurrence")?;
            let (output, settings, combine) = (a.output.clone(), a.settings()?, !a.no_combiner);
            match c.method {
                Method::Pairs => execute(
                    "cooccurrence (pairs)",
                    a.ui,
                    cooccurrence::pairs(input, output, settings, combine),
                ),
                Method::Stripes => execute(
                    "cooccurrence (stripes)",
                    a.ui,
                    cooccurrence::stripes(input, output, settings, combine),
                ),
            }
        }
    }
}

fn execute<M, R>(
    name: &str,
    ui: Option<std::net::SocketAddr>,
    job: Job<M, R>,
) -> Result<(), CliError>
where
    M: Mapper,
    R: Reducer<Key = M::Key, Value = M::Value>,
{
    let watch = Arc::new(JobWatch::default());
    let watched = squall_ui::Watched {
        live: watch.live().clone(),
        job: Some(watch.clone()),
    };
    let ui = super::ui::start(ui, &watched)?;
    let job = job.watch(watch);
    // On a terminal an indicatif bar of committed tasks; otherwise a plain line a second.
    let terminal = std::io::stderr().is_terminal();
    let committed = Arc::new(AtomicU64::new(0));
    let bar = terminal.then(|| {
        let committed = committed.clone();
        super::progress::Progress::start("tasks committed", None, move || {
            committed.load(Ordering::Relaxed)
        })
    });
    let every = if terminal {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(1)
    };
    let report: JobReport = job
        .run_with_progress(every, |p| {
            committed.store((p.maps_done + p.reduces_done) as u64, Ordering::Relaxed);
            if !terminal {
                eprintln!("{name}: {}", line(p));
            }
        })
        .map_err(|e| CliError::new(e.to_string()))?;
    drop(bar);
    super::ui::finish(ui, None, &watched)?;
    eprintln!(
        "{name}: done in {:.2}s, output in {}",
        report.elapsed.as_secs_f64(),
        job.output_dir().display()
    );
    eprint!("counters:\n{}", report.counters);
    Ok(())
}

fn line(p: &Progress) -> String {
    format!(
        "map {}/{}, reduce {}/{}, {} failed and {} killed attempts",
        p.maps_done, p.maps, p.reduces_done, p.reduces, p.failed, p.killed
    )
}

/// Injected failures are expected: keep their panic messages off stderr; every other panic
/// still reports as usual.
fn quiet_injected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<InjectedFailure>() {
            default(info);
        }
    }));
}
