//! Failure injection (`docs/guarantees.md`, `docs/cli.md`): word count and the sensor pipeline with
//! seeded chaos panics in every bolt, at several rates and parallelisms, checked against the
//! oracles of `word_count` and `sensor`. Exactly-once gives the oracle; at-least-once never
//! counts less and never misses an event; at-most-once never counts more and never emits an
//! event the oracle does not have; without failures every mode is exact.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::Value;
use squall::{Chaos, Config, Guarantee, LocalCluster, Supervision};
use squall_connectors::file::Malformed;
use squall_topologies::sensor::{
    EventCounts, EventOutput, Reading, ReadingSource, SensorAlarm, SimulatedSensors, Simulation,
};
use squall_topologies::word_count::{CountsOutput, WordCountJob};

use crate::{sensor, word_count};

const RATES: [f64; 3] = [0.001, 0.01, 0.05];
const PARALLELISMS: [usize; 2] = [1, 3];
const GUARANTEES: [Guarantee; 3] = [
    Guarantee::ExactlyOnce,
    Guarantee::AtLeastOnce,
    Guarantee::AtMostOnce,
];

/// A run's configuration: chaos at `rate` (none at 0) seeded by `seed`, and checkpoints often
/// enough that recoveries roll back to one, not always to the start.
fn config(guarantee: Guarantee, rate: f64, seed: u64) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = guarantee;
    config.checkpoint_interval = Duration::from_millis(5);
    if rate > 0.0 {
        config.chaos = Some(Chaos {
            panic_rate: rate,
            seed,
        });
        config.supervision = Supervision::for_chaos();
    }
    config
}

/// Every (rate, parallelism, seed) a chaos test runs.
fn cases() -> impl Iterator<Item = (f64, usize, u64)> {
    RATES.iter().enumerate().flat_map(|(i, &rate)| {
        PARALLELISMS
            .iter()
            .map(move |&p| (rate, p, 7 + 10 * i as u64 + p as u64))
    })
}

// ---- word count ----

/// About a thousand seeded lines in four files, and their oracle counts.
fn word_inputs(dir: &Path) -> (Vec<PathBuf>, BTreeMap<String, u64>) {
    let mut rng = SmallRng::seed_from_u64(31);
    let texts: Vec<String> = (0..4)
        .map(|i| word_count::text(&mut rng, 200 + 40 * i, i % 2 == 0))
        .collect();
    (
        word_count::write_inputs(dir, &texts),
        word_count::oracle(&texts),
    )
}

fn count_words(inputs: &[PathBuf], parallelism: usize, config: Config) -> Vec<(String, u64)> {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let job = WordCountJob {
        inputs: inputs.to_vec(),
        parallelism,
        output: CountsOutput::Collect(collected.clone()),
    };
    LocalCluster::new(config)
        .run(job.topology().unwrap())
        .unwrap_or_else(|e| panic!("the run must complete despite chaos: {e}"));
    let counts = collected.lock().unwrap().clone();
    counts
}

/// The words in order, each once; the counts by word.
fn by_word(got: &[(String, u64)], what: &str) -> BTreeMap<String, u64> {
    assert!(
        got.windows(2).all(|p| p[0].0 < p[1].0),
        "{what}: not sorted by word, or a word twice"
    );
    got.iter().cloned().collect()
}

#[test]
fn word_count_exactly_once_under_chaos_equals_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let (inputs, expected) = word_inputs(dir.path());
    for (rate, parallelism, seed) in cases() {
        let got = count_words(
            &inputs,
            parallelism,
            config(Guarantee::ExactlyOnce, rate, seed),
        );
        let what = format!("exactly-once, chaos {rate}, parallelism {parallelism}");
        word_count::check(&got, &expected, &what);
    }
}

#[test]
fn word_count_at_least_once_under_chaos_never_counts_less() {
    let dir = tempfile::tempdir().unwrap();
    let (inputs, expected) = word_inputs(dir.path());
    for (rate, parallelism, seed) in cases() {
        let what = format!("at-least-once, chaos {rate}, parallelism {parallelism}");
        let got = count_words(
            &inputs,
            parallelism,
            config(Guarantee::AtLeastOnce, rate, seed),
        );
        let got = by_word(&got, &what);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{what}: words"
        );
        let low: Vec<_> = expected.iter().filter(|(w, n)| got[*w] < **n).collect();
        assert!(
            low.is_empty(),
            "{what}: counted less than the oracle: {low:?}"
        );
    }
}

#[test]
fn word_count_at_most_once_under_chaos_never_counts_more() {
    let dir = tempfile::tempdir().unwrap();
    let (inputs, expected) = word_inputs(dir.path());
    let total: u64 = expected.values().sum();
    for (rate, parallelism, seed) in cases() {
        let what = format!("at-most-once, chaos {rate}, parallelism {parallelism}");
        let got = count_words(
            &inputs,
            parallelism,
            config(Guarantee::AtMostOnce, rate, seed),
        );
        let got = by_word(&got, &what);
        let high: Vec<_> = got
            .iter()
            .filter(|(w, n)| expected.get(*w).is_none_or(|e| **n > *e))
            .collect();
        assert!(
            high.is_empty(),
            "{what}: counted more than the oracle: {high:?}"
        );
        if rate >= 0.05 {
            // Hundreds of panics lose tuples and combiner tables: proof the chaos ran.
            assert!(
                got.values().sum::<u64>() < total,
                "{what}: nothing was lost"
            );
        }
    }
}

#[test]
fn word_count_without_failures_is_exact_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (inputs, expected) = word_inputs(dir.path());
    for guarantee in GUARANTEES {
        for parallelism in PARALLELISMS {
            let got = count_words(&inputs, parallelism, config(guarantee, 0.0, 0));
            let what = format!("{guarantee:?} without chaos, parallelism {parallelism}");
            word_count::check(&got, &expected, &what);
        }
    }
}

// ---- sensor alarm ----

const K: u32 = 3;

/// The pipeline's inputs: a CSV file of designed edge cases (6 sensors, gapped seqs, missing
/// readings) and seeded simulated sensors, each with its oracle.
struct SensorInputs {
    csv: PathBuf,
    csv_expected: Vec<Value>,
    sim: Simulation,
    sim_expected: Vec<Value>,
}

const CSV_SENSORS: u32 = 6;
const CSV_LEVEL: f64 = 1.5;

fn sensor_inputs(dir: &Path) -> SensorInputs {
    let readings = sensor::scenario(11, CSV_SENSORS, 700, K, CSV_LEVEL);
    let csv = dir.join("readings.csv");
    std::fs::write(&csv, sensor::csv_text(&readings)).unwrap();
    let sim = Simulation {
        sensors: 8,
        samples: 400,
        faulty_pct: 60.0,
        level: 1.0,
        seed: 5,
    };
    let sim_readings: Vec<Reading> = SimulatedSensors::all_readings(&sim);
    let inputs = SensorInputs {
        csv,
        csv_expected: sensor::oracle(&readings, CSV_SENSORS, K, CSV_LEVEL),
        sim_expected: sensor::oracle(&sim_readings, sim.sensors, K, sim.level),
        sim,
    };
    for expected in [&inputs.csv_expected, &inputs.sim_expected] {
        assert!(
            sensor::count(expected, "sensor_alarm") > 10 && sensor::count(expected, "leak") > 0
        );
    }
    inputs
}

struct SensorRun {
    events: Vec<Value>,
    counts: Arc<EventCounts>,
}

/// Runs the pipeline on the CSV input (`simulated` false) or the simulated sensors.
fn alarms(
    inputs: &SensorInputs,
    simulated: bool,
    parallelism: usize,
    config: Config,
    dir: &Path,
) -> SensorRun {
    let output = dir.join("events.jsonl");
    let (source, sensors, level) = if simulated {
        let sim = inputs.sim;
        (ReadingSource::Simulated(sim), sim.sensors, sim.level)
    } else {
        let source = ReadingSource::Csv {
            path: inputs.csv.clone(),
            malformed: Malformed::new(),
        };
        (source, CSV_SENSORS, CSV_LEVEL)
    };
    let pipeline = SensorAlarm {
        source,
        sensors,
        threshold: K,
        level,
        parallelism,
        output: EventOutput::File(output.clone()),
    };
    let counts = Arc::new(EventCounts::default());
    LocalCluster::new(config)
        .run(pipeline.topology(counts.clone()).unwrap())
        .unwrap_or_else(|e| panic!("the run must complete despite chaos: {e}"));
    SensorRun {
        events: sensor::read_events(&output),
        counts,
    }
}

/// Runs every chaos case on both inputs and hands each result to `check` with its oracle.
fn sensor_chaos(guarantee: Guarantee, check: impl Fn(&SensorRun, &[Value], f64, &str)) {
    let dir = tempfile::tempdir().unwrap();
    let inputs = sensor_inputs(dir.path());
    for (rate, parallelism, seed) in cases() {
        for simulated in [false, true] {
            let run = alarms(
                &inputs,
                simulated,
                parallelism,
                config(guarantee, rate, seed),
                dir.path(),
            );
            let (expected, source) = if simulated {
                (&inputs.sim_expected, "simulated")
            } else {
                (&inputs.csv_expected, "csv")
            };
            let what = format!("{guarantee:?}, {source}, chaos {rate}, parallelism {parallelism}");
            check(&run, expected, rate, &what);
        }
    }
}

fn assert_exact(run: &SensorRun, expected: &[Value], what: &str) {
    assert_eq!(
        run.events, expected,
        "{what}: events differ from the oracle"
    );
    assert_eq!(
        run.counts.sensor_alarms.load(Ordering::Relaxed) as usize,
        sensor::count(expected, "sensor_alarm"),
        "{what}: sensor alarm count"
    );
    assert_eq!(
        run.counts.leaks.load(Ordering::Relaxed) as usize,
        sensor::count(expected, "leak"),
        "{what}: leak count"
    );
}

#[test]
fn sensor_alarm_exactly_once_under_chaos_equals_the_oracle() {
    sensor_chaos(Guarantee::ExactlyOnce, |run, expected, _, what| {
        assert_exact(run, expected, what)
    });
}

#[test]
fn sensor_alarm_at_least_once_under_chaos_misses_no_event() {
    sensor_chaos(Guarantee::AtLeastOnce, |run, expected, _, what| {
        let got: BTreeSet<String> = run.events.iter().map(Value::to_string).collect();
        let missing: Vec<&Value> = expected
            .iter()
            .filter(|e| !got.contains(&e.to_string()))
            .collect();
        assert!(missing.is_empty(), "{what}: missing events {missing:?}");
    });
}

#[test]
fn sensor_alarm_at_most_once_under_chaos_invents_no_event() {
    sensor_chaos(Guarantee::AtMostOnce, |run, expected, rate, what| {
        let oracle: BTreeSet<String> = expected.iter().map(Value::to_string).collect();
        let extra: Vec<&Value> = run
            .events
            .iter()
            .filter(|e| !oracle.contains(&e.to_string()))
            .collect();
        assert!(
            extra.is_empty(),
            "{what}: events the oracle does not have: {extra:?}"
        );
        let distinct: BTreeSet<String> = run.events.iter().map(Value::to_string).collect();
        assert_eq!(distinct.len(), run.events.len(), "{what}: an event twice");
        if rate >= 0.05 {
            assert!(
                run.events.len() < expected.len(),
                "{what}: nothing was lost"
            );
        }
    });
}

#[test]
fn sensor_alarm_without_failures_is_exact_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = sensor_inputs(dir.path());
    for guarantee in GUARANTEES {
        for parallelism in PARALLELISMS {
            for simulated in [false, true] {
                let run = alarms(
                    &inputs,
                    simulated,
                    parallelism,
                    config(guarantee, 0.0, 0),
                    dir.path(),
                );
                let expected = if simulated {
                    &inputs.sim_expected
                } else {
                    &inputs.csv_expected
                };
                let what = format!(
                    "{guarantee:?} without chaos, simulated {simulated}, parallelism {parallelism}"
                );
                assert_exact(&run, expected, &what);
            }
        }
    }
}
