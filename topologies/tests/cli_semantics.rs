//! `squall run sensor-alarm` gives the same events under every guarantee when nothing fails,
//! also on input that breaks the order contract (a sensor's seqs must ascend): such a reading
//! is reported on stderr with its line number and skipped, in every guarantee alike.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use support::squall;

const GUARANTEES: [&str; 3] = ["exactly-once", "at-least-once", "at-most-once"];

/// Runs the sensor alarm on `csv` under `guarantee`: its events (as JSON text, sorted) and
/// its stderr.
fn run(csv: &str, guarantee: &str) -> (BTreeSet<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("readings.csv");
    std::fs::write(&input, csv).unwrap();
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        input.to_str().unwrap(),
        "--guarantee",
        guarantee,
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{guarantee}: {stderr}");
    let events = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.to_string()
        })
        .collect();
    (events, stderr.replace(input.to_str().unwrap(), "IN"))
}

/// Every guarantee gives `expected` and reports exactly the `violations` (line numbers).
fn check(csv: &str, expected: &[&str], violations: &[u64]) {
    let expected: BTreeSet<String> = expected
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e)
                .unwrap()
                .to_string()
        })
        .collect();
    for guarantee in GUARANTEES {
        let (events, stderr) = run(csv, guarantee);
        assert_eq!(events, expected, "{guarantee}\nstderr:\n{stderr}");
        let reported: Vec<u64> = stderr
            .lines()
            .filter(|l| l.contains("must ascend"))
            .map(|l| {
                let rest = l.strip_prefix("IN: line ").unwrap();
                rest.split(':').next().unwrap().parse().unwrap()
            })
            .collect();
        assert_eq!(reported, violations, "{guarantee}\nstderr:\n{stderr}");
    }
}

#[test]
fn descending_seqs_are_violations_skipped_alike_in_every_guarantee() {
    // Sensor 0 in alarm at seqs 5, 4, 3, 2, 1 (lines 2-6), then sensor 1, seq 1..=6, also in
    // alarm: only seq 5 of sensor 0 is a reading; sensor 1 alone fires an alarm at seq 4.
    let mut csv = String::from("sensor,seq,value\n");
    for seq in (1..=5).rev() {
        csv.push_str(&format!("0,{seq},2.0\n"));
    }
    for seq in 1..=6 {
        csv.push_str(&format!("1,{seq},2.0\n"));
    }
    check(
        &csv,
        &[r#"{"event":"sensor_alarm","sensor":1,"seq":4,"consecutive":4}"#],
        &[3, 4, 5, 6],
    );
}

#[test]
fn repeated_seqs_are_violations_skipped_alike_in_every_guarantee() {
    // Sensor 0: seq 1 five times, then 2, 3, 4, 5, all in alarm: the repeats (lines 3-6) are
    // skipped, and the run reaches 4 at seq 4.
    let mut csv = String::from("sensor,seq,value\n");
    for seq in [1, 1, 1, 1, 1, 2, 3, 4, 5] {
        csv.push_str(&format!("0,{seq},2.0\n"));
    }
    check(
        &csv,
        &[
            r#"{"event":"sensor_alarm","sensor":0,"seq":4,"consecutive":4}"#,
            r#"{"event":"leak","seq":4,"sensors_in_alarm":1,"sensors":1}"#,
        ],
        &[3, 4, 5, 6],
    );
}

#[test]
fn interleaved_sensors_in_order_give_the_same_events_in_every_guarantee() {
    // Two sensors, interleaved, with a stretch where one goes back (lines 12 and 13).
    let mut csv = String::from("sensor,seq,value\n");
    for seq in 1..=5u64 {
        csv.push_str(&format!("0,{seq},2.0\n1,{seq},2.0\n"));
    }
    csv.push_str("0,3,2.0\n1,2,0.5\n0,6,0.5\n1,6,2.0\n");
    let (events, _) = run(&csv, "exactly-once");
    assert_eq!(events.len(), 3, "{events:?}");
    let expected: Vec<&str> = events.iter().map(String::as_str).collect();
    check(&csv, &expected, &[12, 13]);
}
