//! The `squall` command's bounds, run as a process: bad option values are refused up front
//! with one sentence, memory does not grow with the square of the parallelism, `bench` ends
//! on time whatever the rate, and recovery under heavy injected failure goes back a little, not
//! to the start of the input.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Output};
use support::{s, squall, stderr};

/// Runs `squall args`, killed after `secs` (an unbounded option value could run for long).
fn squall_within(args: &[&str], secs: u64) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

/// A bad value: refused before any work, one sentence naming the flag, no panic.
fn assert_refused(args: &[&str], flag: &str, expected: &str) {
    let out = squall_within(args, 20);
    let err = stderr(&out);
    assert!(!out.status.success(), "{args:?} ran; stderr:\n{err}");
    assert!(out.stdout.is_empty(), "{args:?} wrote results");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one sentence:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(flag) && err.contains(expected),
        "{args:?}: {err:?} names neither {flag:?} nor {expected:?}"
    );
}

fn cat<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    [a, b].concat()
}

#[test]
fn out_of_range_values_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "a few words\n").unwrap();
    let file: &'static str = String::leak(s(&input).to_string());
    let mr_out = dir.path().join("mr");
    let wc_base = ["run", "word-count", "--input", file];
    let mr_base = [
        "mapreduce",
        "wordcount",
        "--input",
        file,
        "--output",
        s(&mr_out),
    ];
    let wc = |extra: &[&'static str]| cat(&wc_base, extra);
    let mr = |extra: &[&'static str]| cat(&mr_base, extra);
    assert_refused(&wc(&["--parallelism", "0"]), "--parallelism", "1 to 256");
    assert_refused(&wc(&["--parallelism", "1000"]), "--parallelism", "1 to 256");
    assert_refused(&mr(&["--reducers", "100000"]), "--reducers", "1 to 256");
    assert_refused(&mr(&["--mappers", "0"]), "--mappers", "1 to 256");
    assert!(!mr_out.exists());
    assert_refused(
        &mr(&["--inject-failures", "-0.5"]),
        "--inject-failures",
        "0 to 1",
    );
    assert_refused(
        &wc(&["--chaos-panic-rate", "-1"]),
        "--chaos-panic-rate",
        "0 to 1",
    );
    let sensor = ["run", "sensor-alarm", "--samples", "10"];
    let with = |extra: &[&'static str]| cat(&sensor, extra);
    assert_refused(
        &with(&["--chaos-panic-rate", "1.5"]),
        "--chaos-panic-rate",
        "0 to 1",
    );
    assert_refused(&with(&["--faulty-pct", "-3"]), "--faulty-pct", "0 to 100");
    assert_refused(&with(&["--parallelism", "0"]), "--parallelism", "1 to 256");
    assert_refused(
        &["bench", "sensor-alarm", "--rate", "-5", "--duration", "1"],
        "--rate",
        "above 0",
    );
    assert_refused(&with(&["--report", file]), "--report", "not a directory");
    assert_refused(
        &with(&["--input", "kafka://h:9092/t"]),
        "--input",
        "unknown scheme kafka",
    );
    assert_refused(
        &with(&["--output", "kafka://h:9092/t"]),
        "--output",
        "postgres://",
    );
    assert_refused(
        &wc(&["--output", "kafka://h:9092/t"]),
        "--output",
        "unknown scheme kafka",
    );
}

#[test]
fn a_negative_level_is_a_number_not_a_flag() {
    let out = squall(&["run", "sensor-alarm", "--samples", "5", "--level", "-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn metrics_addr_takes_a_host_name() {
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--samples",
        "5",
        "--metrics-addr",
        "localhost:0",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // Port 0 picks a free port, and the address printed is the one served (it printed
    // "http://127.0.0.1:0/metrics").
    let line = err
        .lines()
        .find(|l| l.starts_with("metrics: serving"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    assert!(!line.contains(":0/metrics"), "{line}");
}

/// With --sensors N, readings of sensors beyond the first N distinct ones are reported with
/// their line numbers and skipped: a leak never counts more than N sensors.
#[test]
fn readings_beyond_the_sensors_given_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("four.csv");
    let mut csv = String::from("sensor,seq,value\n");
    for seq in 1..=6 {
        for sensor in 0..4 {
            csv.push_str(&format!("{sensor},{seq},2.0\n"));
        }
    }
    std::fs::write(&input, csv).unwrap();
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        s(&input),
        "--sensors",
        "1",
        "--threshold",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        events,
        "{\"event\":\"sensor_alarm\",\"sensor\":0,\"seq\":3,\"consecutive\":3}\n\
         {\"event\":\"leak\",\"seq\":3,\"sensors_in_alarm\":1,\"sensors\":1}\n"
    );
    let err = stderr(&out);
    assert!(
        err.contains("four.csv: line 3: sensor 1 is not among the first 1 distinct sensors"),
        "{err}"
    );
    assert!(err.contains("18 malformed lines skipped"), "{err}");
}

/// Peak resident memory of `squall args` in KiB, read from /proc while it runs.
#[cfg(target_os = "linux")]
fn peak_rss_kib(args: &[&str]) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} ran for over 2 minutes (peak {peak} KiB so far)");
        }
        // VmHWM is the peak so far; the last reading before exit is the run's peak.
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak = kib;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    peak
}

/// P producers and P consumers have P*P links; a link's batch buffer is allocated when it
/// first carries a tuple, so a small input at the highest parallelism stays small.
#[cfg(target_os = "linux")]
#[test]
fn memory_does_not_grow_with_the_square_of_the_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("w24.txt");
    let text: String = (1..=24)
        .map(|i| format!("word {i} other words\n"))
        .collect();
    std::fs::write(&input, text).unwrap();
    let peak = peak_rss_kib(&[
        "run",
        "word-count",
        "--input",
        s(&input),
        "--parallelism",
        "256",
    ]);
    assert!(
        peak < 600 * 1024,
        "peak {} MiB at parallelism 256",
        peak / 1024
    );
}

/// A rate far beyond reach: the run still ends after about --duration, and the rate it reports
/// is over the time it really ran.
#[test]
fn bench_ends_on_time_whatever_the_rate() {
    let started = std::time::Instant::now();
    let out = squall_within(
        &[
            "bench",
            "sensor-alarm",
            "--rate",
            "1e9",
            "--duration",
            "2",
            "--warmup",
            "0",
        ],
        60,
    );
    let wall = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(wall < 6.0, "--duration 2 took {wall:.1}s");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains("achieved rate"))
        .unwrap_or_else(|| panic!("no rate line in {stdout}"));
    let over: f64 = line
        .split(" over ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("no elapsed time in {line}"));
    assert!(
        (2.0..=wall).contains(&over),
        "reported {over}s for a run of --duration 2 that took {wall:.2}s: {line}"
    );
}

/// The "recovery:" line of a run's summary: the tuples its spouts emitted again.
fn tuples_replayed(out: &Output) -> u64 {
    let err = stderr(out);
    let line = err
        .lines()
        .find(|l| l.starts_with("recovery:"))
        .unwrap_or_else(|| panic!("no recovery line in: {err}"));
    let before = line.split(" tuples replayed").next().unwrap();
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Runs `sensor-alarm` on `samples` simulated readings per sensor (seed 1) under `guarantee`,
/// with `chaos` flags, into `dir/name`: the run's output and the events written, sorted (the
/// alarm tasks write in parallel: the events, not their order, are the result).
fn sensor_events(
    dir: &std::path::Path,
    name: &str,
    samples: &str,
    guarantee: &str,
    chaos: &[&str],
) -> (Output, Vec<String>) {
    let path = dir.join(name);
    let mut args = vec![
        "run",
        "sensor-alarm",
        "--samples",
        samples,
        "--seed",
        "1",
        "--guarantee",
        guarantee,
        "--output",
        s(&path),
    ];
    args.extend_from_slice(chaos);
    let out = squall(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort_unstable();
    (out, lines)
}

#[test]
fn exactly_once_under_heavy_chaos_replays_a_bounded_share_of_the_input() {
    // Simulated readings travel in blocks of 64; a batch of 1024 blocks held the whole input,
    // so a barrier queued behind all of it, few checkpoints completed between two crashes, and
    // each rollback replayed from the start: about 460,000 blocks replayed for an input of 5,008
    // (90 times over). Batches of blocks now carry about 4,096 readings.
    let dir = tempfile::tempdir().unwrap();
    let run = |chaos: &[&str], name: &str| {
        sensor_events(dir.path(), name, "20000", "exactly-once", chaos)
    };
    let (_, expected) = run(&[], "free.jsonl");
    let (out, got) = run(&["--chaos-panic-rate", "0.01"], "chaos.jsonl");
    assert!(
        got == expected,
        "exactly-once under chaos: {} events, expected {}",
        got.len(),
        expected.len()
    );
    let blocks = 16 * 20_000 / 64;
    let replayed = tuples_replayed(&out);
    assert!(
        replayed <= 60 * blocks,
        "{replayed} blocks replayed for an input of {blocks}: {}",
        stderr(&out)
    );
}

#[test]
fn at_least_once_under_heavy_chaos_writes_each_event_at_most_three_times() {
    // A replayed reading brings its alarm again: before the sink dropped repeats, each event
    // was written about six times at this rate (every tree a crashed task held since its last
    // checkpoint replays).
    let dir = tempfile::tempdir().unwrap();
    let run = |chaos: &[&str], name: &str| {
        sensor_events(dir.path(), name, "2000", "at-least-once", chaos).1
    };
    let expected = run(&[], "free.jsonl");
    let got = run(&["--chaos-panic-rate", "0.01"], "chaos.jsonl");
    let written: std::collections::HashSet<&String> = got.iter().collect();
    let missing = expected.iter().filter(|e| !written.contains(e)).count();
    assert_eq!(missing, 0, "at-least-once lost events under chaos");
    assert!(
        got.len() <= 3 * expected.len(),
        "{} lines written for {} events",
        got.len(),
        expected.len()
    );
}
