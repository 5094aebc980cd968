//! The sensor alarm pipeline against a sequential oracle: CSV and simulated sources, parallelism
//! 1 and 4, with and without `always_serialize`, and malformed input lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use squall::{Config, Guarantee, LocalCluster, RunReport};
use squall_connectors::file::Malformed;
use squall_topologies::sensor::{
    AlarmBolt, EventCounts, EventOutput, Reading, ReadingSource, SensorAlarm, SimulatedSensors,
    Simulation,
};

/// The contract of `docs/cli.md`, computed the plain sequential way over `readings` in
/// input order (each sensor's readings ascend by seq).
pub(crate) fn oracle(readings: &[Reading], sensors: u32, k: u32, level: f64) -> Vec<Value> {
    let mut events = Vec::new();
    let mut runs: BTreeMap<u32, u32> = BTreeMap::new();
    for r in readings {
        let run = runs.entry(r.sensor).or_insert(0);
        if r.value >= level {
            *run += 1;
            if *run == k + 1 {
                events.push(json!({
                    "event": "sensor_alarm", "sensor": r.sensor, "seq": r.seq, "consecutive": k + 1
                }));
            }
        } else {
            *run = 0;
        }
    }
    let mut in_alarm: BTreeMap<u64, u32> = BTreeMap::new();
    for r in readings {
        *in_alarm.entry(r.seq).or_insert(0) += u32::from(r.value >= level);
    }
    let mut run = 0;
    for (&seq, &m) in &in_alarm {
        if 2 * m > sensors {
            run += 1;
            if run == k + 1 {
                events.push(json!({
                    "event": "leak", "seq": seq, "sensors_in_alarm": m, "sensors": sensors
                }));
            }
        } else {
            run = 0;
        }
    }
    sorted(events)
}

pub(crate) fn sorted(mut events: Vec<Value>) -> Vec<Value> {
    events.sort_by_key(Value::to_string);
    events
}

pub(crate) fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind).count()
}

/// Readings of `sensors` sensors over `seqs` distinct, gapped seqs, with deliberate edge cases:
/// single-sensor runs of exactly K and K + 1, blocks where exactly half of the sensors are in
/// alarm (never a majority), blocks where half + 1 are for exactly K and K + 1 seqs, values
/// exactly at the level and just below it, and a few missing readings. Lines of different
/// sensors are interleaved in a seeded random order that keeps each sensor's order.
pub(crate) fn scenario(seed: u64, sensors: u32, seqs: usize, k: u32, level: f64) -> Vec<Reading> {
    assert!(
        sensors >= 4 && sensors % 2 == 0,
        "the edge cases need an even N >= 4"
    );
    let mut rng = SmallRng::seed_from_u64(seed);
    let n = sensors as usize;
    let k = k as usize;
    // Background: each sensor a Markov chain, so runs of every length occur.
    let mut alarm = vec![vec![false; seqs]; n];
    for row in &mut alarm {
        let mut state = rng.gen_bool(0.5);
        for cell in row.iter_mut() {
            if rng.gen_bool(0.3) {
                state = !state;
            }
            *cell = state;
        }
    }
    let mut designed = vec![false; seqs];
    // Designed blocks, each fenced by two all-clear seqs on each side.
    let mut set_block = |alarm: &mut Vec<Vec<bool>>, start: usize, rows: &[Vec<bool>]| {
        let end = start + rows.len() + 4;
        if end > seqs {
            return false;
        }
        for (i, d) in designed.iter_mut().enumerate().take(end).skip(start) {
            *d = true;
            for sensor in alarm.iter_mut() {
                sensor[i] = false;
            }
        }
        for (j, row) in rows.iter().enumerate() {
            for s in 0..n {
                alarm[s][start + 2 + j] = row[s];
            }
        }
        true
    };
    let one_sensor = |s: usize, len: usize| -> Vec<Vec<bool>> {
        (0..len).map(|_| (0..n).map(|x| x == s).collect()).collect()
    };
    let majority = |m: usize, rng: &mut SmallRng| -> Vec<bool> {
        let mut row = vec![false; n];
        let mut chosen = 0;
        while chosen < m {
            let s = rng.gen_range(0..n);
            if !row[s] {
                row[s] = true;
                chosen += 1;
            }
        }
        row
    };
    let mut patterns: Vec<Vec<Vec<bool>>> = Vec::new();
    for s in 0..n {
        patterns.push(one_sensor(s, k));
        patterns.push(one_sensor(s, k + 1));
        patterns.push(one_sensor(s, k + 3));
    }
    for len in [k, k + 1, k + 2, 3 * k] {
        // Exactly half: never a majority, however long.
        patterns.push((0..len).map(|_| majority(n / 2, &mut rng)).collect());
        // Half + 1: a leak once the run reaches K + 1.
        patterns.push((0..len).map(|_| majority(n / 2 + 1, &mut rng)).collect());
        // Every sensor.
        patterns.push((0..len).map(|_| majority(n, &mut rng)).collect());
    }
    // Alternating half and half + 1: the run keeps restarting.
    patterns.push(
        (0..3 * k)
            .map(|j| majority(n / 2 + j % 2, &mut rng))
            .collect(),
    );
    // Half + 1 for K + 1, one seq of exactly half, half + 1 for K + 1 again: two leaks.
    let mut twice: Vec<Vec<bool>> = (0..=k).map(|_| majority(n / 2 + 1, &mut rng)).collect();
    twice.push(majority(n / 2, &mut rng));
    twice.extend((0..=k).map(|_| majority(n / 2 + 1, &mut rng)));
    patterns.push(twice);

    let mut start = 10;
    for rows in &patterns {
        assert!(
            set_block(&mut alarm, start, rows),
            "scenario too short for its patterns"
        );
        start += rows.len() + 4 + rng.gen_range(5..20);
    }

    // Distinct seqs with gaps, so "consecutive seqs" means consecutive in the input.
    let seq_of = |i: usize| 100 + 2 * i as u64 + (i / 7) as u64;
    let below = f64::from_bits(level.to_bits() - 1);
    assert!(below < level && level > 0.0);
    let mut per_sensor: Vec<Vec<Reading>> = vec![Vec::new(); n];
    for (s, row) in alarm.iter().enumerate() {
        for (i, &a) in row.iter().enumerate() {
            if !designed[i] && rng.gen_bool(0.03) {
                continue; // a missing reading
            }
            let value = match (a, rng.gen_range(0..10)) {
                (true, 0..=2) => level,
                (true, _) => level + rng.gen_range(0.0..3.0),
                (false, 0) => below,
                (false, _) => level - rng.gen_range(0.001..3.0),
            };
            per_sensor[s].push(Reading {
                sensor: s as u32,
                seq: seq_of(i),
                value,
            });
        }
    }
    interleave(per_sensor, &mut rng)
}

/// Merges per-sensor sequences in a seeded random order that keeps each sequence's order.
fn interleave(per_sensor: Vec<Vec<Reading>>, rng: &mut SmallRng) -> Vec<Reading> {
    let mut queues: Vec<std::vec::IntoIter<Reading>> =
        per_sensor.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    while !queues.is_empty() {
        let q = rng.gen_range(0..queues.len());
        match queues[q].next() {
            Some(r) => out.push(r),
            None => {
                queues.swap_remove(q);
            }
        }
    }
    out
}

pub(crate) fn csv_text(readings: &[Reading]) -> String {
    let mut text = String::from("sensor,seq,value\n");
    for r in readings {
        // `{}` prints the shortest text that parses back to the same f64.
        writeln!(text, "{},{},{}", r.sensor, r.seq, r.value).unwrap();
    }
    text
}

pub(crate) fn read_events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    sorted(
        text.lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON line {line:?}: {e}"))
            })
            .collect(),
    )
}

struct Run {
    events: Vec<Value>,
    counts: Arc<EventCounts>,
    report: RunReport,
}

fn run(
    source: ReadingSource,
    sensors: u32,
    k: u32,
    level: f64,
    parallelism: usize,
    always_serialize: bool,
    dir: &Path,
) -> Run {
    let output = dir.join(format!("events-p{parallelism}-s{always_serialize}.jsonl"));
    let pipeline = SensorAlarm {
        source,
        sensors,
        threshold: k,
        level,
        parallelism,
        output: EventOutput::File(output.clone()),
    };
    let counts = Arc::new(EventCounts::default());
    let topology = pipeline.topology(counts.clone()).unwrap();
    let mut config = Config::default();
    config.workers = 2;
    config.always_serialize = always_serialize;
    let report = LocalCluster::new(config).run(topology).unwrap();
    Run {
        events: read_events(&output),
        counts,
        report,
    }
}

fn check(run: &Run, expected: &[Value], readings: usize, what: &str) {
    let missing: Vec<&Value> = expected
        .iter()
        .filter(|e| !run.events.contains(e))
        .collect();
    let extra: Vec<&Value> = run
        .events
        .iter()
        .filter(|e| !expected.contains(e))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing events {missing:?}, unexpected events {extra:?}"
    );
    assert_eq!(run.events.len(), expected.len(), "{what}: number of events");
    assert_eq!(
        run.events, expected,
        "{what}: events differ from the oracle"
    );
    assert_eq!(
        run.counts.sensor_alarms.load(Ordering::Relaxed) as usize,
        count(expected, "sensor_alarm"),
        "{what}: sensor alarm count"
    );
    assert_eq!(
        run.counts.leaks.load(Ordering::Relaxed) as usize,
        count(expected, "leak"),
        "{what}: leak count"
    );
    // Simulated readings travel in blocks: the alarm bolt counts readings, not tuples.
    assert_eq!(
        run.counts.readings(),
        readings as u64,
        "{what}: readings executed by the alarm bolt"
    );
    assert!(run
        .report
        .component("alarm")
        .is_some_and(|c| c.executed > 0));
}

#[test]
fn oracle_sees_the_designed_edge_cases() {
    // Guards the generator: the comparison below is only as sharp as the scenario.
    let (n, k, level) = (6, 3, 1.5);
    let readings = scenario(11, n, 1500, k, level);
    let expected = oracle(&readings, n, k, level);
    assert!(count(&expected, "sensor_alarm") > 50, "{expected:?}");
    assert!(count(&expected, "leak") >= 8, "{expected:?}");
    assert!(readings.iter().any(|r| r.value == level));
    assert!(expected
        .iter()
        .all(|e| e["event"] != "leak" || 2 * e["sensors_in_alarm"].as_u64().unwrap() > 6));
    // Exactly half in alarm is no majority: a scenario of exactly-half seqs only has no leak.
    let half: Vec<Reading> = (0..20u64)
        .flat_map(|seq| {
            (0..4u32).map(move |s| Reading {
                sensor: s,
                seq,
                value: if s < 2 { 2.0 } else { 0.0 },
            })
        })
        .collect();
    assert_eq!(count(&oracle(&half, 4, 1, 1.0), "leak"), 0);
}

#[test]
fn csv_source_matches_the_oracle_at_parallelism_1_and_4() {
    let (n, k, level) = (6, 3, 1.5);
    let readings = scenario(11, n, 1500, k, level);
    let expected = oracle(&readings, n, k, level);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("readings.csv");
    std::fs::write(&input, csv_text(&readings)).unwrap();
    for parallelism in [1, 4] {
        let malformed = Malformed::new();
        let source = ReadingSource::Csv {
            path: input.clone(),
            malformed: malformed.clone(),
        };
        let run = run(source, n, k, level, parallelism, false, dir.path());
        check(
            &run,
            &expected,
            readings.len(),
            &format!("csv, parallelism {parallelism}"),
        );
        assert_eq!(malformed.count(), 0);
    }
}

#[test]
fn csv_source_matches_the_oracle_with_always_serialize() {
    let (n, k, level) = (8, 2, 0.75);
    let readings = scenario(23, n, 1200, k, level);
    let expected = oracle(&readings, n, k, level);
    assert!(count(&expected, "leak") > 0 && count(&expected, "sensor_alarm") > 0);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("readings.csv");
    std::fs::write(&input, csv_text(&readings)).unwrap();
    let source = ReadingSource::Csv {
        path: input,
        malformed: Malformed::new(),
    };
    let run = run(source, n, k, level, 4, true, dir.path());
    check(&run, &expected, readings.len(), "csv, always_serialize");
}

#[test]
fn simulated_source_matches_the_oracle() {
    let sim = Simulation {
        sensors: 8,
        samples: 2500,
        faulty_pct: 60.0,
        level: 1.0,
        seed: 5,
    };
    let k = 3;
    let readings = SimulatedSensors::all_readings(&sim);
    assert_eq!(readings.len(), 8 * 2500);
    let expected = oracle(&readings, sim.sensors, k, sim.level);
    assert!(count(&expected, "leak") > 0 && count(&expected, "sensor_alarm") > 0);
    let dir = tempfile::tempdir().unwrap();
    for (parallelism, serialize) in [(1, false), (4, false), (4, true)] {
        let source = ReadingSource::Simulated(sim);
        let run = run(
            source,
            sim.sensors,
            k,
            sim.level,
            parallelism,
            serialize,
            dir.path(),
        );
        check(
            &run,
            &expected,
            readings.len(),
            &format!("simulated, parallelism {parallelism}, always_serialize {serialize}"),
        );
    }
}

#[test]
fn malformed_lines_are_counted_and_skipped() {
    let (n, k, level) = (4, 2, 1.0);
    let good = scenario(31, n, 800, k, level);
    let expected = oracle(&good, n, k, level);
    assert!(!expected.is_empty());
    let bad = ["1,x,0.5", "2,7", "abc,3,1.0", "3,9,not-a-number", "0,,1.0"];
    // Insert the bad lines at seeded positions among the good ones.
    let mut rng = SmallRng::seed_from_u64(99);
    let mut lines: Vec<String> = good
        .iter()
        .map(|r| format!("{},{},{}", r.sensor, r.seq, r.value))
        .collect();
    for b in bad {
        let at = rng.gen_range(0..=lines.len());
        lines.insert(at, b.to_string());
    }
    let text = format!("sensor,seq,value\n{}\n", lines.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("readings.csv");
    std::fs::write(&input, text).unwrap();
    for parallelism in [1, 4] {
        let malformed = Malformed::new();
        let source = ReadingSource::Csv {
            path: input.clone(),
            malformed: malformed.clone(),
        };
        let run = run(source, n, k, level, parallelism, false, dir.path());
        assert_eq!(
            malformed.count(),
            bad.len() as u64,
            "malformed lines counted"
        );
        check(
            &run,
            &expected,
            good.len(),
            &format!("malformed input, parallelism {parallelism}"),
        );
    }
}

#[test]
fn n_smaller_than_the_sensors_in_the_input_skips_the_sensors_beyond_n() {
    // N is whatever the pipeline is told (`--sensors`). An input holding more sensors has the
    // readings of those beyond the first N distinct ones (in file order) reported and skipped,
    // so a leak never counts more than N sensors: the oracle sees the first N sensors only.
    let (n, k, level) = (6, 2, 1.0);
    let readings = scenario(41, n, 800, k, level);
    let told = 4;
    let mut first = Vec::new();
    for r in &readings {
        if !first.contains(&r.sensor) && first.len() < told as usize {
            first.push(r.sensor);
        }
    }
    let admitted: Vec<Reading> = readings
        .iter()
        .filter(|r| first.contains(&r.sensor))
        .cloned()
        .collect();
    let expected = oracle(&admitted, told, k, level);
    assert!(count(&expected, "leak") > 0);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("readings.csv");
    std::fs::write(&input, csv_text(&readings)).unwrap();
    let malformed = Malformed::new();
    let source = ReadingSource::Csv {
        path: input,
        malformed: malformed.clone(),
    };
    let run = run(source, told, k, level, 2, false, dir.path());
    check(
        &run,
        &expected,
        admitted.len(),
        "N = 4 with 6 sensors in the input",
    );
    assert_eq!(malformed.count() as usize, readings.len() - admitted.len());
}

/// The output file's lines, sorted (events from different tasks arrive in any order).
fn sorted_lines(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn blocks_and_one_reading_per_tuple_write_the_same_bytes_under_every_guarantee() {
    // 700 samples: the last block of each sensor is short (64 does not divide it).
    let sim = Simulation {
        sensors: 9,
        samples: 700,
        faulty_pct: 55.0,
        level: 1.0,
        seed: 21,
    };
    let k = 3;
    let readings = SimulatedSensors::all_readings(&sim);
    let expected = oracle(&readings, sim.sensors, k, sim.level);
    assert!(count(&expected, "leak") > 0 && count(&expected, "sensor_alarm") > 0);
    let dir = tempfile::tempdir().unwrap();
    for guarantee in [
        Guarantee::AtMostOnce,
        Guarantee::AtLeastOnce,
        Guarantee::ExactlyOnce,
    ] {
        for parallelism in [1, 3] {
            let mut outputs = Vec::new();
            for blocks in [true, false] {
                let output = dir
                    .path()
                    .join(format!("{guarantee:?}-{parallelism}-{blocks}.jsonl"));
                let pipeline = SensorAlarm {
                    source: ReadingSource::Simulated(sim),
                    sensors: sim.sensors,
                    threshold: k,
                    level: sim.level,
                    parallelism,
                    output: EventOutput::File(output.clone()),
                };
                let counts = Arc::new(EventCounts::default());
                let topology = if blocks {
                    pipeline.topology(counts.clone()).unwrap()
                } else {
                    pipeline
                        .topology_with(counts.clone(), move || AlarmBolt::new(k, sim.level))
                        .unwrap()
                };
                let mut config = Config::default();
                config.workers = 2;
                config.guarantee = guarantee;
                LocalCluster::new(config).run(topology).unwrap();
                if blocks {
                    assert_eq!(counts.readings(), readings.len() as u64);
                }
                assert_eq!(
                    read_events(&output),
                    expected,
                    "{guarantee:?}, blocks {blocks}"
                );
                outputs.push(sorted_lines(&output));
            }
            assert_eq!(
                outputs[0], outputs[1],
                "{guarantee:?}, parallelism {parallelism}: blocks and single readings differ"
            );
        }
    }
}
