//! `squall bench`: a reference topology fed open-loop at a fixed rate, and its latency report.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::report::{human_duration, Summary};
use squall::{Config, LiveCounters, LocalCluster, RunReport, Topology};

use super::args::{BenchArgs, BenchTopology};
use super::progress::Progress;
use super::{prometheus, CliError};
use crate::bench::{PacedSpout, Pacing, Stall, Stalling, TextLines};
use crate::sensor::{AlarmBolt, EventCounts, EventOutput, ReadingSource, SensorAlarm, Simulation};
use crate::word_count::{CountsOutput, SplitBolt, WordCountJob};

/// Distinct words and words per line of the generated text (word-count).
const VOCABULARY: usize = 10_000;
const WORDS_PER_LINE: usize = 10;
/// The schedule starts this long after the command does, so that the topology is up before
/// the first tuple is due and no tuple's intended time precedes the run's epoch.
const STARTUP: Duration = Duration::from_millis(100);

/// What a bench run measured.
pub struct BenchOutcome {
    /// The engine's report (warm-up samples left out).
    pub report: RunReport,
    /// The summary, with the rates and duration of the measured period.
    pub summary: Summary,
    /// Whether the injected stall happened (`None` without `--inject-stall-ms`).
    pub stalled: Option<bool>,
}

/// Runs the bench the arguments describe; prints progress to stderr.
pub fn execute(args: &BenchArgs) -> Result<BenchOutcome, CliError> {
    let positive = |flag: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(CliError::new(format!(
                "{flag} must be a positive number, got {v}"
            )))
        }
    };
    positive("--rate", args.rate)?;
    positive("--duration", args.duration)?;
    if !(args.warmup.is_finite() && args.warmup >= 0.0) {
        return Err(CliError::new(format!(
            "--warmup must be zero or more seconds, got {}",
            args.warmup
        )));
    }
    if let Some(dir) = &args.report {
        super::inputs::require_report_dir(dir)?;
    }
    if let Some(addr) = args.metrics_addr {
        prometheus::serve(addr)?;
    }
    let mut config = Config::default();
    config.idle_wait = Duration::from_micros(args.idle_wait_us);
    if args.no_recording {
        config.track_latency = false;
        config.metrics = false;
    }
    if let Some(w) = args.workers {
        config.workers = w.max(1);
    }
    let live = Arc::new(LiveCounters::default());
    config.live = Some(live.clone());
    let watched = squall_ui::Watched {
        live: live.clone(),
        job: None,
    };
    // Before the schedule starts: binding the server must not delay the first tuples.
    let ui = super::ui::start(args.ui, &watched)?;
    let parallelism = args
        .parallelism
        .unwrap_or(config.workers.min(super::bounds::MAX_PARALLELISM))
        .max(1);
    let pacing = Arc::new(Pacing::new(
        Instant::now() + STARTUP,
        args.rate,
        Duration::from_secs_f64(args.warmup),
        Duration::from_secs_f64(args.duration),
    ));
    config.measure_from = Some(pacing.measure_from());
    let stall = args
        .inject_stall_ms
        .map(|ms| Arc::new(Stall::new(pacing.midpoint(), Duration::from_millis(ms))));
    let topology = build(args, parallelism, &pacing, stall.clone())?;
    let progress = Progress::start("tuples emitted", Some(pacing.total()), move || {
        live.spout_emitted()
    });
    let report = LocalCluster::new(config)
        .run_until_signal(topology)
        .map_err(|e| CliError::new(e.to_string()))?;
    // The run returns once the last tuple has completed.
    let completed = Instant::now();
    drop(progress);
    super::ui::finish(ui, args.report.as_deref(), &watched)?;
    let mut summary = report.summary(Some(pacing.rate()));
    let (measured, span) = measured_span(&pacing, completed);
    summary.duration_s = span;
    summary.achieved_rate = if span > 0.0 {
        measured as f64 / span
    } else {
        0.0
    };
    Ok(BenchOutcome {
        report,
        summary,
        stalled: stall.map(|s| s.happened()),
    })
}

/// The measured tuples, and the seconds from the first measured send to the completion of the
/// last tuple: the source stops at the end of the measured period, and the backlog it leaves
/// counts, so a topology that falls behind shows a rate below the target.
fn measured_span(pacing: &Pacing, completed: Instant) -> (u64, f64) {
    let span = completed.saturating_duration_since(pacing.measure_from());
    (pacing.measured(), span.as_secs_f64())
}

fn build(
    args: &BenchArgs,
    parallelism: usize,
    pacing: &Arc<Pacing>,
    stall: Option<Arc<Stall>>,
) -> Result<Topology, CliError> {
    let built = match args.topology {
        BenchTopology::SensorAlarm => {
            if args.sensors == 0 {
                return Err(CliError::new("--sensors must be at least 1"));
            }
            let sim = Simulation {
                sensors: args.sensors,
                samples: 0,
                faulty_pct: 35.0,
                level: 1.0,
                seed: args.seed,
            };
            let pipeline = SensorAlarm {
                source: ReadingSource::Paced(sim, pacing.clone()),
                sensors: args.sensors,
                threshold: 3,
                level: sim.level,
                parallelism,
                output: EventOutput::Discard,
            };
            pipeline.topology_with(Arc::new(EventCounts::default()), move || {
                Stalling::new(AlarmBolt::new(3, sim.level), stall.clone())
            })
        }
        BenchTopology::WordCount => {
            let job = WordCountJob {
                inputs: Vec::new(),
                parallelism,
                output: CountsOutput::Collect(Arc::new(Mutex::new(Vec::new()))),
            };
            let (pacing, seed) = (pacing.clone(), args.seed);
            job.topology_with(
                move || {
                    let text = TextLines::new(VOCABULARY, WORDS_PER_LINE, seed);
                    PacedSpout::new(text, pacing.clone())
                },
                1,
                move || Stalling::new(SplitBolt::default(), stall.clone()),
            )
        }
    };
    built.map_err(|e| CliError::new(e.to_string()))
}

/// `squall bench`: the rates and the table on stdout, the report files into `--report`.
pub(crate) fn run(args: &BenchArgs) -> Result<(), CliError> {
    let outcome = execute(args)?;
    print!("{}", outcome.report.format_report(&outcome.summary));
    if args.timeline {
        println!("second  p50  p99  max");
        for p in outcome.report.timeline.points() {
            println!(
                "{:>6}  {}  {}  {}",
                p.second,
                human_duration(p.p50_ns),
                human_duration(p.p99_ns),
                human_duration(p.max_ns)
            );
        }
    }
    if let Some(happened) = outcome.stalled {
        eprintln!(
            "injected stall: {}",
            if happened {
                "happened"
            } else {
                "did not happen (no tuple reached the stalling task after the midpoint)"
            }
        );
    }
    if let Some(dir) = &args.report {
        outcome
            .report
            .write_report(dir, &outcome.summary)
            .map_err(|e| CliError::new(e.to_string()))?;
        eprintln!("report written to {}", dir.display());
    }
    Ok(())
}
