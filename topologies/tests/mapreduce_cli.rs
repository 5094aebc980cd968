//! `squall mapreduce` as a process (`docs/cli.md`): outputs against oracles computed
//! here, and the user mistakes that must be one sentence on stderr and a non-zero exit.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn assert_user_error(out: &Output, expected: &str) {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "exit 0 for a mistake; stderr:\n{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "not one sentence:\n{err}");
    assert!(err.contains(expected), "{err:?} does not name {expected:?}");
}

/// Every `part-r-*` line of `dir`, checked sorted per file; `_SUCCESS` present.
fn lines(dir: &Path) -> Vec<String> {
    assert!(dir.join("_SUCCESS").is_file());
    let mut parts: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("part-r-")
        })
        .collect();
    parts.sort();
    let mut all = Vec::new();
    for p in parts {
        let t = std::fs::read_to_string(&p).unwrap();
        let file: Vec<String> = t.lines().map(str::to_string).collect();
        let keys: Vec<&str> = file
            .iter()
            .map(|l| l.rsplit_once('\t').unwrap().0)
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "{} unsorted",
            p.display()
        );
        all.extend(file);
    }
    all.sort();
    all
}

const TEXT: &str = "The cat, the DOG.\r\nΣοφία и straße — naïve CAFÉ café\n\nx² 42 the end";

fn oracle(text: &str) -> Vec<String> {
    let mut counts = BTreeMap::<String, u64>::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(w.to_lowercase()).or_default() += 1;
    }
    let mut lines: Vec<String> = counts.iter().map(|(w, n)| format!("{w}\t{n}")).collect();
    lines.sort();
    lines
}

#[test]
fn wordcount_writes_part_files_and_reports_counters() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, TEXT.repeat(50)).unwrap();
    let expected = oracle(&TEXT.repeat(50));
    for (i, extra) in [
        vec!["--mappers", "1", "--reducers", "1"],
        vec!["--mappers", "3", "--reducers", "4", "--no-combiner"],
        vec![
            "--mappers",
            "2",
            "--reducers",
            "3",
            "--inject-failures",
            "0.3",
            "--seed",
            "5",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let out_dir = dir.path().join(format!("out{i}"));
        let mut args = vec!["mapreduce", "wordcount", "--input", input.to_str().unwrap()];
        args.extend(["--output", out_dir.to_str().unwrap()]);
        args.extend(extra);
        let out = squall(&args);
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        assert_eq!(lines(&out_dir), expected, "{args:?}");
        assert!(err.contains("map input records"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn cooccurrence_methods_write_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("t.txt");
    std::fs::write(&input, "b a c\r\na b\n\nc c d a\nd\n").unwrap();
    let mut outputs = Vec::new();
    for method in ["pairs", "stripes"] {
        let out_dir = dir.path().join(method);
        let out = squall(&[
            "mapreduce",
            "cooccurrence",
            "--method",
            method,
            "--input",
            input.to_str().unwrap(),
            "--output",
            out_dir.to_str().unwrap(),
            "--reducers",
            "2",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        outputs.push(lines(&out_dir));
    }
    assert_eq!(
        outputs[0],
        ["a\tb\t2", "a\tc\t2", "a\td\t1", "b\tc\t1", "c\td\t1"]
    );
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn inverted_index_names_documents_relative_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::write(input.join("one.txt"), "Apple banana\n").unwrap();
    std::fs::write(input.join("sub/two.txt"), "apple\r\ncherry APPLE\n").unwrap();
    let out_dir = dir.path().join("out");
    let out = squall(&[
        "mapreduce",
        "inverted-index",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        lines(&out_dir),
        [
            "apple\tone.txt,sub/two.txt",
            "banana\tone.txt",
            "cherry\tsub/two.txt"
        ]
    );
}

#[test]
fn mistakes_are_one_sentence_and_a_failed_exit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "some words\n").unwrap();
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("keep.txt"), "mine").unwrap();
    let run = |input: &Path, output: &Path| {
        squall(&[
            "mapreduce",
            "wordcount",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ])
    };
    assert_user_error(&run(&input, &existing), "already exists");
    assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(existing.join("keep.txt")).unwrap(),
        "mine"
    );

    let missing = dir.path().join("missing.txt");
    assert_user_error(&run(&missing, &dir.path().join("o1")), "missing.txt");

    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"fine\ncaf\xe9\n").unwrap();
    let out = run(&latin1, &dir.path().join("o2"));
    assert_user_error(&out, "latin1.txt");
    assert!(stderr(&out).contains("byte offset 5"), "{}", stderr(&out));
}
