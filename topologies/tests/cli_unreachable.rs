//! Live inputs and outputs whose broker is not there: the run says so on stderr within a few
//! seconds, keeps saying it at a bounded rate, and fails once `--idle-exit` ends it.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use support::{free_port, start};

/// How long the runs last: long enough for the client to retry many times.
const IDLE_EXIT_S: u64 = 6;

/// Runs `sensor-alarm` with `--input` at `input` ending after `--idle-exit`, and `--output`
/// at `output` if given, where nothing listens at `silent`; checks what stderr says about
/// `silent`, and the exit.
fn says_unreachable(input: &str, output: Option<&str>, silent: &str, flag: &str) {
    let idle = IDLE_EXIT_S.to_string();
    let mut args = vec!["--input", input, "--idle-exit", &idle];
    if let Some(o) = output {
        args.extend(["--output", o]);
    }
    run_says_unreachable(&args, silent, flag);
}

/// Runs `sensor-alarm --sensors 2` with `args`, where nothing listens at `silent`, the broker
/// of `flag`; checks that stderr names `silent` within a few seconds and at a bounded rate,
/// and that the run fails saying it never connected there.
fn run_says_unreachable(extra: &[&str], silent: &str, flag: &str) {
    let mut args = vec!["run", "sensor-alarm", "--sensors", "2"];
    args.extend(extra);
    let started = Instant::now();
    let mut run = start(&args);
    // Named within a few seconds, long before --idle-exit.
    let deadline = started + Duration::from_secs(4);
    let named = |stderr: &str| {
        stderr
            .lines()
            .any(|l| l.contains(silent) && !l.starts_with("note:"))
    };
    while !named(&run.stderr) {
        assert!(
            Instant::now() < deadline,
            "nothing said about {silent} within 4 s:\n{}",
            run.stderr
        );
        run.next_line(Duration::from_millis(50));
    }
    let status = run.wait(Duration::from_secs(60));
    let stderr = run.stderr.clone();
    assert!(
        !status.success(),
        "{status:?}: a run that never connected succeeded:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.contains("never connected") && last.contains(silent) && last.contains(flag),
        "the last line does not say what was never reached:\n{stderr}"
    );
    // The first attempt is said at once, then at most every 5 s per endpoint.
    let said = stderr
        .lines()
        .filter(|l| l.contains(silent) && !l.starts_with("error:") && !l.starts_with("note:"))
        .count();
    let bound = (IDLE_EXIT_S / 5 + 2) as usize;
    assert!(
        said <= bound,
        "{said} lines about {silent} in {IDLE_EXIT_S} s (at most {bound}):\n{stderr}"
    );
}

#[test]
fn an_unreachable_nats_input_is_said_and_fails_the_run() {
    let silent = format!("127.0.0.1:{}", free_port());
    let input = format!("nats://{silent}/readings");
    says_unreachable(&input, None, &silent, "--input");
}

#[test]
fn an_unreachable_mqtt_input_is_said_and_fails_the_run() {
    let silent = format!("127.0.0.1:{}", free_port());
    let input = format!("mqtt://{silent}/readings");
    says_unreachable(&input, None, &silent, "--input");
}

#[test]
fn an_unreachable_nats_output_is_said_and_fails_the_run() {
    let (input, out) = (free_port(), free_port());
    let silent = format!("127.0.0.1:{out}");
    let input = format!("nats://127.0.0.1:{input}/readings");
    let output = format!("nats://{silent}/alarms");
    says_unreachable(&input, Some(&output), &silent, "--output");
}

#[test]
fn an_unreachable_mqtt_output_is_said_and_fails_the_run() {
    let (input, out) = (free_port(), free_port());
    let silent = format!("127.0.0.1:{out}");
    let input = format!("mqtt://127.0.0.1:{input}/readings");
    let output = format!("mqtt://{silent}/alarms");
    says_unreachable(&input, Some(&output), &silent, "--output");
}

#[test]
fn an_unreachable_output_of_a_bounded_input_fails_the_run_after_the_connect_timeout() {
    // A simulated input never ends by itself while the sink waits for its broker: before the
    // connect timeout this run waited until a signal.
    let silent = format!("127.0.0.1:{}", free_port());
    let output = format!("nats://{silent}/alarms");
    let started = Instant::now();
    let timeout = IDLE_EXIT_S.to_string();
    run_says_unreachable(
        &[
            "--samples",
            "5000",
            "--output",
            &output,
            "--connect-timeout",
            &timeout,
        ],
        &silent,
        "--output",
    );
    assert!(started.elapsed() >= Duration::from_secs(IDLE_EXIT_S));
}

#[test]
fn the_connect_timeout_must_be_positive() {
    let out = support::squall(&[
        "run",
        "sensor-alarm",
        "--samples",
        "10",
        "--output",
        "nats://127.0.0.1:1/alarms",
        "--connect-timeout",
        "0",
    ]);
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--connect-timeout must be a positive number"),
        "{stderr}"
    );
}
