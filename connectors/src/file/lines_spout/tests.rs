//! The lines spout's tests: order, splits, undecodable lines, rewind and replay.

use super::*;
use crate::file::testing::{check_replay, check_rewind, collect};

#[test]
fn emits_the_lines_of_every_file_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&a, "one\r\ntwo\n\nthree\r\n").unwrap();
    std::fs::write(&empty, "").unwrap();
    std::fs::write(&b, "four\rfive\nsix").unwrap();
    let spout = LinesSpout::new(vec![a, empty, b]).with_batch(2);
    let got = collect(spout, 1).unwrap();
    assert_eq!(got, ["one", "two", "", "three", "four\rfive", "six"]);
}

#[test]
fn tasks_split_every_file_and_read_each_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..5)
        .map(|i| {
            let path = dir.path().join(format!("{i}.txt"));
            let text: String = (0..100).map(|l| format!("{i}:{l}\n")).collect();
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let mut got = collect(LinesSpout::new(paths).with_batch(7), 2).unwrap();
    let mut expected: Vec<String> = (0..5)
        .flat_map(|i| (0..100).map(move |l| format!("{i}:{l}")))
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn split_boundaries_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    // Lines of every length from 0 to 40, so split points fall everywhere: inside lines,
    // on newlines, at line starts; no final newline.
    let lines: Vec<String> = (0..400)
        .map(|i| "x".repeat(i % 41) + &i.to_string())
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    for tasks in [1, 2, 3, 7] {
        let mut got = collect(LinesSpout::new(vec![path.clone()]), tasks).unwrap();
        let mut expected = lines.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{tasks} tasks");
    }
}

#[test]
fn invalid_utf8_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.txt");
    let bad = dir.path().join("latin1.txt");
    std::fs::write(&good, "fine\n").unwrap();
    std::fs::write(&bad, b"ok\r\ncaf\xe9\nafter\n\xff").unwrap();
    let malformed = Malformed::new();
    let spout = LinesSpout::new(vec![good, bad.clone()]).with_malformed(malformed.clone());
    assert_eq!(collect(spout, 1).unwrap(), ["fine", "ok", "after"]);
    let b = bad.display();
    assert_eq!(
        malformed.reports(),
        [
            format!("{b}: line 2: not valid UTF-8 (byte offset 4); line skipped"),
            format!("{b}: line 4: not valid UTF-8 (byte offset 15); line skipped"),
        ]
    );
}

#[test]
fn every_split_reports_its_undecodable_lines_once_with_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.bin");
    let mut bytes = Vec::new();
    let mut good = Vec::new();
    for n in 1..=300u64 {
        if n % 7 == 2 {
            bytes.extend_from_slice(b"\x80\xfe bad\n");
        } else {
            good.push(format!("{n} good"));
            bytes.extend_from_slice(format!("{n} good\n").as_bytes());
        }
    }
    std::fs::write(&path, bytes).unwrap();
    for tasks in [1, 3, 8] {
        let malformed = Malformed::new();
        let spout = LinesSpout::new(vec![path.clone()])
            .with_batch(4)
            .with_malformed(malformed.clone());
        let mut got = collect(spout, tasks).unwrap();
        got.sort();
        let mut want = good.clone();
        want.sort();
        assert_eq!(got, want, "{tasks} tasks");
        let mut lines: Vec<u64> = malformed
            .reports()
            .iter()
            .map(|r| r.split("line ").nth(1).unwrap().split(':').next().unwrap())
            .map(|n| n.parse().unwrap())
            .collect();
        lines.sort_unstable();
        let bad: Vec<u64> = (1..=300).filter(|n| n % 7 == 2).collect();
        assert_eq!(lines, bad, "{tasks} tasks");
    }
}

#[test]
fn a_missing_file_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let mut spout = LinesSpout::new(vec![missing.clone()]);
    let e = spout
        .open(&TaskContext::new("t", "lines", 0, 1))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "cannot open {}: No such file or directory",
            missing.display()
        )
    );
    // Every task reads its split of every file, so every task checks them all.
    let mut other = LinesSpout::new(vec![missing]);
    assert!(other.open(&TaskContext::new("t", "lines", 1, 2)).is_err());
}

fn numbered_files(dir: &std::path::Path) -> Vec<PathBuf> {
    (0..3)
        .map(|i| {
            let path = dir.join(format!("{i}.txt"));
            let text: String = (0..40).map(|l| format!("{i}:{l}\r\n")).collect();
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

#[test]
fn restore_rewinds_to_the_snapshot_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let paths = numbered_files(dir.path());
    // Snapshots at the start, inside a file, at a file's end; restores within the same file,
    // in a later file, and after the end.
    for (snapshot, restore) in [(0, 30), (14, 21), (35, 77), (40, 41), (70, 200), (119, 120)] {
        let spout = LinesSpout::new(paths.clone()).with_batch(7);
        check_rewind(spout, snapshot, restore);
    }
}

#[test]
fn restore_reports_an_undecodable_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.txt");
    let text: Vec<u8> = (0..40u8)
        .flat_map(|l| match l % 6 {
            1 => b"\xff\n".to_vec(),
            _ => format!("{l}\n").into_bytes(),
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    for (snapshot, restore) in [(0, 20), (9, 30), (25, 26)] {
        let malformed = Malformed::new();
        let spout = LinesSpout::new(vec![path.clone()])
            .with_batch(3)
            .with_malformed(malformed.clone());
        check_rewind(spout, snapshot, restore);
        // `check_rewind` runs the spout twice with one counter: 7 bad lines, each once.
        assert_eq!(malformed.count(), 7, "snapshot {snapshot}");
    }
}

#[test]
fn failed_lines_are_emitted_again_in_id_order() {
    let dir = tempfile::tempdir().unwrap();
    let spout = LinesSpout::new(numbered_files(dir.path())).with_batch(5);
    let replayed = check_replay(spout, |id| id % 9 == 0 || id == 1 || id == 120);
    assert_eq!(replayed, 15);
}
