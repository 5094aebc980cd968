//! The command line, declared with clap.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::bounds;

/// Squall: Storm-style topologies on actix. With no subcommand, runs the sensor alarm demo.
#[derive(Debug, Parser)]
#[command(name = "squall", version, about)]
pub struct Cli {
    /// What to do; nothing runs the sensor alarm demo.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Readings per simulated sensor in the demo.
pub const DEMO_SAMPLES: u64 = 500_000;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the topologies and jobs available.
    List,
    /// Run a topology.
    Run {
        /// The topology.
        #[command(subcommand)]
        topology: RunTopology,
    },
    /// Run a topology open-loop at a fixed rate and report its latency.
    Bench(BenchArgs),
    /// The sensor alarm demo (what `squall` with no arguments runs), on fewer readings if asked.
    Demo {
        /// Readings per simulated sensor.
        #[arg(long, default_value_t = DEMO_SAMPLES)]
        samples: u64,
        /// Serve a web UI of the run on HOST:PORT while it lasts.
        #[arg(long, value_name = "HOST:PORT", value_parser = bounds::socket_addr)]
        ui: Option<SocketAddr>,
    },
    /// Run a MapReduce job.
    Mapreduce {
        /// The job.
        #[command(subcommand)]
        job: super::mapreduce::MapReduceJob,
    },
    /// Join a cluster and run its share of the deployments until SIGTERM or SIGINT.
    ///
    /// The cluster is a NATS server with JetStream. On SIGTERM or SIGINT the worker leaves
    /// the cluster (its tasks move to the other workers at once) and exits 0.
    Worker(squall_cluster::cli::WorkerArgs),
    /// Submit a topology to a cluster.
    ///
    /// `squall submit --cluster URL [--name DEPLOYMENT] TOPOLOGY [the options of squall run
    /// TOPOLOGY] [--wait]`.
    Submit(squall_cluster::cli::SubmitArgs),
    /// Look at a cluster (`squall cluster status --cluster URL`).
    Cluster {
        /// What to look at.
        #[command(subcommand)]
        command: squall_cluster::cli::ClusterCommand,
    },
    /// Drain a deployment and remove it from the cluster.
    Kill(squall_cluster::cli::KillArgs),
}

/// The topologies `squall run` knows.
#[derive(Debug, Subcommand)]
pub enum RunTopology {
    /// Alarms per sensor and leaks across sensors, from simulated sensors or a CSV file.
    SensorAlarm(SensorArgs),
    /// Word count over text files, as a bounded streaming topology.
    WordCount(WordCountArgs),
    /// Counts per key in sliding event-time windows over a `ts_ms,key` CSV file.
    WindowCount(WindowCountArgs),
    /// Inner join of two `ts_ms,key,value` CSV files on the key per tumbling event-time window.
    WindowJoin(WindowJoinArgs),
}

/// Processing guarantee of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Guarantee {
    /// Checkpointed state; results exact even under failures.
    ExactlyOnce,
    /// Tracked tuples are replayed on failure; counts never too low.
    AtLeastOnce,
    /// No tracking; fastest.
    AtMostOnce,
}

/// The flags every `squall run` topology takes.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Processing guarantee.
    #[arg(long, value_enum, default_value_t = Guarantee::ExactlyOnce)]
    pub guarantee: Guarantee,
    /// Probability that a bolt task panics on a tuple (failure injection), from 0 to 1.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = bounds::rate)]
    pub chaos_panic_rate: f64,
    /// Seed of simulated input and of failure injection.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Serve metrics in Prometheus text format on HOST:PORT while the run lasts.
    #[arg(long, value_name = "HOST:PORT", value_parser = bounds::socket_addr)]
    pub metrics_addr: Option<SocketAddr>,
    /// Serve a web UI of the run on HOST:PORT while it lasts (port 0: any free port; the
    /// address is printed on stderr): the topology graph, live rates, latency, dead letters;
    /// JSON at /api/v1/topology.
    #[arg(long, value_name = "HOST:PORT", value_parser = bounds::socket_addr)]
    pub ui: Option<SocketAddr>,
}

impl From<Guarantee> for squall::Guarantee {
    fn from(g: Guarantee) -> Self {
        match g {
            Guarantee::ExactlyOnce => squall::Guarantee::ExactlyOnce,
            Guarantee::AtLeastOnce => squall::Guarantee::AtLeastOnce,
            Guarantee::AtMostOnce => squall::Guarantee::AtMostOnce,
        }
    }
}

impl RunOptions {
    /// Checks the flags and sets the run's guarantee and failure injection in `config`: a
    /// positive `--chaos-panic-rate` makes bolt tasks panic (seeded by `--seed`), lifts the
    /// restart intensity limit, and checkpoints every 20 ms instead of every second, so that
    /// recoveries roll back a little, not to the start, and the run completes.
    pub(crate) fn configure(&self, config: &mut squall::Config) -> Result<(), super::CliError> {
        super::inputs::require_rate("--chaos-panic-rate", self.chaos_panic_rate)?;
        config.guarantee = self.guarantee.into();
        if self.chaos_panic_rate > 0.0 {
            config.chaos = Some(squall::Chaos {
                panic_rate: self.chaos_panic_rate,
                seed: self.seed,
            });
            config.supervision = squall::Supervision::for_chaos();
            config.checkpoint_interval = std::time::Duration::from_millis(20);
        }
        Ok(())
    }
}

/// `squall run sensor-alarm`.
#[derive(Debug, Clone, Args)]
pub struct SensorArgs {
    /// Number of sensors N (simulated sensors, and the leak majority); default: 16 simulated,
    /// or the number of distinct sensors in --input. With a CSV --input, readings of sensors
    /// beyond the first N distinct ones are reported and skipped.
    #[arg(long)]
    pub sensors: Option<u32>,
    /// Readings per simulated sensor.
    #[arg(long, default_value_t = 100_000)]
    pub samples: u64,
    /// Percentage of simulated readings in alarm.
    #[arg(
        long,
        default_value_t = 35.0,
        allow_negative_numbers = true,
        value_parser = bounds::percent
    )]
    pub faulty_pct: f64,
    /// K: an alarm fires when more than K consecutive readings are in alarm.
    #[arg(long, default_value_t = 3)]
    pub threshold: u32,
    /// A reading is in alarm when value >= level.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub level: f64,
    /// Readings CSV (header sensor,seq,value, columns in any order; one reading per line, no
    /// quoting) instead of simulated sensors; `-` reads stdin. An empty file or another header
    /// is an error; a malformed line (a NaN or infinite value too) is reported and skipped. Or
    /// a live input: mqtt://HOST:PORT/TOPIC, nats://HOST:PORT/SUBJECT[?stream=S],
    /// redis://HOST:PORT/STREAMKEY (JSON readings; `?format=msgpack`).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Write the JSON Lines events here instead of stdout; or a live output: mqtt://, nats://,
    /// redis:// or postgres://USER@HOST:PORT/DB?table=NAME.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Live input: end the run after this many seconds without a message (drain, flush, exit 0).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub idle_exit: Option<f64>,
    /// Live input: end the run after this many messages.
    #[arg(long, value_name = "N")]
    pub max_records: Option<u64>,
    /// Live output: fail the run when its broker was not reached within this many seconds of
    /// the start. Default: 30 with a file or simulated input; none with a live input (the run
    /// waits for the broker until --idle-exit or a signal ends it).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub connect_timeout: Option<f64>,
    /// Write latency.hgrm, latency.svg, summary.json and report.html (the UI's page with the
    /// final numbers) into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Guarantee, failure injection and seed.
    #[command(flatten)]
    pub run: RunOptions,
    /// Tasks of the alarm bolt, 1 to 256; default: one per core.
    #[arg(long, value_parser = bounds::parallelism)]
    pub parallelism: Option<usize>,
}

/// `squall run word-count`.
#[derive(Debug, Clone, Args)]
pub struct WordCountArgs {
    /// Input files or directories (every regular file below a directory).
    #[arg(long, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Write `word<TAB>count` lines here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Tasks of the split and count bolts, 1 to 256; default: one per core.
    #[arg(long, value_parser = bounds::parallelism)]
    pub parallelism: Option<usize>,
    /// Guarantee, failure injection and seed.
    #[command(flatten)]
    pub run: RunOptions,
}

/// `squall run window-count`.
#[derive(Debug, Clone, Args)]
pub struct WindowCountArgs {
    /// CSV with header `ts_ms,key` (event time in milliseconds, a key without commas).
    #[arg(long)]
    pub input: PathBuf,
    /// Window size in seconds.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true, value_parser = bounds::positive)]
    pub window: f64,
    /// Window slide in seconds (the window size for tumbling windows).
    #[arg(long, value_name = "SECS", allow_negative_numbers = true, value_parser = bounds::positive)]
    pub slide: f64,
    /// Watermark lag in seconds: the watermark is the highest ts_ms read minus this.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, allow_negative_numbers = true, value_parser = bounds::non_negative)]
    pub lag: f64,
    /// Allowed lateness in seconds: a window stays open for updates this long past its end.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, allow_negative_numbers = true, value_parser = bounds::non_negative)]
    pub lateness: f64,
    /// Write `start_ms<TAB>end_ms<TAB>key<TAB>count` lines here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write the input lines of late tuples here (one each).
    #[arg(long)]
    pub late_output: Option<PathBuf>,
    /// Tasks of the window bolt, 1 to 256; default: one per core.
    #[arg(long, value_parser = bounds::parallelism)]
    pub parallelism: Option<usize>,
    /// Guarantee, failure injection and seed.
    #[command(flatten)]
    pub run: RunOptions,
}

/// `squall run window-join`.
#[derive(Debug, Clone, Args)]
pub struct WindowJoinArgs {
    /// Left CSV with header `ts_ms,key,value`.
    #[arg(long)]
    pub left: PathBuf,
    /// Right CSV with header `ts_ms,key,value`.
    #[arg(long)]
    pub right: PathBuf,
    /// Tumbling window size in seconds.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true, value_parser = bounds::positive)]
    pub window: f64,
    /// Watermark lag in seconds, per input.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, allow_negative_numbers = true, value_parser = bounds::non_negative)]
    pub lag: f64,
    /// Allowed lateness in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, allow_negative_numbers = true, value_parser = bounds::non_negative)]
    pub lateness: f64,
    /// Write `start_ms<TAB>key<TAB>left_value<TAB>right_value` lines here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write the input lines of late tuples here (one each).
    #[arg(long)]
    pub late_output: Option<PathBuf>,
    /// Tasks of the join bolt, 1 to 256; default: one per core.
    #[arg(long, value_parser = bounds::parallelism)]
    pub parallelism: Option<usize>,
    /// Guarantee, failure injection and seed.
    #[command(flatten)]
    pub run: RunOptions,
}

/// The topologies `squall bench` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchTopology {
    /// Simulated sensor readings at the given rate, readings per second.
    SensorAlarm,
    /// Generated text lines at the given rate, lines per second. A line's latency ends when the
    /// split bolt has counted its words: split pre-aggregates and emits only at the end.
    WordCount,
}

/// `squall bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The topology.
    #[arg(value_enum)]
    pub topology: BenchTopology,
    /// Tuples per second the source emits, on schedule whatever the topology does.
    #[arg(long, allow_negative_numbers = true, value_parser = bounds::positive)]
    pub rate: f64,
    /// Seconds measured, after the warm-up: the source stops emitting then.
    #[arg(long, allow_negative_numbers = true, value_parser = bounds::positive)]
    pub duration: f64,
    /// Seconds run before the measured period, left out of the figures.
    #[arg(
        long,
        default_value_t = 2.0,
        allow_negative_numbers = true,
        value_parser = bounds::non_negative
    )]
    pub warmup: f64,
    /// Write latency.hgrm, latency.svg, latency-timeline.svg, summary.json and report.html
    /// here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Serve metrics in Prometheus text format on HOST:PORT while the run lasts.
    #[arg(long, value_name = "HOST:PORT", value_parser = bounds::socket_addr)]
    pub metrics_addr: Option<SocketAddr>,
    /// Serve a web UI of the run on HOST:PORT while it lasts (port 0: any free port; the
    /// address is printed on stderr): the topology graph, live rates, latency, dead letters;
    /// JSON at /api/v1/topology.
    #[arg(long, value_name = "HOST:PORT", value_parser = bounds::socket_addr)]
    pub ui: Option<SocketAddr>,
    /// Make one bolt task stall once for this many milliseconds in the middle of the measured
    /// period (checks that the latency report sees stalls).
    #[arg(long, value_name = "MS")]
    pub inject_stall_ms: Option<u64>,
    /// Tasks of the alarm bolt, or of the split and count bolts, 1 to 256; default: one per
    /// core.
    #[arg(long, value_parser = bounds::parallelism)]
    pub parallelism: Option<usize>,
    /// Simulated sensors (sensor-alarm).
    #[arg(long, default_value_t = 64)]
    pub sensors: u32,
    /// Seed of the generated input.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// How long the source waits when no tuple is due yet, in microseconds. 0 (the default)
    /// yields to the worker's other tasks and looks again: lowest latency, one core kept busy.
    /// Timers tick in milliseconds, so any other value waits at least about a millisecond.
    #[arg(long, default_value_t = 0)]
    pub idle_wait_us: u64,
    /// Worker threads the tasks are spread over; default: one per core.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Also print p50, p99 and max for every second of the run.
    #[arg(long)]
    pub timeline: bool,
    /// Record neither latency nor metrics (to measure what recording costs).
    #[arg(long)]
    pub no_recording: bool,
}

/// Prints clap's help and version as clap does, and any other error as one line.
pub(crate) fn report_usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        kind => {
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim();
            let hint = match kind {
                ErrorKind::InvalidSubcommand => "; `squall list` shows what is available",
                _ => "; `squall --help` shows the usage",
            };
            eprintln!("{first}{hint}");
            ExitCode::from(2)
        }
    }
}
