//! `--ui` in a real browser: headless Chromium opens the page of a running bench, runs its
//! script, and the DOM it leaves shows the topology graph and live counters that move. A
//! screenshot is kept in `target/ui-test/screenshot.png` for a person to look at.
//!
//! Chromium comes from the Debian packages `chromium` and `chromium-driver` (`scripts/test.sh`
//! installs them); without it this test fails and says so.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{free_port, http, start, wait_for_line};

/// The Chromium binary, or a failure that says how to install it.
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let path = Path::new(dir).join(name);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!(
        "headless Chromium is needed for the browser test and was not found on PATH: install \
         the Debian packages chromium and chromium-driver (scripts/test.sh installs them)"
    );
}

/// Runs headless Chromium on `url` for `budget_ms` of virtual time with `extra` flags;
/// returns its stdout. Fails the test with Chromium's stderr if it cannot run.
fn headless(url: &str, budget_ms: u32, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--virtual-time-budget={budget_ms}"),
        ])
        .args(extra)
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot start Chromium: {e}"));
    assert!(
        out.status.success(),
        "Chromium failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The number in the first `<td class="CLASS">` after `<tr data-id="ROW"`.
fn cell(dom: &str, row: &str, class: &str) -> u64 {
    let at = dom
        .find(&format!("<tr data-id=\"{row}\""))
        .unwrap_or_else(|| panic!("no row {row} in the components table:\n{dom}"));
    let rest = &dom[at..];
    let open = format!("<td class=\"{class}\">");
    let start = rest.find(&open).unwrap() + open.len();
    let text = &rest[start..start + rest[start..].find('<').unwrap()];
    text.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{row}.{class} is not a count: {text:?}"))
}

/// `data-updates`: how many times the page drew fresh numbers.
fn updates(dom: &str) -> u64 {
    let start = dom.find("data-updates=\"").unwrap() + "data-updates=\"".len();
    dom[start..start + dom[start..].find('"').unwrap()]
        .parse()
        .unwrap()
}

#[test]
fn the_page_draws_the_graph_and_live_counters_in_chromium() {
    let port = free_port();
    let ui = format!("127.0.0.1:{port}");
    let mut run = start(&[
        "bench",
        "sensor-alarm",
        "--rate",
        "20000",
        "--duration",
        "300",
        "--warmup",
        "0",
        "--parallelism",
        "2",
        "--ui",
        &ui,
    ]);
    wait_for_line(&mut run, "ui: serving the run on", Duration::from_secs(60));
    // Wait until the run is under way, so that the page has numbers to show.
    loop {
        if let Ok((200, body)) = http::get(port, "/api/v1/topology") {
            if body.contains("\"executed\":") && !body.contains("\"latency_us\":{\"count\":0") {
                break;
            }
        }
        assert!(run.child.try_wait().unwrap().is_none(), "{}", run.stderr);
        run.next_line(Duration::from_millis(100));
    }
    let url = format!("http://{ui}/");
    let first = headless(&url, 3_000, &["--dump-dom"]);
    assert!(updates(&first) >= 2, "the page polled and redrew: {first}");
    assert!(first.contains("data-state=\"live\""), "{first}");
    assert!(first.contains("<span id=\"name\">sensor-alarm</span>"));
    // The graph: every component as a node with its kind and parallelism, every edge with
    // its grouping and stream.
    for (id, kind, tasks) in [
        ("readings", "spout", 1),
        ("alarm", "bolt", 2),
        ("leak", "bolt", 1),
        ("sink", "bolt", 1),
    ] {
        let node = format!("<g class=\"node {kind}\" data-id=\"{id}\"");
        assert!(first.contains(&node), "no node {node}");
        assert!(
            first.contains(&format!("{kind} ×{tasks}</text>")),
            "{id} ×{tasks}"
        );
    }
    for (from, to, grouping, stream) in [
        ("readings", "alarm", "fields", "default"),
        ("alarm", "leak", "global", "status"),
        ("alarm", "sink", "global", "events"),
        ("leak", "sink", "global", "default"),
    ] {
        let edge = format!("data-from=\"{from}\" data-to=\"{to}\" data-grouping=\"{grouping}\" data-stream=\"{stream}\"");
        assert!(first.contains(&edge), "no edge {edge}");
        assert!(first.contains(&format!("{grouping} · {stream}</text>")));
    }
    // Live counters in the table, and the latency plot drawn.
    let (emitted, executed) = (
        cell(&first, "readings", "emitted"),
        cell(&first, "alarm", "executed"),
    );
    assert!(
        emitted > 0 && executed > 0,
        "readings emitted {emitted}, alarm executed {executed}"
    );
    // No `executed <= emitted`: the sampler reads each task's counters at slightly different
    // moments, so a bolt's count can be a little ahead of the spout's in one sample.
    assert!(
        first.contains("data-series=\"end-to-end\""),
        "the percentile plot"
    );
    assert!(first.contains("<td data-p=\"p99\">") && !first.contains("<td data-p=\"p99\">-</td>"));
    // A later look: the counters moved.
    std::thread::sleep(Duration::from_secs(1));
    let later = headless(&url, 2_000, &["--dump-dom"]);
    assert!(
        cell(&later, "alarm", "executed") > executed,
        "the counters move"
    );
    assert!(cell(&later, "readings", "emitted") > emitted);
    // A screenshot for a person to look at.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("ui-test");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &url,
        3_000,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,1500",
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    run.signal("INT");
    assert_eq!(run.wait(Duration::from_secs(120)).code(), Some(130));
}
