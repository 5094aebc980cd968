//! Stopping `squall` with SIGINT or SIGTERM: the first signal drains the run (output complete,
//! summary and report written, exit 130 or 143), a second one ends it at once. Unix only: the
//! signals are sent with `kill`.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{free_port, start, Running};

/// Waits (bounded) until some file under `dir` other than `skip` has content: the run's output
/// has started, wherever the sink writes it before it is complete.
fn wait_for_output(run: &mut Running, dir: &Path, skip: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let started = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .any(|e| e.path() != skip && e.metadata().is_ok_and(|m| m.is_file() && m.len() > 0));
        if started {
            return;
        }
        if let Some(status) = run.child.try_wait().unwrap() {
            panic!(
                "squall ended before its output started: {status:?}\n{}",
                run.stderr
            );
        }
        assert!(Instant::now() < deadline, "no output after 120 s");
        run.next_line(Duration::from_millis(50));
    }
}

/// A simulated run long enough never to end by itself during a test.
fn long_sensor_run(dir: &Path) -> Running {
    let output = dir.join("events.jsonl");
    let report = dir.join("report");
    start(&[
        "run",
        "sensor-alarm",
        "--sensors",
        "16",
        "--samples",
        "100000000",
        "--faulty-pct",
        "45",
        "--output",
        output.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ])
}

/// The first signal drains: exit 128 + signal, the summary says it was interrupted, the report
/// is written and every output line is a whole JSON event.
fn drains_on(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let mut run = long_sensor_run(dir.path());
    wait_for_output(&mut run, dir.path(), &dir.path().join("report"));
    run.signal(signal);
    let status = run.wait(Duration::from_secs(120));
    let stderr = run.stderr.clone();
    assert_eq!(
        status.code(),
        Some(code),
        "{status:?} (killed by signal {:?}); stderr:\n{stderr}",
        status.signal()
    );
    assert!(
        stderr.contains("sensor-alarm:") && stderr.contains(&format!("interrupted by SIG{signal}")),
        "no summary saying it was interrupted:\n{stderr}"
    );
    for file in ["latency.hgrm", "latency.svg", "summary.json"] {
        assert!(
            dir.path().join("report").join(file).is_file(),
            "{file} missing; stderr:\n{stderr}"
        );
    }
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(!events.is_empty() && events.ends_with('\n'), "{events:?}");
    for line in events.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a partial line {line:?}: {e}"));
        assert!(event.get("event").is_some(), "{line}");
    }
}

#[test]
fn sigterm_drains_the_run_and_exits_143() {
    drains_on("TERM", 143);
}

#[test]
fn sigint_drains_the_run_and_exits_130() {
    drains_on("INT", 130);
}

#[test]
fn a_second_signal_ends_the_process_at_once() {
    // The output goes to a broker that is not there, so the drain cannot finish (the sink
    // waits for its broker): only the second signal can end the run.
    let port = free_port();
    let output = format!("mqtt://127.0.0.1:{port}/alarms");
    let mut run = start(&[
        "run",
        "sensor-alarm",
        "--sensors",
        "16",
        "--samples",
        "100000000",
        "--faulty-pct",
        "45",
        "--output",
        &output,
    ]);
    // Anything on stderr (the note on de-duplication, the unreachable broker) comes after the
    // signal handlers are in place.
    assert!(
        run.next_line(Duration::from_secs(60)).is_some(),
        "nothing on stderr"
    );
    run.signal("TERM");
    run.signal("INT");
    let status = run.wait(Duration::from_secs(20));
    let stderr = run.stderr.clone();
    assert!(
        matches!(status.code(), Some(130 | 143)),
        "{status:?} (signal {:?}); stderr:\n{stderr}",
        status.signal()
    );
    assert!(
        !stderr.contains("sensor-alarm:"),
        "the second signal waited for the drain:\n{stderr}"
    );
}

#[test]
fn an_interrupted_mapreduce_job_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.txt");
    let line = "the quick brown fox jumps over the lazy dog again and again\n";
    std::fs::write(&input, line.repeat(400_000)).unwrap();
    let output = dir.path().join("out");
    let mut run = start(&[
        "mapreduce",
        "wordcount",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--mappers",
        "1",
        "--reducers",
        "1",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !output.exists() {
        assert!(
            Instant::now() < deadline,
            "the job never created its output"
        );
        assert!(run.child.try_wait().unwrap().is_none(), "{}", run.stderr);
        run.next_line(Duration::from_millis(20));
    }
    run.signal("TERM");
    let status = run.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(143), "{status:?}:\n{}", run.stderr);
    assert!(
        run.stderr.contains("interrupted by SIGTERM"),
        "{}",
        run.stderr
    );
    assert!(
        !output.join("_SUCCESS").exists(),
        "an interrupted job committed"
    );
    assert!(!output.exists(), "the partial output was left behind");
}
