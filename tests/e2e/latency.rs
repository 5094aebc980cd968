//! Latency reports: a stall is seen by every tuple it delayed (no coordinated omission), the
//! report files agree with a histogram built here from raw samples, the `.hgrm` parses, the
//! SVGs are well-formed XML, and a Prometheus scrape during a run returns labelled metrics.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use squall::report::{parse_hgrm, Summary, Timeline, REPORT_FILES};
use squall::RunReport;
use squall_topologies::cli::bench::{execute, BenchOutcome};
use squall_topologies::cli::{BenchArgs, Cli, Command};

fn bench_args(args: &[&str]) -> BenchArgs {
    let argv = ["squall", "bench"]
        .iter()
        .chain(args)
        .map(|s| s.to_string());
    match Cli::try_parse_from(argv).unwrap().command {
        Some(Command::Bench(a)) => a,
        other => panic!("not a bench command: {other:?}"),
    }
}

fn bench(args: &[&str]) -> BenchOutcome {
    execute(&bench_args(args)).unwrap()
}

/// The `q` quantile of sorted samples as HdrHistogram defines it: the smallest sample with at
/// least `q * n` samples at or below it.
fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn close(got_us: f64, want_ns: u64, what: &str) {
    let want_us = want_ns as f64 / 1000.0;
    // 3 significant digits: HdrHistogram's buckets are within 0.1 % of a value.
    assert!(
        (got_us - want_us).abs() <= want_us * 0.002 + 0.001,
        "{what}: report says {got_us} µs, raw samples say {want_us} µs"
    );
}

/// Checks every report file in `dir` against `hist` (the histogram the numbers came from) and,
/// when given, the raw samples behind it.
fn check_files(dir: &Path, hist: &Histogram<u64>, raw: Option<&[u64]>) -> Summary {
    let summary = Summary::read_json(&dir.join("summary.json")).unwrap();
    assert_eq!(summary.count, hist.len());
    let l = summary.latency_us;
    for (got, q, name) in [
        (l.p50, 0.5, "p50"),
        (l.p90, 0.9, "p90"),
        (l.p99, 0.99, "p99"),
        (l.p999, 0.999, "p99.9"),
        (l.p9999, 0.9999, "p99.99"),
    ] {
        close(got, hist.value_at_quantile(q), name);
        if let Some(sorted) = raw {
            close(got, exact_quantile(sorted, q), name);
        }
    }
    close(l.max, hist.max(), "max");

    let text = std::fs::read_to_string(dir.join("latency.hgrm")).unwrap();
    let rows = parse_hgrm(&text).unwrap();
    assert!(rows.len() > 10, "too few rows: {}", rows.len());
    for pair in rows.windows(2) {
        assert!(pair[0].value <= pair[1].value && pair[0].percentile <= pair[1].percentile);
        assert!(pair[0].total_count <= pair[1].total_count);
    }
    let last = rows.last().unwrap();
    assert_eq!(last.percentile, 1.0);
    assert_eq!(last.total_count, hist.len());
    close(last.value, hist.max(), "hgrm max");
    if let Some(sorted) = raw {
        // Each row's count is the number of raw samples in buckets at or below its value.
        for row in &rows {
            let value_ns = (row.value * 1000.0).round() as u64;
            let at_or_below = sorted
                .iter()
                .filter(|&&s| hist.highest_equivalent(s) <= value_ns)
                .count() as u64;
            assert_eq!(at_or_below, row.total_count, "hgrm row {row:?}");
        }
    }

    for svg in ["latency.svg", "latency-timeline.svg"] {
        let text = std::fs::read_to_string(dir.join(svg)).unwrap();
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{svg} is not well-formed XML: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{svg}");
        assert!(doc
            .descendants()
            .any(|n| n.has_tag_name("polyline") || n.has_tag_name("path")));
    }
    summary
}

#[test]
fn report_files_agree_with_a_histogram_built_from_raw_samples() {
    let mut rng = SmallRng::seed_from_u64(7);
    // Log-uniform from 1 µs to 1 s: every decade gets samples.
    let mut raw: Vec<u64> = (0..200_000)
        .map(|_| 10f64.powf(rng.gen_range(3.0..9.0)) as u64)
        .collect();
    let mut hist = Histogram::<u64>::new(3).unwrap();
    let mut timeline = Timeline::new();
    for (i, &s) in raw.iter().enumerate() {
        hist.record(s).unwrap();
        timeline.record(i as u64 * 50_000, s);
    }
    raw.sort_unstable();
    let report = RunReport {
        topology: "raw".into(),
        elapsed: Duration::from_secs(10),
        components: Vec::new(),
        latency: hist.clone(),
        timeline,
        dead_letters: Vec::new(),
        rollbacks: 0,
        checkpoints: 0,
        interrupted: None,
        counters: Default::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    report
        .write_report(dir.path(), &report.summary(Some(20_000.0)))
        .unwrap();
    for f in REPORT_FILES {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let summary = check_files(dir.path(), &hist, Some(&raw));
    assert_eq!(summary.achieved_rate, 20_000.0);
}

#[test]
fn a_stall_is_charged_to_every_tuple_it_delayed() {
    let dir = tempfile::tempdir().unwrap();
    let out = bench(&[
        "sensor-alarm",
        "--rate",
        "20000",
        "--duration",
        "6",
        "--warmup",
        "1",
        "--inject-stall-ms",
        "500",
    ]);
    assert_eq!(out.stalled, Some(true));
    // `--report` is the command's; `execute` leaves writing to the caller.
    out.report.write_report(dir.path(), &out.summary).unwrap();
    let s = check_files(dir.path(), &out.report.latency, None);
    // 500 ms at 20k/s delays ~10,000 of ~120,000 readings, by 0 to 500 ms: p99 is ~450 ms.
    // Measured from the actual send time the stall would be one sample.
    assert!(s.latency_us.p99 >= 250_000.0, "p99 {} µs", s.latency_us.p99);
    assert!(s.latency_us.max >= 450_000.0, "max {} µs", s.latency_us.max);
    assert_eq!(s.target_rate, Some(20_000.0));
    // Every measured reading and nothing from the warm-up: at least one sample per reading.
    let readings = (20_000.0 * 6.0) as u64;
    assert!(s.count >= readings, "count {}", s.count);
    assert!(s.count < readings + readings / 10, "count {}", s.count);
    assert!(s.achieved_rate > 15_000.0, "achieved {}", s.achieved_rate);
    let alarm = s.components.iter().find(|c| c.id == "alarm").unwrap();
    // Every measured reading, and the warm-up's 20,000 less any a loaded machine could not
    // send on time (the source skips a warm-up backlog rather than send it late).
    assert!(
        (readings..=(20_000.0 * 7.0) as u64).contains(&alarm.executed),
        "{}",
        alarm.executed
    );
    assert!(alarm.execute_latency_us.max > 0.0);
    // The timeline shows the hiccup in one second or two, not smeared over the run (a loaded
    // machine adds tens of milliseconds here and there, far below half the stall).
    let points = out.report.timeline.points();
    let worst = points.iter().map(|p| p.max_ns).max().unwrap();
    assert!(worst >= 450_000_000, "{points:?}");
    let calm = points.iter().filter(|p| p.max_ns < worst / 2).count();
    assert!(calm >= 2, "{points:?}");
}

#[test]
fn word_count_bench_measures_every_line() {
    let out = bench(&[
        "word-count",
        "--rate",
        "5000",
        "--duration",
        "1",
        "--warmup",
        "0.5",
    ]);
    let s = &out.summary;
    // One latency sample per line sent in the measured second (split pre-aggregates, so a
    // line's branch ends there): 5,000 on schedule; on a loaded machine the source stops at
    // the end of the second with what it could not send yet left out, and the rate shows it.
    let sent = (s.achieved_rate * s.duration_s).round() as u64;
    assert_eq!(s.count, sent);
    assert!(s.count > 0 && s.count <= 5_000, "{}", s.count);
    let split = out.report.component("split").unwrap();
    // The measured second is exact; warm-up lines a loaded machine could not send on time are
    // skipped rather than sent late (the source keeps to its schedule), so the warm-up's 2,500
    // are an upper bound.
    assert!(
        (5_000..=7_500).contains(&split.executed),
        "{}",
        split.executed
    );
    assert!(s.latency_us.max > 0.0);
}

fn scrape(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    Some(body)
}

/// The value of the first sample of `name` with both labels, if scraped.
fn sample(text: &str, name: &str, component: &str, task: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| l.contains(&format!("component=\"{component}\"")))
        .find(|l| l.contains(&format!("task=\"{task}\"")))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn a_prometheus_scrape_during_a_run_returns_labelled_metrics() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let args = bench_args(&[
        "sensor-alarm",
        "--rate",
        "5000",
        "--duration",
        "6",
        "--warmup",
        "0",
        "--metrics-addr",
        &addr,
    ]);
    let run = std::thread::spawn(move || execute(&args).map(|o| o.summary.count));
    let deadline = Instant::now() + Duration::from_secs(6);
    let text = loop {
        assert!(Instant::now() < deadline, "no labelled metrics within 6 s");
        assert!(
            !run.is_finished(),
            "the run ended before a scrape saw its metrics"
        );
        // Every task registers its series when it first reports: on a loaded machine the
        // first scrapes may see some tasks and not others yet.
        if let Some(text) = scrape(port) {
            let executed = sample(&text, "squall_executed_total", "alarm", "0");
            let emitted = sample(&text, "squall_emitted_total", "readings", "0");
            if executed.is_some_and(|v| v > 0.0)
                && emitted.is_some_and(|v| v > 0.0)
                && sample(&text, "squall_queue_depth", "leak", "0").is_some()
                && sample(&text, "squall_acked_total", "alarm", "1").is_some()
            {
                break text;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !run.is_finished(),
        "the scrape must happen while the run lasts"
    );
    assert!(sample(&text, "squall_emitted_total", "readings", "0").is_some_and(|v| v > 0.0));
    assert!(sample(&text, "squall_queue_depth", "leak", "0").is_some());
    assert!(sample(&text, "squall_acked_total", "alarm", "1").is_some());
    assert!(text.contains("squall_execute_latency_seconds"), "{text}");
    assert!(text.contains("# HELP squall_capacity"), "{text}");
    // The run goes on to its end.
    assert!(run.join().unwrap().unwrap() > 0);
}

/// Emits `0..n`, then finishes.
struct Numbers {
    next: u64,
    end: u64,
}

impl squall::Spout for Numbers {
    type Output = u64;
    fn next_tuple(
        &mut self,
        out: &mut squall::SpoutCollector<'_, u64>,
    ) -> Result<(), squall::ComponentError> {
        if self.next < self.end {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
}

struct Discard;

impl squall::Bolt for Discard {
    type Input = u64;
    type Output = ();
    fn execute(
        &mut self,
        _: u64,
        _: &mut squall::BoltCollector<'_, ()>,
    ) -> Result<(), squall::ComponentError> {
        Ok(())
    }
}

fn run_numbers(config: squall::Config) -> RunReport {
    let mut b = squall::TopologyBuilder::new("numbers");
    let numbers = b.set_spout("numbers", 1, || Numbers {
        next: 0,
        end: 10_000,
    });
    b.set_bolt("drop", 2, || Discard).shuffle_grouping(&numbers);
    squall::LocalCluster::new(config)
        .run(b.build().unwrap())
        .unwrap()
}

#[test]
fn config_switches_what_is_recorded() {
    let on = run_numbers(squall::Config::default());
    let drop = on.component("drop").unwrap();
    // Execute latency is recorded per batch with the batch's tuple count.
    assert_eq!(drop.execute_latency.len(), 10_000);
    assert_eq!(on.latency.len(), 10_000);
    assert_eq!(on.timeline.total().len(), 10_000);
    assert_eq!(on.component("numbers").unwrap().execute_latency.len(), 0);

    let mut config = squall::Config::default();
    config.metrics = false;
    // Every tuple's origin is before this: all of them are warm-up.
    config.measure_from = Some(Instant::now() + Duration::from_secs(3600));
    let live = std::sync::Arc::new(squall::LiveCounters::default());
    config.live = Some(live.clone());
    let off = run_numbers(config);
    assert_eq!(off.component("drop").unwrap().execute_latency.len(), 0);
    assert_eq!(off.latency.len(), 0);
    assert_eq!(off.component("drop").unwrap().executed, 10_000);
    assert_eq!(live.spout_emitted(), 10_000);
    assert_eq!(live.executed(), 10_000);
}
