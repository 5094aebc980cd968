//! The `squall` command's file outputs, run as a process: a failed run never destroys an
//! existing output or leaves one that looks complete.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::{s, squall, stderr};

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `out` failed, `precious` still holds `before`, and nothing else was left in its directory.
fn assert_failed_and_untouched(out: &Output, precious: &Path, before: &str, others: &[&str]) {
    assert!(
        !out.status.success(),
        "expected a failed run; stderr:\n{}",
        stderr(out)
    );
    assert_eq!(
        std::fs::read_to_string(precious).unwrap(),
        before,
        "a failed run changed {}",
        precious.display()
    );
    let mut expected: Vec<String> = others.iter().map(|s| s.to_string()).collect();
    expected.push(precious.file_name().unwrap().to_string_lossy().into_owned());
    expected.sort();
    assert_eq!(
        names(precious.parent().unwrap()),
        expected,
        "files left behind"
    );
}

/// Reading /proc/self/mem at offset 0 fails with an I/O error: a run that fails partway,
/// after the sink has opened its output, whatever becomes of malformed input.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_sensor_run_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious.jsonl");
    let before = "{\"event\":\"leak\",\"seq\":1,\"sensors_in_alarm\":3,\"sensors\":4}\n";
    std::fs::write(&precious, before).unwrap();
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        "/proc/self/mem",
        "--sensors",
        "4",
        "--output",
        s(&precious),
    ]);
    assert_failed_and_untouched(&out, &precious, before, &[]);

    // An empty CSV fails today; should it become an empty run, the output is replaced whole.
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        s(&empty),
        "--output",
        s(&precious),
    ]);
    if !out.status.success() {
        assert_failed_and_untouched(&out, &precious, before, &["empty.csv"]);
    }
}

#[test]
fn a_successful_sensor_run_replaces_the_output_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("r.csv");
    let mut csv = String::from("sensor,seq,value\n");
    for seq in 1..=5 {
        csv.push_str(&format!("0,{seq},2.0\n"));
    }
    std::fs::write(&input, csv).unwrap();
    let output = dir.path().join("events.jsonl");
    std::fs::write(&output, "old\n".repeat(100)).unwrap();
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        s(&input),
        "--output",
        s(&output),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "{\"event\":\"sensor_alarm\",\"sensor\":0,\"seq\":4,\"consecutive\":4}\n\
         {\"event\":\"leak\",\"seq\":4,\"sensors_in_alarm\":1,\"sensors\":1}\n"
    );
    assert_eq!(names(dir.path()), ["events.jsonl", "r.csv"]);
}

/// A run stopped by SIGTERM partway drains, but its counts cover part of the input only: the
/// existing output stays as it was, and no temporary file is left.
#[cfg(unix)]
#[test]
fn an_interrupted_word_count_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a.txt");
    std::fs::write(&good, "some words\n".repeat(50)).unwrap();
    let big = dir.path().join("b.txt");
    let line = "the quick brown fox jumps over the lazy dog again and again\n";
    // About 30 MB: seconds of work for a debug build, so the signal finds the run under way.
    std::fs::write(&big, line.repeat(500_000)).unwrap();
    let precious = dir.path().join("precious.tsv");
    std::fs::write(&precious, "precious\t1\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(["run", "word-count", "--input", s(&good), s(&big)])
        .args(["--output", s(&precious)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Time for the process to install its signal handlers and start reading; nothing to
    // wait on from outside before the final counts.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut err = child.stderr.take().unwrap();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{rest}");
    assert!(rest.contains("partial counts were not written"), "{rest}");
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious\t1\n");
    assert_eq!(names(dir.path()), ["a.txt", "b.txt", "precious.tsv"]);

    let out = squall(&[
        "run",
        "word-count",
        "--input",
        s(&good),
        "--output",
        s(&precious),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "some\t50\nwords\t50\n"
    );
    assert_eq!(names(dir.path()), ["a.txt", "b.txt", "precious.tsv"]);
}

#[test]
fn an_output_that_cannot_be_written_is_refused_before_the_run_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a.txt");
    std::fs::write(&good, "some words\n").unwrap();
    let missing = dir.path().join("no-such-dir").join("out.tsv");
    let out = squall(&[
        "run",
        "word-count",
        "--input",
        s(&good),
        "--output",
        s(&missing),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot create") && err.contains("no-such-dir"),
        "{err}"
    );
    let out = squall(&[
        "run",
        "word-count",
        "--input",
        s(&good),
        "--output",
        s(dir.path()),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out).to_lowercase();
    assert!(err.contains("is a directory"), "{err}");
    assert_eq!(names(dir.path()), ["a.txt"]);
}

/// A job that fails removes the output directory it made, so running it again is not refused.
#[test]
fn a_failed_mapreduce_job_removes_its_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("b.bin");
    std::fs::write(&binary, b"words\n\xff\xfe\x00binary\xc3\x28\n").unwrap();
    let output = dir.path().join("out");
    let run = |input: &Path| {
        squall(&[
            "mapreduce",
            "wordcount",
            "--input",
            s(input),
            "--output",
            s(&output),
            "--reducers",
            "2",
        ])
    };
    let out = run(&binary);
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(!output.exists(), "left {:?}", names(&output));

    let good = dir.path().join("a.txt");
    std::fs::write(&good, "some words\n").unwrap();
    let out = run(&good);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(output.join("_SUCCESS").is_file());
}
