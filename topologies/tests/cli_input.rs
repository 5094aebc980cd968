//! The `squall` command on bad input files: a bad line costs that line only, a bad file is one
//! clear error at once, and no message copies a huge field.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;
use support::squall;

/// `squall run sensor-alarm --input PATH` with `extra` arguments.
fn sensor_alarm(input: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "sensor-alarm", "--input", input.to_str().unwrap()];
    args.extend_from_slice(extra);
    squall(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstderr:\n{}",
        out.status,
        text(&out.stderr)
    );
}

/// The stderr lines reporting a skipped line.
fn skipped(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.ends_with("; line skipped"))
        .collect()
}

/// The number of readings the summary line says the run processed.
fn readings(stderr: &str) -> u64 {
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("sensor-alarm: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"));
    summary["sensor-alarm: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A run that failed with one line of error, at once (no restarts), naming `file`.
fn assert_one_error(out: &Output, file: &str) -> String {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "must fail:\n{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line:\n{stderr}");
    assert!(stderr.contains(file), "names {file}:\n{stderr}");
    assert!(!stderr.contains("restarted"), "no retries:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(text(&out.stdout).trim().is_empty());
    stderr
}

#[test]
fn an_unterminated_quote_costs_its_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("u.csv");
    let mut csv = String::from("sensor,seq,value\n0,1,2.0\n0,2,2.0\n0,3,2.0\n0,4,2.0\n0,\"5,2.0\n");
    for seq in 6..1000 {
        writeln!(csv, "0,{seq},2.0").unwrap();
    }
    std::fs::write(&input, csv).unwrap();
    let out = sensor_alarm(&input, &[]);
    assert_ok(&out, "unterminated quote");
    let stderr = text(&out.stderr);
    let reports = skipped(&stderr);
    assert_eq!(reports.len(), 1, "{stderr}");
    assert!(reports[0].contains("u.csv: line 6: "), "{stderr}");
    assert_eq!(readings(&stderr), 998, "{stderr}");
}

#[test]
fn crlf_lines_and_a_last_line_without_newline_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("crlf.csv");
    std::fs::write(
        &input,
        "sensor,seq,value\r\n0,1,2.0\r\n0,\"2,2.0\r\n 0 , 3 ,2.0 \r\n\r\n0,4,2.0",
    )
    .unwrap();
    let out = sensor_alarm(&input, &[]);
    assert_ok(&out, "crlf");
    let stderr = text(&out.stderr);
    let reports = skipped(&stderr);
    assert_eq!(reports.len(), 1, "{stderr}");
    assert!(reports[0].contains("crlf.csv: line 3: "), "{stderr}");
    assert_eq!(readings(&stderr), 3, "{stderr}");
}

#[test]
fn an_empty_csv_is_one_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("empty.csv");
    std::fs::write(&input, "").unwrap();
    for extra in [&[][..], &["--sensors", "2"][..]] {
        let out = sensor_alarm(&input, extra);
        let stderr = assert_one_error(&out, "empty.csv");
        assert!(stderr.contains("sensor,seq,value"), "{stderr}");
    }
}

#[test]
fn a_wrong_header_is_one_error_naming_the_header_found() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wrong.csv");
    let mut csv = String::from("a,b,c\n");
    for seq in 1..=1000 {
        writeln!(csv, "0,{seq},2.0").unwrap();
    }
    std::fs::write(&input, csv).unwrap();
    for extra in [&[][..], &["--sensors", "2"][..]] {
        let out = sensor_alarm(&input, extra);
        let stderr = assert_one_error(&out, "wrong.csv");
        assert!(stderr.contains("a,b,c"), "{stderr}");
        assert!(stderr.contains("sensor,seq,value"), "{stderr}");
    }
}

#[test]
fn messages_quote_at_most_a_short_excerpt_of_a_field() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "é".repeat(100_000);
    let input = dir.path().join("huge.csv");
    std::fs::write(
        &input,
        format!("sensor,seq,value\n0,1,2.0\n0,{huge},2.0\n0,3,{huge}\n0,4,2.0\n"),
    )
    .unwrap();
    let out = sensor_alarm(&input, &[]);
    assert_ok(&out, "huge field");
    let stderr = text(&out.stderr);
    let reports = skipped(&stderr);
    assert_eq!(reports.len(), 2, "{}", &stderr[..stderr.len().min(2000)]);
    for report in reports {
        assert!(report.len() < 300, "{} bytes: {report:.300}", report.len());
        assert!(report.contains('…'), "{report}");
    }
    assert_eq!(readings(&stderr), 2);

    let header = dir.path().join("huge-header.csv");
    std::fs::write(&header, format!("sensor,seq,{huge}\n0,1,2.0\n")).unwrap();
    let out = sensor_alarm(&header, &[]);
    let stderr = assert_one_error(&out, "huge-header.csv");
    assert!(stderr.len() < 400, "{} bytes: {stderr:.400}", stderr.len());
}

#[test]
fn nan_and_infinite_values_are_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("nan.csv");
    std::fs::write(
        &input,
        "sensor,seq,value\n0,1,2.0\n0,2,NaN\n0,3,inf\n0,4,-inf\n0,5,infinity\n0,6,2.0\n",
    )
    .unwrap();
    let out = sensor_alarm(&input, &[]);
    assert_ok(&out, "nan");
    let stderr = text(&out.stderr);
    let reports = skipped(&stderr);
    assert_eq!(reports.len(), 4, "{stderr}");
    for (report, line) in reports.iter().zip(3..) {
        assert!(
            report.contains(&format!("nan.csv: line {line}: field `value`")),
            "{report}"
        );
    }
    assert_eq!(readings(&stderr), 2, "{stderr}");
}

#[test]
fn invalid_utf8_in_a_sensor_line_costs_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bytes.csv");
    std::fs::write(
        &input,
        b"sensor,seq,value\n0,1,2.0\n0,\xff\xfe,2.0\n0,3,2\xc3\n0,4,2.0\n",
    )
    .unwrap();
    let out = sensor_alarm(&input, &[]);
    assert_ok(&out, "invalid UTF-8");
    let stderr = text(&out.stderr);
    let reports = skipped(&stderr);
    assert_eq!(reports.len(), 2, "{stderr}");
    assert!(
        reports[0].contains("bytes.csv: line 3: field `seq`"),
        "{stderr}"
    );
    assert!(
        reports[1].contains("bytes.csv: line 4: field `value`"),
        "{stderr}"
    );
    assert_eq!(readings(&stderr), 2, "{stderr}");
}

/// Text with undecodable lines among good ones: the file's bytes, the good lines' text and the
/// numbers of the bad lines.
fn text_with_bad_lines(lines: u64) -> (Vec<u8>, String, BTreeSet<u64>) {
    let (mut bytes, mut good, mut bad) = (Vec::new(), String::new(), BTreeSet::new());
    for n in 1..=lines {
        if n % 7 == 3 {
            bytes.extend_from_slice(b"bad \xff\xfe words \x80\n");
            bad.insert(n);
        } else {
            let line = format!("line {} of alpha beta{}\n", n, n % 5);
            bytes.extend_from_slice(line.as_bytes());
            good.push_str(&line);
        }
    }
    (bytes, good, bad)
}

fn word_counts(text: &str) -> String {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(w.to_lowercase()).or_default() += 1;
    }
    counts.iter().map(|(w, n)| format!("{w}\t{n}\n")).collect()
}

#[test]
fn word_count_reports_and_skips_undecodable_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.txt");
    let (bytes, good, bad) = text_with_bad_lines(200);
    std::fs::write(&input, bytes).unwrap();
    for parallelism in ["1", "3"] {
        let out = squall(&[
            "run",
            "word-count",
            "--input",
            input.to_str().unwrap(),
            "--parallelism",
            parallelism,
        ]);
        assert_ok(&out, "word-count on undecodable lines");
        assert_eq!(text(&out.stdout), word_counts(&good), "p {parallelism}");
        let stderr = text(&out.stderr);
        let reported: BTreeSet<u64> = skipped(&stderr)
            .iter()
            .map(|l| {
                assert!(l.contains("mixed.txt: line ") && l.contains("UTF-8"), "{l}");
                l.split("line ")
                    .nth(1)
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(reported, bad, "p {parallelism}:\n{stderr}");
        assert_eq!(skipped(&stderr).len(), bad.len(), "each once:\n{stderr}");
    }
}

#[test]
fn word_count_on_a_binary_file_counts_what_decodes() {
    let ls = Path::new("/bin/ls");
    if !ls.exists() {
        return;
    }
    let out = squall(&[
        "run",
        "word-count",
        "--input",
        "/bin/ls",
        "--parallelism",
        "2",
    ]);
    assert_ok(&out, "word-count /bin/ls");
    let stderr = text(&out.stderr);
    assert!(!skipped(&stderr).is_empty(), "{stderr}");
    assert!(!text(&out.stdout).is_empty());
}

/// Standard input cannot be checked before the run: a bad header there is still one error,
/// at once, not a spout restarted until the supervisor gives up.
#[test]
fn a_bad_header_on_standard_input_is_one_error_without_restarts() {
    for input in ["", "a,b\n1,2\n"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_squall"))
            .args(["run", "sensor-alarm", "--input", "-", "--sensors", "2"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{input:?}: {err}");
        assert!(err.contains("expected the header"), "{input:?}: {err}");
        // About the input, as for a file, not about a task (it said "task readings[0] failed
        // in `open`: returned an error: -: ...").
        assert!(err.starts_with("error: -: "), "{input:?}: {err}");
        assert!(!err.contains("restarted"), "{input:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{input:?}: {err}");
    }
}
