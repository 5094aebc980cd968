//! The `squall` command's contract (`docs/cli.md`), run as a process and checked against
//! oracles computed here.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use squall_topologies::sensor::{SimulatedSensors, Simulation, BLOCK_SEQS};

fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        // A panic would print a backtrace; the user-mistake tests check there is none.
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstderr:\n{}",
        out.status,
        text(&out.stderr)
    );
}

fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked")
            && !stderr.contains("stack backtrace")
            && !stderr.contains("RUST_BACKTRACE"),
        "a panic instead of an error message:\n{stderr}"
    );
}

/// One `(sensor, seq, value)` reading.
type Reading = (u32, u64, f64);

/// The events of `docs/cli.md`, computed sequentially over readings in input order.
fn sensor_oracle(readings: &[Reading], sensors: u32, k: u32, level: f64) -> Vec<Value> {
    let mut events = Vec::new();
    let mut runs: BTreeMap<u32, u32> = BTreeMap::new();
    for &(sensor, seq, value) in readings {
        let run = runs.entry(sensor).or_insert(0);
        if value >= level {
            *run += 1;
            if *run == k + 1 {
                events.push(json!({"event": "sensor_alarm", "sensor": sensor, "seq": seq, "consecutive": k + 1}));
            }
        } else {
            *run = 0;
        }
    }
    let mut in_alarm: BTreeMap<u64, u32> = BTreeMap::new();
    for &(_, seq, value) in readings {
        *in_alarm.entry(seq).or_insert(0) += u32::from(value >= level);
    }
    let mut run = 0;
    for (&seq, &m) in &in_alarm {
        if 2 * m > sensors {
            run += 1;
            if run == k + 1 {
                events.push(
                    json!({"event": "leak", "seq": seq, "sensors_in_alarm": m, "sensors": sensors}),
                );
            }
        } else {
            run = 0;
        }
    }
    sorted(events)
}

fn sorted(mut events: Vec<Value>) -> Vec<Value> {
    events.sort_by_key(Value::to_string);
    events
}

fn parse_events(jsonl: &str) -> Vec<Value> {
    sorted(
        jsonl
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l:?}: {e}"))
            })
            .collect(),
    )
}

/// Four sensors, 120 seqs, interleaved in a seeded order that keeps each sensor's order; runs of
/// alarms long enough for sensor alarms and leaks with the default K = 3, level 1.0.
fn readings(seed: u64) -> Vec<Reading> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut per_sensor: Vec<Vec<Reading>> = Vec::new();
    for sensor in 0..4u32 {
        let mut state = false;
        let mut row = Vec::new();
        for seq in 0..120u64 {
            // Long correlated stretches; all sensors share a "storm" between seqs 40 and 60.
            if rng.gen_bool(0.25) {
                state = !state;
            }
            let alarm = state || (40..60).contains(&seq) && sensor != 3;
            let value = if alarm {
                if rng.gen_bool(0.3) {
                    1.0
                } else {
                    1.0 + rng.gen_range(0.0..2.0)
                }
            } else {
                rng.gen_range(-1.0..0.999)
            };
            row.push((sensor, seq, value));
        }
        per_sensor.push(row);
    }
    let mut cursors = [0usize; 4];
    let mut out = Vec::new();
    while out.len() < 4 * 120 {
        let s = rng.gen_range(0..4);
        if let Some(&r) = per_sensor[s].get(cursors[s]) {
            out.push(r);
            cursors[s] += 1;
        }
    }
    out
}

/// The CSV of `readings`, with `bad` inserted as the 3rd data row (file line 4).
fn csv_with_bad_line(readings: &[Reading], bad: &str) -> String {
    let mut s = String::from("sensor,seq,value\n");
    for (i, (sensor, seq, value)) in readings.iter().enumerate() {
        if i == 2 {
            writeln!(s, "{bad}").unwrap();
        }
        writeln!(s, "{sensor},{seq},{value}").unwrap();
    }
    s
}

#[test]
fn list_names_the_topologies() {
    let out = squall(&["list"]);
    assert_ok(&out, "list");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("sensor-alarm"), "{stdout}");
    assert!(stdout.contains("word-count"), "{stdout}");
}

#[test]
fn sensor_alarm_on_a_csv_prints_the_oracles_events() {
    let readings = readings(3);
    let expected = sensor_oracle(&readings, 4, 3, 1.0);
    assert!(
        expected.iter().any(|e| e["event"] == "leak"),
        "{expected:?}"
    );
    assert!(
        expected.iter().any(|e| e["event"] == "sensor_alarm"),
        "{expected:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("readings.csv");
    std::fs::write(&input, csv_with_bad_line(&readings, "2,not-a-seq,1.5")).unwrap();

    let out = squall(&["run", "sensor-alarm", "--input", input.to_str().unwrap()]);
    assert_ok(&out, "run sensor-alarm --input");
    assert_eq!(parse_events(&text(&out.stdout)), expected);
    let stderr = text(&out.stderr);
    let report: Vec<&str> = stderr.lines().filter(|l| l.contains("line 4")).collect();
    assert_eq!(
        report.len(),
        1,
        "the malformed line is reported once with its number:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .all(|l| !l.contains("line 5") && !l.contains("line 3")),
        "{stderr}"
    );
    assert_no_panic(&stderr);

    // --sensors sets N for the leak majority: with N = 10, four sensors are never a majority.
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        input.to_str().unwrap(),
        "--sensors",
        "10",
        "--threshold",
        "2",
        "--level",
        "1.5",
        "--guarantee",
        "at-most-once",
    ]);
    assert_ok(&out, "run sensor-alarm --sensors 10");
    let expected = sensor_oracle(&readings, 10, 2, 1.5);
    assert!(expected.iter().all(|e| e["event"] != "leak"));
    assert_eq!(parse_events(&text(&out.stdout)), expected);
}

#[test]
fn sensor_alarm_on_a_missing_file_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let out = squall(&["run", "sensor-alarm", "--input", missing.to_str().unwrap()]);
    assert!(!out.status.success(), "a missing input must fail the run");
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line of error:\n{stderr}"
    );
    assert!(stderr.contains("missing.csv"), "{stderr}");
    assert_no_panic(&stderr);
    assert!(text(&out.stdout).trim().is_empty());
}

#[test]
fn an_unknown_topology_is_an_error_not_a_panic() {
    let out = squall(&["run", "nosuch"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(!stderr.trim().is_empty());
    assert!(stderr.contains("nosuch"), "{stderr}");
    assert_no_panic(&stderr);
}

fn word_oracle<'a>(texts: impl IntoIterator<Item = &'a String>) -> String {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for t in texts {
        for w in t
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *counts.entry(w.to_lowercase()).or_insert(0) += 1;
        }
    }
    // BTreeMap<String> iterates in byte order.
    counts.iter().map(|(w, n)| format!("{w}\t{n}\n")).collect()
}

/// Three seeded text files in `dir` (one in a subdirectory); returns their contents.
fn write_texts(dir: &Path) -> Vec<String> {
    const WORDS: &[&str] = &[
        "Squall",
        "squall",
        "STORM",
        "bolt",
        "Spout",
        "Ünïcode",
        "ΣΟΦΙΑ",
        "σοφία",
        "naïve",
        "42",
        "x2",
        "Zebra",
        "apple",
        "Äpfel",
        "zürich",
        "ǅemal",
    ];
    const SEPS: &[&str] = &[" ", ", ", ". ", "!", "\t", " -- ", "'", "…"];
    let mut rng = SmallRng::seed_from_u64(17);
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    let mut texts = Vec::new();
    for (i, name) in ["a.txt", "b.txt", "nested/c.txt"].iter().enumerate() {
        let mut t = String::new();
        for _ in 0..(80 + 40 * i) {
            for w in 0..rng.gen_range(0..10) {
                if w > 0 {
                    t.push_str(SEPS[rng.gen_range(0..SEPS.len())]);
                }
                t.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
            }
            t.push('\n');
        }
        std::fs::write(dir.join(name), &t).unwrap();
        texts.push(t);
    }
    texts
}

#[test]
fn word_count_writes_the_oracles_counts_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    let texts = write_texts(&input);
    let expected = word_oracle(&texts);
    let output = dir.path().join("counts.tsv");
    let out = squall(&[
        "run",
        "word-count",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_ok(&out, "run word-count --output");
    let got = std::fs::read_to_string(&output).unwrap();
    let words: Vec<&str> = got.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert!(
        words.windows(2).all(|p| p[0].as_bytes() < p[1].as_bytes()),
        "not sorted by word:\n{got}"
    );
    assert_eq!(got, expected);
    assert!(
        text(&out.stdout).trim().is_empty(),
        "counts went to --output, not stdout"
    );
}

/// `word\tcount` lines as a map.
fn parse_counts(tsv: &str) -> BTreeMap<String, u64> {
    tsv.lines()
        .map(|l| {
            let (w, n) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("not word<TAB>count: {l:?}"));
            (w.to_string(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn word_count_under_chaos_keeps_each_guarantee() {
    // Needs the runtime's supervision, replay and rollback (issue 3): chaos panics bolt tasks.
    let dir = tempfile::tempdir().unwrap();
    let texts = write_texts(dir.path());
    let expected_text = word_oracle(&texts);
    let expected = parse_counts(&expected_text);
    let files: Vec<String> = ["a.txt", "b.txt", "nested/c.txt"]
        .iter()
        .map(|f| dir.path().join(f).to_str().unwrap().to_string())
        .collect();
    for guarantee in ["exactly-once", "at-least-once", "at-most-once"] {
        let mut args = vec![
            "run",
            "word-count",
            "--chaos-panic-rate",
            "0.01",
            "--seed",
            "7",
            "--guarantee",
            guarantee,
            "--parallelism",
            "3",
            "--input",
        ];
        args.extend(files.iter().map(String::as_str));
        let out = squall(&args);
        assert_ok(&out, guarantee);
        let stdout = text(&out.stdout);
        let got = parse_counts(&stdout);
        let words: Vec<&String> = got.keys().collect();
        assert!(
            stdout
                .lines()
                .map(|l| l.split('\t').next().unwrap())
                .eq(words.iter().map(|w| w.as_str())),
            "{guarantee}: output not sorted by word, or a word twice"
        );
        match guarantee {
            "exactly-once" => assert_eq!(stdout, expected_text, "exactly-once under chaos"),
            "at-least-once" => {
                assert_eq!(
                    words,
                    expected.keys().collect::<Vec<_>>(),
                    "{guarantee}: words"
                );
                let low: Vec<_> = expected.iter().filter(|(w, n)| got[*w] < **n).collect();
                assert!(low.is_empty(), "at-least-once counted less: {low:?}");
            }
            _ => {
                let high: Vec<_> = got
                    .iter()
                    .filter(|(w, n)| expected.get(*w).is_none_or(|e| **n > *e))
                    .collect();
                assert!(high.is_empty(), "at-most-once counted more: {high:?}");
            }
        }
        // docs/cli.md: stderr says how many restarts and replays the run took.
        let stderr = text(&out.stderr);
        let recovery = stderr
            .lines()
            .find(|l| l.starts_with("recovery: "))
            .unwrap_or_else(|| panic!("{guarantee}: no recovery line on stderr:\n{stderr}"));
        let restarts: u64 = recovery
            .trim_start_matches("recovery: ")
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            restarts > 0,
            "{guarantee}: chaos at 0.01 restarted nothing: {recovery}"
        );
    }
}

#[test]
fn word_count_accepts_every_guarantee() {
    let dir = tempfile::tempdir().unwrap();
    let texts = write_texts(dir.path());
    let expected = word_oracle(&texts);
    let files: Vec<String> = ["a.txt", "b.txt", "nested/c.txt"]
        .iter()
        .map(|f| dir.path().join(f).to_str().unwrap().to_string())
        .collect();
    for guarantee in ["at-most-once", "at-least-once", "exactly-once"] {
        let mut args = vec![
            "run",
            "word-count",
            "--guarantee",
            guarantee,
            "--parallelism",
            "3",
            "--input",
        ];
        args.extend(files.iter().map(String::as_str));
        let out = squall(&args);
        assert_ok(&out, guarantee);
        assert_eq!(text(&out.stdout), expected, "--guarantee {guarantee}");
    }
}

#[test]
fn sensor_alarm_report_writes_the_report_files() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let events = dir.path().join("events.jsonl");
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--sensors",
        "6",
        "--samples",
        "3000",
        "--faulty-pct",
        "60",
        "--seed",
        "9",
        "--report",
        report.to_str().unwrap(),
        "--output",
        events.to_str().unwrap(),
    ]);
    assert_ok(&out, "run sensor-alarm --report");

    // The simulated run's events match the oracle over the simulation's readings.
    let sim = Simulation {
        sensors: 6,
        samples: 3000,
        faulty_pct: 60.0,
        level: 1.0,
        seed: 9,
    };
    let readings: Vec<Reading> = SimulatedSensors::all_readings(&sim)
        .iter()
        .map(|r| (r.sensor, r.seq, r.value))
        .collect();
    let expected = sensor_oracle(&readings, 6, 3, 1.0);
    assert!(expected.iter().any(|e| e["event"] == "leak"));
    assert_eq!(
        parse_events(&std::fs::read_to_string(&events).unwrap()),
        expected
    );

    let hgrm = std::fs::read_to_string(report.join("latency.hgrm")).unwrap();
    assert!(
        hgrm.contains("Value") && hgrm.contains("Percentile"),
        "{hgrm}"
    );
    assert!(hgrm.lines().count() > 5);
    let svg = std::fs::read_to_string(report.join("latency.svg")).unwrap();
    assert!(svg.contains("<svg"), "not an SVG");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    for key in [
        "topology",
        "target_rate",
        "achieved_rate",
        "duration_s",
        "count",
        "latency_us",
        "components",
    ] {
        assert!(
            summary.get(key).is_some(),
            "summary.json lacks `{key}`: {summary}"
        );
    }
    assert_eq!(summary["topology"], "sensor-alarm");
    assert!(
        summary["target_rate"].is_null(),
        "an unthrottled run has no target rate"
    );
    assert!(summary["count"].as_u64().unwrap() > 0);
    for key in ["p50", "p90", "p99", "p999", "p9999", "max"] {
        assert!(
            summary["latency_us"][key].is_number(),
            "latency_us.{key}: {summary}"
        );
    }
    let components = summary["components"].as_array().unwrap();
    let ids: Vec<&str> = components
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in ["readings", "alarm", "leak", "sink"] {
        assert!(ids.contains(&id), "component {id} missing: {ids:?}");
    }
    for c in components {
        for key in ["id", "tasks", "executed", "restarts", "execute_latency_us"] {
            assert!(c.get(key).is_some(), "component lacks `{key}`: {c}");
        }
    }
    let alarm = components.iter().find(|c| c["id"] == "alarm").unwrap();
    // Simulated readings travel in blocks of BLOCK_SEQS seqs of one sensor.
    assert_eq!(
        alarm["executed"].as_u64(),
        Some(6 * 3000u64.div_ceil(BLOCK_SEQS))
    );
}

#[test]
fn the_demo_prints_alarms_and_a_latency_table() {
    // The full demo (`squall`, 500000 readings per sensor) takes seconds in release and too
    // long in a debug build: debug runs the same demo on fewer readings.
    let args: &[&str] = if cfg!(debug_assertions) {
        &["demo", "--samples", "20000"]
    } else {
        &[]
    };
    let out = squall(args);
    assert_ok(&out, "the demo");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Squall sensor alarm demo"), "{stdout}");
    assert!(stdout.contains("\"event\":\"sensor_alarm\""), "{stdout}");
    for header in ["p50", "p90", "p99", "p99.9", "p99.99", "max"] {
        assert!(stdout.contains(header), "no {header} column:\n{stdout}");
    }
    assert!(stdout.contains("end-to-end"), "{stdout}");
}

#[test]
fn a_malformed_line_does_not_count_as_a_sensor() {
    // N defaults to the number of distinct sensors in the input; a skipped line is not a reading.
    // Sensor 1 alone is in alarm for K + 1 = 4 seqs: with N = 1 that is a leak.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("one-sensor.csv");
    std::fs::write(
        &input,
        "sensor,seq,value\n1,1,1.0\n1,2,1.0\n9,x,1\n1,3,1\n1,4,1\n",
    )
    .unwrap();
    let out = squall(&["run", "sensor-alarm", "--input", input.to_str().unwrap()]);
    assert_ok(&out, "run sensor-alarm");
    let readings = [(1, 1, 1.0), (1, 2, 1.0), (1, 3, 1.0), (1, 4, 1.0)];
    assert_eq!(
        parse_events(&text(&out.stdout)),
        sensor_oracle(&readings, 1, 3, 1.0)
    );
}

#[test]
fn sensor_alarm_reads_standard_input() {
    use std::io::Write as _;
    use std::process::Stdio;
    let readings = readings(5);
    let expected = sensor_oracle(&readings, 4, 3, 1.0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(["run", "sensor-alarm", "--input", "-", "--sensors", "4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let csv = csv_with_bad_line(&readings, "1,2");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(csv.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out, "run sensor-alarm --input -");
    assert_eq!(parse_events(&text(&out.stdout)), expected);
    assert!(text(&out.stderr).contains("-: line 4: expected 3 fields, found 2"));

    // Without --sensors, N cannot be known before the input is read: a clear error.
    let out = squall(&["run", "sensor-alarm", "--input", "-"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--sensors"), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn exactly_once_chaos_on_standard_input_is_one_clear_error() {
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        "-",
        "--sensors",
        "4",
        "--chaos-panic-rate",
        "0.01",
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_no_panic(&stderr);
    assert!(
        stderr.contains("--input - (standard input) cannot be rewound"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
