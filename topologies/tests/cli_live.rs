//! `squall run sensor-alarm` with broker URLs: the mistakes a user can make are one clear
//! sentence each, before anything connects. (Runs against real brokers are in the workspace's
//! `tests/e2e/connectors`.)

use std::process::{Command, Output};

fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .output()
        .expect("run squall")
}

fn fails_with(args: &[&str], needles: &[&str]) {
    let out = squall(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr}");
    }
}

#[test]
fn a_live_input_needs_sensors() {
    fails_with(
        &[
            "run",
            "sensor-alarm",
            "--input",
            "mqtt://127.0.0.1:1/readings",
        ],
        &["--sensors", "mqtt://127.0.0.1:1/readings", "live input"],
    );
}

#[test]
fn endpoint_mistakes_are_named() {
    let base = ["run", "sensor-alarm", "--sensors", "4"];
    let with = |extra: &[&'static str]| [&base[..], extra].concat();
    fails_with(
        &with(&["--input", "nats://127.0.0.1:1/r?format=xml"]),
        &["--input", "unknown format `xml`"],
    );
    fails_with(
        &with(&["--input", "postgres://u@127.0.0.1:1/db?table=t"]),
        &["postgres can only be an --output"],
    );
    fails_with(
        &with(&["--output", "postgres://u@127.0.0.1:1/db"]),
        &["--output", "table"],
    );
    fails_with(
        &with(&["--idle-exit", "5"]),
        &["--idle-exit", "live --input"],
    );
    fails_with(
        &with(&["--input", "redis://127.0.0.1:1/r", "--idle-exit=-1"]),
        &["--idle-exit must be a positive number"],
    );
}
