//! `squall run window-count` and `squall run window-join` against windows computed
//! sequentially here: tumbling and sliding, out of order within the lag, late tuples,
//! lateness updates, parallelism 1 and N, chaos under each guarantee, malformed lines.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::{s, squall, stderr};

/// A seeded generator (xorshift), so every run sees the same input.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `n` events: timestamps rising by 0-9 ms, each moved back by up to `jitter` ms, one in
/// `far` moved back by 3 s (late unless the lag or lateness covers it); keys k0..k6.
fn events(n: usize, jitter: u64, far: u64, seed: u64) -> Vec<(u64, String)> {
    let mut rng = Rng(seed | 1);
    let mut t = 0;
    (0..n)
        .map(|_| {
            t += rng.next() % 10;
            let mut ts = t.saturating_sub(rng.next() % (jitter + 1));
            if far > 0 && rng.next() % far == 0 {
                ts = ts.saturating_sub(3000);
            }
            (ts, format!("k{}", rng.next() % 7))
        })
        .collect()
}

/// The contract, sequentially: the watermark before a tuple is the highest ts before it
/// minus the lag; the tuple is late when the last window holding it ended, plus the
/// lateness, at or before that watermark; else it counts in every window holding it that has
/// not closed. Returns the sorted output lines and the late lines, sorted.
fn oracle(
    input: &[(u64, String)],
    (window, slide, lag, lateness): (u64, u64, u64, u64),
) -> (Vec<String>, Vec<String>) {
    let mut counts: BTreeMap<(u64, String), (u64, u64)> = BTreeMap::new();
    let mut late = Vec::new();
    let mut wm: Option<u64> = None;
    for (ts, key) in input {
        let closed = |end: u64| wm.is_some_and(|w| end + lateness <= w);
        let windows: Vec<u64> = (0..=*ts / slide)
            .map(|k| k * slide)
            .filter(|start| start + window > *ts)
            .collect();
        if windows.iter().all(|start| closed(start + window)) {
            late.push(format!("{ts},{key}"));
        }
        for start in windows.into_iter().filter(|start| !closed(start + window)) {
            counts
                .entry((start, key.clone()))
                .or_insert((start + window, 0))
                .1 += 1;
        }
        let w = ts.saturating_sub(lag);
        wm = Some(wm.map_or(w, |old| old.max(w)));
    }
    let lines = counts
        .into_iter()
        .map(|((start, key), (end, n))| format!("{start}\t{end}\t{key}\t{n}"))
        .collect();
    late.sort();
    (lines, late)
}

fn write_events(dir: &Path, name: &str, input: &[(u64, String)], extra: &str) -> String {
    let path = dir.join(name);
    let mut text = String::from("ts_ms,key\n");
    for (i, (ts, key)) in input.iter().enumerate() {
        text.push_str(&format!("{ts},{key}\n"));
        if i == 10 {
            text.push_str(extra);
        }
    }
    std::fs::write(&path, text).unwrap();
    s(&path).to_string()
}

/// Runs window-count; returns (output lines, sorted late lines, stderr).
fn window_count(input: &str, dir: &Path, flags: &[&str]) -> (Vec<String>, Vec<String>, String) {
    let late_path = dir.join("late.txt");
    let mut args = vec![
        "run",
        "window-count",
        "--input",
        input,
        "--late-output",
        s(&late_path),
    ];
    args.extend_from_slice(flags);
    let out = squall(&args);
    let err = stderr(&out);
    assert!(out.status.success(), "window-count {flags:?} failed: {err}");
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut late: Vec<String> = std::fs::read_to_string(&late_path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    late.sort();
    (lines, late, err)
}

fn secs(ms: u64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

#[test]
fn window_count_matches_the_sequential_windows() {
    let dir = tempfile::tempdir().unwrap();
    let input = events(3000, 40, 200, 7);
    let path = write_events(dir.path(), "in.csv", &input, "");
    let cases = [
        // (window, slide, lag, lateness): tumbling in order-ish, out of order within the lag,
        // sliding, lateness updates.
        (1000, 1000, 0, 0),
        (1000, 1000, 50, 0),
        (1000, 250, 50, 0),
        (700, 300, 20, 400),
        (500, 500, 0, 3000),
        // A slide longer than the window: tuples in the gaps are in no window, so late.
        (300, 500, 20, 0),
    ];
    for (window, slide, lag, lateness) in cases {
        let (want, want_late) = oracle(&input, (window, slide, lag, lateness));
        assert!(!want.is_empty());
        for p in ["1", "3"] {
            let flags = [
                "--window",
                &secs(window),
                "--slide",
                &secs(slide),
                "--lag",
                &secs(lag),
                "--lateness",
                &secs(lateness),
                "--parallelism",
                p,
            ];
            let (got, late, _) = window_count(&path, dir.path(), &flags);
            assert_eq!(got, want, "{flags:?}");
            assert_eq!(late, want_late, "{flags:?}");
        }
    }
    // The far-back tuples are late without lag or lateness, and counted with enough of it.
    assert!(!oracle(&input, (1000, 1000, 0, 0)).1.is_empty());
    assert!(oracle(&input, (500, 500, 0, 3000)).1.is_empty());
}

#[test]
fn window_count_reports_malformed_lines_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = events(200, 0, 0, 3);
    let path = write_events(dir.path(), "in.csv", &input, "12x,k1\n40\n");
    let (got, _, err) = window_count(&path, dir.path(), &["--window", "1", "--slide", "1"]);
    assert_eq!(got, oracle(&input, (1000, 1000, 0, 0)).0);
    assert!(err.contains("line 13") && err.contains("line 14"), "{err}");
    assert!(err.contains("in.csv"), "{err}");
}

#[test]
fn window_count_under_chaos_keeps_each_guarantee() {
    let dir = tempfile::tempdir().unwrap();
    let input = events(4000, 30, 0, 11);
    let path = write_events(dir.path(), "in.csv", &input, "");
    let (want, want_late) = oracle(&input, (1000, 500, 30, 0));
    assert!(
        want_late.is_empty(),
        "no tuple is late, so replays may not be either"
    );
    let want_counts: BTreeMap<String, u64> = want
        .iter()
        .map(|l| {
            let (k, n) = l.rsplit_once('\t').unwrap();
            (k.to_string(), n.parse().unwrap())
        })
        .collect();
    for guarantee in ["exactly-once", "at-least-once"] {
        let flags = [
            "--window",
            "1",
            "--slide",
            "0.5",
            "--lag",
            "0.03",
            "--parallelism",
            "3",
            "--guarantee",
            guarantee,
            "--chaos-panic-rate",
            "0.002",
            "--seed",
            "5",
        ];
        let (got, _, err) = window_count(&path, dir.path(), &flags);
        assert!(
            !err.contains("0 task restarts"),
            "chaos restarted nothing: {err}"
        );
        if guarantee == "exactly-once" {
            assert_eq!(got, want, "exactly-once under chaos");
            continue;
        }
        for line in &got {
            let (k, n) = line.rsplit_once('\t').unwrap();
            let n: u64 = n.parse().unwrap();
            assert!(
                want_counts.contains_key(k),
                "{guarantee}: window {k} is not in the input"
            );
            assert!(
                n >= want_counts[k],
                "{guarantee}: {k} counted {n} < {}",
                want_counts[k]
            );
        }
        assert_eq!(
            got.len(),
            want.len(),
            "{guarantee}: a window is missing: {err}"
        );
    }
}

/// `ts_ms,key,value` rows rising in time, each file in order within `jitter`.
fn rows(n: usize, jitter: u64, seed: u64, tag: &str) -> Vec<(u64, String, String)> {
    events(n, jitter, 0, seed)
        .into_iter()
        .enumerate()
        .map(|(i, (ts, key))| (ts, key, format!("{tag}{i}")))
        .collect()
}

fn write_rows(dir: &Path, name: &str, rows: &[(u64, String, String)]) -> String {
    let path = dir.join(name);
    let mut text = String::from("ts_ms,key,value\n");
    for (ts, key, value) in rows {
        text.push_str(&format!("{ts},{key},{value}\n"));
    }
    std::fs::write(&path, text).unwrap();
    s(&path).to_string()
}

#[test]
fn window_join_pairs_every_left_and_right_row_of_a_key_and_window() {
    let dir = tempfile::tempdir().unwrap();
    // Different rates and disorder on each side: two inputs with different watermarks.
    let left = rows(600, 20, 5, "l");
    let right = rows(300, 0, 9, "r");
    let (lp, rp) = (
        write_rows(dir.path(), "l.csv", &left),
        write_rows(dir.path(), "r.csv", &right),
    );
    let window = 500;
    let mut want = Vec::new();
    for (lt, lk, lv) in &left {
        for (rt, rk, rv) in &right {
            if lk == rk && lt / window == rt / window {
                want.push(format!("{}\t{lk}\t{lv}\t{rv}", lt / window * window));
            }
        }
    }
    want.sort();
    assert!(want.len() > 100);
    for p in ["1", "4"] {
        for guarantee in ["exactly-once", "at-least-once"] {
            let out = squall(&[
                "run",
                "window-join",
                "--left",
                &lp,
                "--right",
                &rp,
                "--window",
                "0.5",
                "--lag",
                "0.02",
                "--parallelism",
                p,
                "--guarantee",
                guarantee,
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
            let got: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            assert_eq!(got, want, "parallelism {p}, {guarantee}");
        }
    }
}

#[test]
fn a_missing_header_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, "1,a\n2,b\n").unwrap();
    let out = squall(&[
        "run",
        "window-count",
        "--input",
        s(&path),
        "--window",
        "1",
        "--slide",
        "1",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("in.csv") && !err.contains("panicked"), "{err}");
}
