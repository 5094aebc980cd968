//! What recording latency and metrics costs: the sensor alarm pipeline, unthrottled, run
//! alternately with recording (end-to-end latency histograms, per-batch execute timing, metric
//! handles updated into an installed Prometheus recorder) and without (`track_latency` and
//! `metrics` off), in one process so both see the same machine.
//!
//! `latency_cost [READINGS=8000000] [ROUNDS=5]`; prints one line per run and then
//! `median_with=X median_without=Y ratio=Z` (readings per second, ratio with/without), and
//! the same for CPU time per reading (process user + system time, which other load on a shared
//! machine disturbs far less than wall time).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusBuilder;
use squall::{Config, LocalCluster};
use squall_topologies::sensor::{EventCounts, EventOutput, ReadingSource, SensorAlarm, Simulation};

const SENSORS: u32 = 16;

/// User + system CPU time of this process so far, in seconds (Linux `/proc/self/stat`).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name, which is in parentheses and may hold spaces: utime
    // and stime (fields 14 and 15 of the line) are the 12th and 13th, in clock ticks of 1/100 s.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("bad /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc/self/stat")?
            .parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// Readings per second of wall time, and CPU nanoseconds per reading.
fn run(readings: u64, record: bool) -> anyhow::Result<(f64, f64)> {
    let mut config = Config::default();
    config.track_latency = record;
    config.metrics = record;
    let sim = Simulation {
        sensors: SENSORS,
        samples: readings / u64::from(SENSORS),
        faulty_pct: 35.0,
        level: 1.0,
        seed: 42,
    };
    let pipeline = SensorAlarm {
        source: ReadingSource::Simulated(sim),
        sensors: SENSORS,
        threshold: 3,
        level: 1.0,
        parallelism: config.workers,
        output: EventOutput::Discard,
    };
    let topology = pipeline.topology(Arc::new(EventCounts::default()))?;
    let started = Instant::now();
    let cpu = cpu_seconds()?;
    let report = LocalCluster::new(config).run(topology)?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds()? - cpu;
    let done = report.component("alarm").map_or(0, |c| c.executed);
    anyhow::ensure!(done == sim.samples * u64::from(SENSORS), "lost readings");
    if record {
        anyhow::ensure!(!report.latency.is_empty(), "no latency recorded");
    }
    Ok((done as f64 / secs, cpu * 1e9 / done as f64))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let readings: u64 = args.first().map_or(Ok(8_000_000), |s| s.parse())?;
    let rounds: usize = args.get(1).map_or(Ok(5), |s| s.parse())?;
    // A real recorder, so the metric handles do the work they do under `--metrics-addr`.
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("installing the Prometheus recorder")?;
    // [without, with] x [readings/s, CPU ns per reading].
    let mut runs: [[Vec<f64>; 2]; 2] = Default::default();
    for round in 0..rounds {
        // Alternate which goes first, so drift on a shared machine hits both alike.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for record in order {
            let (rate, cpu) = run(readings, record)?;
            println!("round={round} record={record} readings_per_s={rate:.0} cpu_ns_per_reading={cpu:.1}");
            runs[usize::from(record)][0].push(rate);
            runs[usize::from(record)][1].push(cpu);
        }
    }
    anyhow::ensure!(
        handle.render().contains("squall_executed_total"),
        "no metrics rendered"
    );
    let [[wo, cwo], [w, cw]] = runs.map(|r| r.map(median));
    println!(
        "median_with={w:.0} median_without={wo:.0} ratio={:.3}",
        w / wo
    );
    println!(
        "cpu_ns_per_reading_with={cw:.1} cpu_ns_per_reading_without={cwo:.1} ratio_by_cpu={:.3}",
        cwo / cw
    );
    Ok(())
}
