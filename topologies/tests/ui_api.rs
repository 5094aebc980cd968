//! `--ui`: the JSON API while a run lasts (`docs/ui.md`): the contract's fields are there, the
//! graph is the topology's, and the counters move; a MapReduce job's tasks and counters; and
//! the static `report.html` of `--report`, checked against counts known from the input.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use squall_topologies::sensor::BLOCK_SEQS;
use support::{free_port, http, s, squall, start, stderr, wait_for_line, Running};

/// Polls `path` until `ready` holds for its JSON (bounded); fails if the run ends first.
fn poll(run: &mut Running, port: u16, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok((200, body)) = http::get(port, path) {
            let json: Value = serde_json::from_str(&body).unwrap();
            if ready(&json) {
                return json;
            }
        }
        if let Some(status) = run.child.try_wait().unwrap() {
            panic!("squall ended ({status:?}) first; stderr:\n{}", run.stderr);
        }
        assert!(Instant::now() < deadline, "{path} never got ready");
        run.next_line(Duration::from_millis(50));
    }
}

fn component<'a>(t: &'a Value, id: &str) -> &'a Value {
    t["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no component {id} in {t}"))
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Every field `docs/ui.md` promises in `/api/v1/topology`.
fn check_contract(t: &Value) {
    assert!(t["name"].is_string());
    assert!(t["guarantee"].is_string());
    assert!(t["uptime_s"].as_f64().unwrap() >= 0.0);
    assert!(n(&t["checkpoints"]["completed"]) < u64::MAX);
    assert!(t["dead_letters"].is_array());
    for c in t["components"].as_array().unwrap() {
        assert!(c["id"].is_string());
        assert!(c["kind"] == "spout" || c["kind"] == "bolt", "{c}");
        assert!(n(&c["parallelism"]) >= 1);
        for field in [
            "emitted", "executed", "acked", "failed", "replayed", "restarts",
        ] {
            n(&c[field]);
        }
        n(&c["queue_depth"]);
        let capacity = c["capacity"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&capacity), "{c}");
        for p in ["p50", "p99", "max"] {
            assert!(c["latency_us"][p].as_f64().unwrap() >= 0.0, "{c}");
        }
    }
    for e in t["edges"].as_array().unwrap() {
        for field in ["from", "to", "stream", "grouping"] {
            assert!(e[field].is_string(), "{e}");
        }
    }
}

fn edges(t: &Value) -> BTreeSet<String> {
    t["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}>{} {} {}",
                e["from"], e["to"], e["stream"], e["grouping"]
            )
            .replace('"', "")
        })
        .collect()
}

/// The sensor alarm topology as `docs/cli.md` describes it.
fn sensor_edges() -> BTreeSet<String> {
    [
        "readings>alarm default fields",
        "alarm>leak status global",
        "alarm>sink events global",
        "leak>sink default global",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

#[test]
fn topology_json_has_the_contract_fields_and_its_counters_move() {
    let port = free_port();
    let ui = format!("127.0.0.1:{port}");
    let mut run = start(&[
        "bench",
        "sensor-alarm",
        "--rate",
        "20000",
        "--duration",
        "120",
        "--warmup",
        "0",
        "--parallelism",
        "2",
        "--ui",
        &ui,
    ]);
    wait_for_line(&mut run, "ui: serving the run on", Duration::from_secs(60));
    let executed = |t: &Value| n(&component(t, "alarm")["executed"]);
    let first = poll(&mut run, port, "/api/v1/topology", |t| executed(t) > 0);
    check_contract(&first);
    assert_eq!(first["name"], "sensor-alarm");
    assert_eq!(first["guarantee"], "at-most-once");
    assert_eq!(first["state"], "running");
    assert_eq!(edges(&first), sensor_edges());
    let kinds: Vec<(String, String, u64)> = first["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().into(),
                c["kind"].as_str().unwrap().into(),
                n(&c["parallelism"]),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("readings", "spout", 1),
            ("alarm", "bolt", 2),
            ("leak", "bolt", 1),
            ("sink", "bolt", 1)
        ]
        .map(|(a, b, p)| (a.to_string(), b.to_string(), p))
    );
    // Later samples: the counters, the uptime and the latency samples grow; rates show.
    let later = poll(&mut run, port, "/api/v1/topology", |t| {
        executed(t) > executed(&first)
            && n(&component(t, "readings")["emitted"])
                > n(&component(&first, "readings")["emitted"])
            && component(t, "alarm")["rates"]["executed"].as_f64().unwrap() > 0.0
            && n(&t["latency_us"]["count"]) > 0
    });
    check_contract(&later);
    assert!(later["uptime_s"].as_f64() > first["uptime_s"].as_f64());
    assert!(!later["latency_us"]["distribution"]
        .as_array()
        .unwrap()
        .is_empty());
    // No `executed <= emitted` across two components: the sampler reads each task's counters
    // at a slightly different moment, so a bolt's count can be ahead of the spout's.
    let (status, body) = http::get(port, "/api/v1/job").unwrap();
    assert_eq!(status, 404, "{body}");
    let (status, page) = http::get(port, "/").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("app.js") && page.contains("id=\"graph\""));
    assert!(
        !page.contains("http"),
        "no CDN: the page loads only what the binary serves"
    );
    let (status, script) = http::get(port, "/app.js").unwrap();
    assert_eq!(status, 200);
    // The SVG namespace is the script's only URL: it fetches nothing from elsewhere.
    let urls: Vec<&str> = script.matches("http").collect();
    assert_eq!(
        urls.len(),
        script.matches("http://www.w3.org/2000/svg").count(),
        "no CDN"
    );
    assert!(script.contains("api/v1/topology"));
    run.signal("INT");
    assert_eq!(run.wait(Duration::from_secs(120)).code(), Some(130));
}

#[test]
fn restarts_and_checkpoints_show_while_a_chaos_run_lasts() {
    let port = free_port();
    let ui = format!("127.0.0.1:{port}");
    let mut run = start(&[
        "run",
        "sensor-alarm",
        "--sensors",
        "16",
        "--samples",
        "100000000",
        "--chaos-panic-rate",
        "0.0002",
        "--output",
        "/dev/null",
        "--ui",
        &ui,
    ]);
    wait_for_line(&mut run, "ui: serving the run on", Duration::from_secs(60));
    let t = poll(&mut run, port, "/api/v1/topology", |t| {
        n(&t["restarts"]) > 0 && n(&t["checkpoints"]["completed"]) > 0
    });
    check_contract(&t);
    assert_eq!(t["guarantee"], "exactly-once");
    let per_component: u64 = t["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| n(&c["restarts"]))
        .sum();
    assert_eq!(per_component, n(&t["restarts"]));
    let later = poll(&mut run, port, "/api/v1/topology", |l| {
        n(&l["checkpoints"]["completed"]) > n(&t["checkpoints"]["completed"])
    });
    assert!(n(&later["restarts"]) >= n(&t["restarts"]));
    run.signal("INT");
    assert_eq!(run.wait(Duration::from_secs(120)).code(), Some(130));
}

#[test]
fn a_mapreduce_job_shows_its_tasks_attempts_and_counters() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // 16 files of 60,000 lines: long enough to be watched for a few seconds.
    let mut seed = 7u64;
    for f in 0..16 {
        let mut text = String::new();
        for _ in 0..60_000 {
            for _ in 0..6 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(&format!("w{} ", (seed >> 33) % 5000));
            }
            text.push('\n');
        }
        std::fs::write(input.join(format!("f{f:02}.txt")), text).unwrap();
    }
    let port = free_port();
    let ui = format!("127.0.0.1:{port}");
    let output = dir.path().join("out");
    let mut run = start(&[
        "mapreduce",
        "wordcount",
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--mappers",
        "2",
        "--reducers",
        "3",
        "--inject-failures",
        "0.3",
        "--ui",
        &ui,
    ]);
    wait_for_line(&mut run, "ui: serving the run on", Duration::from_secs(60));
    let read = |j: &Value| n(&j["counters"]["map_input_records"]);
    let progress = |j: &Value| -> f64 {
        j["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["progress"].as_f64().unwrap())
            .sum()
    };
    let first = poll(&mut run, port, "/api/v1/job", |j| j["tasks"].is_array());
    assert_eq!(first["name"], "wordcount");
    assert_eq!(first["state"], "running");
    assert_eq!(n(&first["reduces_total"]), 3);
    let maps = n(&first["maps_total"]);
    assert!(maps >= 16, "one split per file at least: {first}");
    let tasks = first["tasks"].as_array().unwrap();
    assert_eq!(tasks.len() as u64, maps + 3);
    for t in tasks {
        assert!(t["kind"] == "map" || t["kind"] == "reduce");
        assert!(
            ["pending", "running", "committed", "failed"].contains(&t["state"].as_str().unwrap())
        );
        n(&t["attempts"]);
        n(&t["failures"]);
        assert!((0.0..=1.0).contains(&t["progress"].as_f64().unwrap()));
    }
    for counter in [
        "map_input_records",
        "map_output_records",
        "reduce_output_records",
        "failed_attempts",
    ] {
        n(&first["counters"][counter]);
    }
    // The job moves: more tasks done, more map progress or more records counted.
    let later = poll(&mut run, port, "/api/v1/job", |j| {
        progress(j) > progress(&first) || read(j) > read(&first)
    });
    assert!(read(&later) >= read(&first));
    assert!(n(&later["maps_done"]) >= n(&first["maps_done"]));
    // The job's topology is watched too.
    let (status, body) = http::get(port, "/api/v1/topology").unwrap();
    assert_eq!(status, 200, "{body}");
    let t: Value = serde_json::from_str(&body).unwrap();
    check_contract(&t);
    assert!(t["name"].as_str().unwrap().starts_with("mapreduce-"));
    let status = run.wait(Duration::from_secs(300));
    assert!(status.success(), "{}", run.stderr);
    assert!(output.join("_SUCCESS").exists());
}

/// The JSON embedded in a `report.html`.
fn embedded(html: &str) -> Value {
    let start = html.find("window.SQUALL_STATIC = ").unwrap() + "window.SQUALL_STATIC = ".len();
    let end = start + html[start..].find(";</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn report_html_holds_the_final_numbers_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let events = dir.path().join("events.jsonl");
    let out = squall(&[
        "run",
        "sensor-alarm",
        "--sensors",
        "4",
        "--samples",
        "2500",
        "--report",
        s(&report),
        "--output",
        s(&events),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(!html.contains("src=\"app.js\""), "the script is inlined");
    let data = embedded(&html);
    let t = &data["topology"];
    assert!(data["job"].is_null());
    check_contract(t);
    assert_eq!(t["state"], "finished");
    assert_eq!(edges(t), sensor_edges());
    // 4 simulated sensors x 2,500 readings, exactly once and without failures, in blocks of
    // BLOCK_SEQS seqs of one sensor.
    let blocks = 4 * 2_500u64.div_ceil(BLOCK_SEQS);
    assert_eq!(n(&component(t, "readings")["emitted"]), blocks);
    assert_eq!(n(&component(t, "alarm")["executed"]), blocks);
    // Exactly once, the alarm tasks pre-aggregate the leak detector's input (counts per seq,
    // up to 16 consecutive seqs a tuple, and progress marks), so its count follows the seqs,
    // not the readings.
    let leak_executed = n(&component(t, "leak")["executed"]);
    assert!(
        (2_500 / 16..10_000).contains(&leak_executed),
        "{leak_executed}"
    );
    let alarms = std::fs::read_to_string(&events).unwrap().lines().count() as u64;
    // Every event line passed the sink once; the alarm bolt sent the leak bolt all it
    // executed and its own alarms to the sink.
    assert_eq!(n(&component(t, "sink")["executed"]), alarms);
    let leaks = n(&component(t, "leak")["emitted"]);
    assert_eq!(
        n(&component(t, "alarm")["emitted"]),
        leak_executed + alarms - leaks
    );
}
