//! `squall worker`, `submit`, `cluster status` and `kill` against a nats-server of their own
//! (JetStream, a free port, a temporary store), with worker processes of the built `squall`.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use squall_tests::servers::Server;
use support::{s, squall, start, stderr, Running};

/// A `squall worker` process, stopped with SIGTERM when dropped.
struct Worker {
    run: Running,
    name: String,
}

impl Worker {
    fn start(url: &str, name: &str) -> Worker {
        Worker {
            run: start(&["worker", "--cluster", url, "--name", name]),
            name: name.to_string(),
        }
    }

    /// SIGTERM, then the exit status (bounded wait).
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.run.signal("TERM");
        self.run.wait(Duration::from_secs(60))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.run.child.try_wait().ok().flatten().is_none() {
            let _ = self.run.child.kill();
            let _ = self.run.child.wait();
        }
    }
}

fn url(server: &Server) -> String {
    format!("nats://127.0.0.1:{}", server.port)
}

/// `squall cluster status`'s stdout.
fn status(url: &str) -> String {
    let out = squall(&["cluster", "status", "--cluster", url]);
    assert!(out.status.success(), "status failed: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The rows of the table headed by a line starting with `header`, split on runs of spaces.
fn table(status: &str, header: &str) -> Vec<Vec<String>> {
    let words: Vec<&str> = header.split_whitespace().collect();
    status
        .split("\n\n")
        .find(|t| {
            let first: Vec<&str> = t.lines().next().unwrap_or("").split_whitespace().collect();
            first.starts_with(&words)
        })
        .unwrap_or_else(|| panic!("no table {header} in:\n{status}"))
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Waits (bounded) until the live workers are exactly `names`.
fn wait_workers(url: &str, names: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = status(url);
        let live: Vec<String> = table(&st, "WORKER")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        if live == names {
            return;
        }
        assert!(Instant::now() < deadline, "workers {live:?}, not {names:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Word count computed here: maximal runs of alphanumeric characters, lowercased, sorted.
fn oracle(texts: &[&str]) -> String {
    let mut counts = BTreeMap::<String, u64>::new();
    for text in texts {
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *counts.entry(word.to_lowercase()).or_default() += 1;
        }
    }
    counts.iter().map(|(w, c)| format!("{w}\t{c}\n")).collect()
}

fn write_inputs(dir: &Path) -> Vec<&'static str> {
    let texts = vec![
        "the quick brown fox\njumps over the lazy dog\n",
        "The Dog barks; the fox runs.\nA fox, a dog, a cat!\n",
        "numbers 1 2 3 and 3 2 1\n",
    ];
    std::fs::create_dir(dir.join("in")).unwrap();
    for (i, t) in texts.iter().enumerate() {
        std::fs::write(dir.join("in").join(format!("part{i}.txt")), t).unwrap();
    }
    texts
}

#[test]
fn word_count_over_two_workers_writes_what_squall_run_and_the_oracle_write() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let texts = write_inputs(dir.path());
    let input = dir.path().join("in");
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    wait_workers(&url, &["w1", "w2"]);
    let local_out = dir.path().join("local.tsv");
    let local = squall(&[
        "run",
        "word-count",
        "--input",
        s(&input),
        "--output",
        s(&local_out),
        "--parallelism",
        "2",
    ]);
    assert!(local.status.success(), "{}", stderr(&local));
    let cluster_out = dir.path().join("cluster.tsv");
    let submitted = squall(&[
        "submit",
        "--cluster",
        &url,
        "--wait",
        "word-count",
        "--input",
        s(&input),
        "--output",
        s(&cluster_out),
        "--parallelism",
        "2",
    ]);
    assert!(
        submitted.status.success(),
        "submit --wait failed: {}\nw1: {}\nw2: {}",
        stderr(&submitted),
        w1.run.stderr,
        w2.run.stderr
    );
    let expected = oracle(&texts);
    assert_eq!(std::fs::read_to_string(&local_out).unwrap(), expected);
    assert_eq!(std::fs::read_to_string(&cluster_out).unwrap(), expected);
    // The same summary as `squall run`: lines read, distinct words, the components' counts.
    let words = expected.lines().count();
    let line = format!("word-count: 5 lines, {words} distinct words in ");
    assert!(stderr(&local).contains(&line), "{}", stderr(&local));
    assert!(stderr(&submitted).contains(&line), "{}", stderr(&submitted));
    for component in ["lines", "split", "count", "sink"] {
        assert!(stderr(&submitted).contains(&format!("  {component:<10} tasks")));
    }
    // The deployment stays, done, until killed (which removes it).
    let st = status(&url);
    assert_eq!(table(&st, "DEPLOYMENT  TOPOLOGY")[0][2], "done", "{st}");
    let killed = squall(&["kill", "--cluster", &url, "word-count"]);
    assert!(killed.status.success(), "{}", stderr(&killed));
    assert!(table(&status(&url), "DEPLOYMENT  TOPOLOGY").is_empty());
    assert!(w1.terminate().success(), "{}", w1.run.stderr);
    assert!(w2.terminate().success(), "{}", w2.run.stderr);
}

#[test]
fn bad_options_are_refused_at_once_and_nothing_is_stored() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let out = squall(&[
        "submit",
        "--cluster",
        &url,
        "word-count",
        "--parallelism",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = squall(&["submit", "--cluster", &url, "no-such-topology"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("word-count"), "{}", stderr(&out));
    assert!(table(&status(&url), "DEPLOYMENT  TOPOLOGY").is_empty());
}

/// A simulated sensor run far too long to end during a test.
fn submit_long_sensor_run(url: &str, dir: &Path) {
    let _ = dir;
    // Events to a JetStream stream on the cluster's own server (a file output is refused).
    let out = format!("{url}/events?stream=EVENTS");
    let submitted = squall(&[
        "submit",
        "--cluster",
        url,
        "--name",
        "sensors",
        "sensor-alarm",
        "--sensors",
        "4",
        "--samples",
        "1000000000",
        "--parallelism",
        "2",
        "--output",
        &out,
    ]);
    assert!(submitted.status.success(), "{}", stderr(&submitted));
}

/// Waits (bounded) until deployment `name` runs with an incarnation other than `not`, and
/// returns its status row and task rows.
fn wait_running(url: &str, name: &str, not: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = status(url);
        let row = table(&st, "DEPLOYMENT  TOPOLOGY")
            .into_iter()
            .find(|r| r[0] == name);
        if let Some(row) = row {
            assert_ne!(row[2], "failed", "{st}");
            if row[2] == "running" && row[3] != "-" && row[3] != not {
                let tasks = table(&st, "DEPLOYMENT  TASK");
                return (row, tasks.into_iter().filter(|t| t[0] == name).collect());
            }
        }
        assert!(Instant::now() < deadline, "{name} not running:\n{st}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The worker rendezvous hashing gives task `task` of `deployment` among `workers`.
fn owner(workers: &[&str], deployment: &str, task: u32) -> String {
    let names: Vec<String> = workers.iter().map(|w| w.to_string()).collect();
    squall_cluster::rendezvous::owner(&names, deployment, task)
        .unwrap()
        .clone()
}

#[test]
fn status_shows_who_runs_what_and_kill_drains_and_removes_the_deployment() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    wait_workers(&url, &["w1", "w2"]);
    let st = status(&url);
    assert!(st.starts_with("WORKER  HOST"), "{st}");
    submit_long_sensor_run(&url, dir.path());
    // A second submission under a running name is refused.
    let events = format!("{url}/events?stream=EVENTS");
    let again = squall(&[
        "submit",
        "--cluster",
        &url,
        "--name",
        "sensors",
        "sensor-alarm",
        "--samples",
        "10",
        "--output",
        &events,
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("running already"),
        "{}",
        stderr(&again)
    );
    let (row, tasks) = wait_running(&url, "sensors", "");
    assert_eq!(row[1], "sensor-alarm");
    assert!(row[4] == "w1" || row[4] == "w2", "{row:?}");
    assert!(!tasks.is_empty());
    for (i, t) in tasks.iter().enumerate() {
        assert_eq!(t[1], i.to_string());
        assert_eq!(t[3], owner(&["w1", "w2"], "sensors", i as u32), "task {i}");
    }
    let killed = squall(&["kill", "--cluster", &url, "sensors"]);
    assert!(killed.status.success(), "{}", stderr(&killed));
    assert!(table(&status(&url), "DEPLOYMENT  TOPOLOGY").is_empty());
    assert!(w1.terminate().success(), "{}", w1.run.stderr);
    assert!(w2.terminate().success(), "{}", w2.run.stderr);
}

#[test]
fn a_worker_stopped_by_sigterm_leaves_at_once_and_exits_0() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let mut w1 = Worker::start(&url, "w1");
    let _w2 = Worker::start(&url, "w2");
    wait_workers(&url, &["w1", "w2"]);
    let status_code = w1.terminate();
    assert!(status_code.success(), "{status_code:?}: {}", w1.run.stderr);
    // Its entry was deleted, not left to expire: gone on the next look.
    let st = status(&url);
    let live: Vec<String> = table(&st, "WORKER")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(live, ["w2"], "{st}");
    assert_eq!(w1.name, "w1");
}

#[test]
fn when_a_worker_is_killed_its_tasks_move_to_the_others_after_the_lease() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    wait_workers(&url, &["w1", "w2"]);
    submit_long_sensor_run(&url, dir.path());
    let (row, _) = wait_running(&url, "sensors", "");
    // SIGKILL: no goodbye; the lease expires.
    w2.run.child.kill().unwrap();
    w2.run.child.wait().unwrap();
    wait_workers(&url, &["w1"]);
    let (after, tasks) = wait_running(&url, "sensors", &row[3]);
    assert!(after[3].parse::<u64>().unwrap() > row[3].parse::<u64>().unwrap());
    assert_eq!(after[4], "w1");
    assert!(tasks.iter().all(|t| t[3] == "w1"), "{tasks:?}");
    let killed = squall(&["kill", "--cluster", &url, "sensors"]);
    assert!(killed.status.success(), "{}", stderr(&killed));
    assert!(w1.terminate().success(), "{}", w1.run.stderr);
}

/// Waits (bounded) until deployment `name` has ended; its status row.
fn wait_ended(url: &str, name: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let st = status(url);
        if let Some(row) = table(&st, "DEPLOYMENT  TOPOLOGY")
            .into_iter()
            .find(|r| r[0] == name && r[2] != "running")
        {
            return row;
        }
        assert!(Instant::now() < deadline, "{name} still running:\n{st}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Many lines of a few hundred words, so that a run lasts long enough to lose a worker and
/// wait out its lease (about 10 s in a debug build).
fn big_input(dir: &Path) -> (std::path::PathBuf, String) {
    let mut text = String::new();
    for i in 0..1_500_000u64 {
        text.push_str(&format!("w{} x{} common Word{}\n", i % 397, i % 13, i % 7));
    }
    let path = dir.join("big.txt");
    std::fs::write(&path, &text).unwrap();
    (path, oracle(&[&text]))
}

#[test]
fn a_run_that_loses_a_worker_midway_still_counts_every_word_exactly_once() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let (input, expected) = big_input(dir.path());
    let out = dir.path().join("counts.tsv");
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    let mut w3 = Worker::start(&url, "w3");
    wait_workers(&url, &["w1", "w2", "w3"]);
    let submitted = squall(&[
        "submit",
        "--cluster",
        &url,
        "word-count",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--parallelism",
        "3",
    ]);
    assert!(submitted.status.success(), "{}", stderr(&submitted));
    let (row, _) = wait_running(&url, "word-count", "");
    // Lose a worker that is not the leader, without a goodbye: its tasks resume elsewhere
    // from the last checkpoint once its lease expires.
    let victim = if row[4] == "w3" { &mut w2 } else { &mut w3 };
    victim.run.child.kill().unwrap();
    victim.run.child.wait().unwrap();
    let ended = wait_ended(&url, "word-count");
    assert_eq!(
        ended[2], "done",
        "{ended:?}\nw1: {}\nw2: {}\nw3: {}",
        w1.run.stderr, w2.run.stderr, w3.run.stderr
    );
    let got = std::fs::read_to_string(&out).unwrap();
    let survivor = if row[4] == "w3" { &mut w3 } else { &mut w2 };
    let stopped = [w1.terminate(), survivor.terminate()];
    assert!(
        got == expected,
        "counts differ\nw1: {}\nw2: {}\nw3: {}",
        w1.run.stderr,
        w2.run.stderr,
        w3.run.stderr
    );
    let survivor = if row[4] == "w3" { &w3 } else { &w2 };
    assert!(stopped[0].success(), "{}", w1.run.stderr);
    assert!(stopped[1].success(), "{}", survivor.run.stderr);
    // The loss happened mid-run: the survivors ran a second incarnation.
    assert!(
        w1.run.stderr.contains("runs incarnation 2 of word-count"),
        "the run ended before the worker's loss was noticed:\n{}",
        w1.run.stderr
    );
}

#[test]
fn a_run_whose_nats_server_goes_away_briefly_still_counts_every_word_exactly_once() {
    let Some(mut server) = Server::nats() else {
        return;
    };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let (input, expected) = big_input(dir.path());
    let out = dir.path().join("counts.tsv");
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    wait_workers(&url, &["w1", "w2"]);
    let submitted = squall(&[
        "submit",
        "--cluster",
        &url,
        "word-count",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--parallelism",
        "2",
    ]);
    assert!(submitted.status.success(), "{}", stderr(&submitted));
    wait_running(&url, "word-count", "");
    std::thread::sleep(Duration::from_millis(1500));
    // The outage must fall mid-run: the output is renamed into place only when the run ends.
    assert!(
        !out.exists(),
        "the run ended before the outage: make the input bigger"
    );
    // The only server dies (SIGKILL) and comes back 2 s later with its store on disk: frames
    // in flight are lost and leases lapse; the deployment either rides the outage out (the
    // clients reconnect and resend) or resumes from its last checkpoint.
    server.kill();
    std::thread::sleep(Duration::from_secs(2));
    server.restart();
    let ended = wait_ended(&url, "word-count");
    assert_eq!(
        ended[2], "done",
        "{ended:?}\nw1: {}\nw2: {}",
        w1.run.stderr, w2.run.stderr
    );
    let got = std::fs::read_to_string(&out).unwrap();
    let stopped = [w1.terminate(), w2.terminate()];
    assert!(
        got == expected,
        "counts differ\nw1: {}\nw2: {}",
        w1.run.stderr,
        w2.run.stderr
    );
    assert!(stopped[0].success(), "{}", w1.run.stderr);
    assert!(stopped[1].success(), "{}", w2.run.stderr);
}

#[test]
fn a_leader_stopped_by_sigterm_midway_hands_the_run_over_with_a_savepoint() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let (input, expected) = big_input(dir.path());
    let out = dir.path().join("counts.tsv");
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    wait_workers(&url, &["w1", "w2"]);
    let submitted = squall(&[
        "submit",
        "--cluster",
        &url,
        "word-count",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--parallelism",
        "3",
    ]);
    assert!(submitted.status.success(), "{}", stderr(&submitted));
    let (row, _) = wait_running(&url, "word-count", "");
    let (leader, other) = if row[4] == "w1" {
        (&mut w1, &mut w2)
    } else {
        (&mut w2, &mut w1)
    };
    assert!(leader.terminate().success(), "{}", leader.run.stderr);
    let ended = wait_ended(&url, "word-count");
    assert_eq!(ended[2], "done", "{ended:?}\n{}", other.run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert!(other.terminate().success(), "{}", other.run.stderr);
    assert!(
        other
            .run
            .stderr
            .contains("runs incarnation 2 of word-count (leader)"),
        "the run ended before the leader left:\n{}",
        other.run.stderr
    );
    assert!(
        leader.run.stderr.contains("savepoint"),
        "{}",
        leader.run.stderr
    );
}

#[test]
fn a_worker_joining_midway_leaves_the_counts_exact() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let (input, expected) = big_input(dir.path());
    let out = dir.path().join("counts.tsv");
    let mut w1 = Worker::start(&url, "w1");
    wait_workers(&url, &["w1"]);
    let submitted = squall(&[
        "submit",
        "--cluster",
        &url,
        "word-count",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--parallelism",
        "3",
    ]);
    assert!(submitted.status.success(), "{}", stderr(&submitted));
    wait_running(&url, "word-count", "");
    // A second worker joins: some tasks move to it, and every part of the new incarnation
    // restores the same checkpoint whatever the old leader still completes meanwhile.
    let mut w2 = Worker::start(&url, "w2");
    let ended = wait_ended(&url, "word-count");
    assert!(w2.terminate().success(), "{}", w2.run.stderr);
    assert!(w1.terminate().success(), "{}", w1.run.stderr);
    assert_eq!(
        ended[2], "done",
        "{ended:?}\nw1: {}\nw2: {}",
        w1.run.stderr, w2.run.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert!(
        w1.run.stderr.contains("runs incarnation 2 of word-count"),
        "the run ended before w2 joined:\n{}",
        w1.run.stderr
    );
}

#[test]
fn sensor_alarm_on_a_cluster_refuses_a_file_output() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    let submitted = squall(&[
        "submit",
        "--cluster",
        &url,
        "sensor-alarm",
        "--sensors",
        "4",
        "--samples",
        "1000",
        "--output",
        s(&out),
    ]);
    assert!(!submitted.status.success());
    let err = stderr(&submitted);
    assert!(err.contains("writes its events to a broker"), "{err}");
    assert!(!out.exists());
}

/// The payloads stream `stream` holds, in order.
fn stored(url: &str, stream: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream(stream).await.unwrap();
        let (first, last) = {
            let state = &stream.info().await.unwrap().state;
            (state.first_sequence, state.last_sequence)
        };
        let mut out = Vec::new();
        for seq in first..=last {
            let m = stream.get_raw_message(seq).await.unwrap();
            out.push(String::from_utf8(m.payload.to_vec()).unwrap());
        }
        out
    })
}

#[test]
fn sensor_alarm_over_two_workers_stores_the_events_squall_run_writes() {
    let Some(server) = Server::nats() else { return };
    let url = url(&server);
    let dir = tempfile::tempdir().unwrap();
    // Enough readings that a batch of blocks between two processes outgrows the server's
    // largest message (1 MiB): such frames were lost, and with them about 12 % of the events.
    let args = [
        "sensor-alarm",
        "--sensors",
        "16",
        "--samples",
        "100000",
        "--seed",
        "3",
        "--parallelism",
        "2",
        "--output",
    ];
    let local = dir.path().join("events.jsonl");
    let mut run_args = vec!["run"];
    run_args.extend(args);
    run_args.push(s(&local));
    let ran = squall(&run_args);
    assert!(ran.status.success(), "{}", stderr(&ran));
    let mut expected: Vec<String> = std::fs::read_to_string(&local)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(expected.len() > 10_000, "{}", expected.len());
    // A deployment name that puts a spout and an alarm task in different processes.
    let workers = ["w1", "w2"];
    let name = (0..100)
        .map(|i| format!("sensors-{i}"))
        .find(|n| owner(&workers, n, 0) != owner(&workers, n, 2))
        .unwrap();
    let mut w1 = Worker::start(&url, "w1");
    let mut w2 = Worker::start(&url, "w2");
    wait_workers(&url, &workers);
    let target = format!("{url}/events?stream=EVENTS");
    let mut submit_args = vec!["submit", "--cluster", &url, "--name", &name, "--wait"];
    submit_args.extend(args);
    submit_args.push(&target);
    let submitted = squall(&submit_args);
    assert!(submitted.status.success(), "{}", stderr(&submitted));
    let mut got = stored(&url, "EVENTS");
    assert!(w1.terminate().success(), "{}", w1.run.stderr);
    assert!(w2.terminate().success(), "{}", w2.run.stderr);
    for w in [&w1, &w2] {
        assert!(
            w.run
                .stderr
                .contains(&format!("runs incarnation 1 of {name}")),
            "{} ran no part:\n{}",
            w.name,
            w.run.stderr
        );
    }
    got.sort();
    expected.sort();
    assert_eq!(
        got.len(),
        expected.len(),
        "events stored by the cluster run"
    );
    assert!(got == expected, "the cluster stored other events");
    // The summary counts what every process's tasks counted, not only the leader's: the same
    // readings, alarms and leaks as the one-process run. (A run whose parts were replaced
    // counts only what the last incarnation did; this one ran one.)
    let replaced = [&w1, &w2].iter().any(|w| {
        w.run
            .stderr
            .contains(&format!("runs incarnation 2 of {name}"))
    });
    if !replaced {
        assert_eq!(
            counts(&stderr(&submitted)),
            counts(&stderr(&ran)),
            "submit:\n{}\nrun:\n{}",
            stderr(&submitted),
            stderr(&ran)
        );
    }
    let (_, alarms, leaks) = counts(&stderr(&ran));
    assert_eq!(alarms + leaks, expected.len() as u64);
}

/// Readings, sensor alarms and leaks in a sensor-alarm summary line ("sensor-alarm: N readings
/// in ...; A sensor alarms, L leaks").
fn counts(stderr: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("sensor-alarm: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stderr}"));
    let number_before = |what: &str| -> u64 {
        let head = &line[..line
            .find(what)
            .unwrap_or_else(|| panic!("{what} in {line}"))];
        head.split_whitespace().last().unwrap().parse().unwrap()
    };
    (
        number_before(" readings in"),
        number_before(" sensor alarms"),
        number_before(" leaks"),
    )
}
