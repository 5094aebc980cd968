//! The cluster across a real network and a replicated broker: workers in network namespaces of
//! their own (veth pairs on a bridge, so every tuple between them crosses a network device), and
//! a NATS cluster of three servers with JetStream replication (R3) that loses a server mid-run.
//! Both end with exactly the output a sequential computation gives.
//!
//! Namespaces need CAP_NET_ADMIN: the test runs `ip` directly as root, through `sudo -n`
//! otherwise, and fails with that reason when neither works.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use squall_tests::servers::{find, free_port, wait_listening};
use support::{s, squall, stderr};

/// `ip ARGS`, as root or through `sudo -n`.
fn ip(args: &[&str]) -> std::process::Output {
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut cmd = if root {
        Command::new("ip")
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "ip"]);
        c
    };
    cmd.args(args).output().unwrap()
}

fn ip_ok(args: &[&str]) {
    let out = ip(args);
    assert!(
        out.status.success(),
        "ip {} failed (network namespaces need root or passwordless sudo): {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bridge in this namespace and `n` namespaces each joined to it by a veth pair; removed when
/// dropped. Addresses: 10.X.Y.1 for the bridge, 10.X.Y.(10+i) for namespace i.
struct Net {
    tag: String,
    prefix: String,
    spaces: Vec<String>,
}

impl Net {
    fn new(n: usize) -> Net {
        let pid = std::process::id();
        let tag = format!("sq{}", pid % 100_000);
        let prefix = format!("10.{}.{}", 100 + (pid / 256) % 100, pid % 256);
        let bridge = format!("{tag}br");
        ip_ok(&["link", "add", &bridge, "type", "bridge"]);
        let mut net = Net {
            tag: tag.clone(),
            prefix: prefix.clone(),
            spaces: Vec::new(),
        };
        ip_ok(&["addr", "add", &format!("{prefix}.1/24"), "dev", &bridge]);
        ip_ok(&["link", "set", &bridge, "up"]);
        for i in 0..n {
            let space = format!("{tag}n{i}");
            let outside = format!("{tag}v{i}");
            let inside = format!("{tag}p{i}");
            ip_ok(&["netns", "add", &space]);
            net.spaces.push(space.clone());
            ip_ok(&[
                "link", "add", &outside, "type", "veth", "peer", "name", &inside,
            ]);
            ip_ok(&["link", "set", &inside, "netns", &space]);
            ip_ok(&["link", "set", &outside, "master", &bridge]);
            ip_ok(&["link", "set", &outside, "up"]);
            let addr = format!("{prefix}.{}/24", 10 + i);
            ip_ok(&[
                "netns", "exec", &space, "ip", "addr", "add", &addr, "dev", &inside,
            ]);
            ip_ok(&["netns", "exec", &space, "ip", "link", "set", &inside, "up"]);
            ip_ok(&["netns", "exec", &space, "ip", "link", "set", "lo", "up"]);
        }
        net
    }

    fn bridge_addr(&self) -> String {
        format!("{}.1", self.prefix)
    }

    /// Bytes received by this namespace's end of its veth pair.
    fn rx_bytes(&self, i: usize) -> u64 {
        let out = ip(&["-s", "link", "show", &format!("{}v{i}", self.tag)]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        // "TX: bytes ..." on the bridge side is what the namespace received.
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            if l.trim_start().starts_with("TX:") {
                let numbers = lines.next().unwrap_or("");
                return numbers
                    .split_whitespace()
                    .next()
                    .and_then(|b| b.parse().ok())
                    .unwrap_or(0);
            }
        }
        0
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for (i, space) in self.spaces.iter().enumerate() {
            let _ = ip(&["link", "del", &format!("{}v{i}", self.tag)]);
            let _ = ip(&["netns", "del", space]);
        }
        let _ = ip(&["link", "del", &format!("{}br", self.tag)]);
    }
}

/// A process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nats_server(args: &[&str]) -> Proc {
    let program = find("nats-server").expect("nats-server is installed by scripts/test.sh");
    Proc(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn worker_in(space: Option<&str>, url: &str, name: &str) -> Proc {
    let squall = env!("CARGO_BIN_EXE_squall");
    let mut cmd = match space {
        Some(space) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", space, squall]);
            c
        }
        None => Command::new(squall),
    };
    Proc(
        cmd.args(["worker", "--cluster", url, "--name", name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Word counts computed here, as `word<TAB>count` lines.
fn oracle(text: &str) -> String {
    let mut counts = BTreeMap::<String, u64>::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_default() += 1;
    }
    counts.iter().map(|(w, c)| format!("{w}\t{c}\n")).collect()
}

/// A text of `lines` lines from a small vocabulary.
fn text(lines: usize) -> String {
    let words = [
        "storm", "squall", "nats", "stream", "tuple", "bolt", "spout", "Worker",
    ];
    (0..lines)
        .map(|i| {
            (0..8)
                .map(|j| words[(i * 7 + j * 3) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
                + "\n"
        })
        .collect()
}

fn submit_word_count(url: &str, name: &str, input: &Path, output: &Path) -> std::process::Output {
    squall(&submit_args(url, name, input, output))
}

/// `squall submit` of word count with `--wait`, as arguments.
fn submit_args<'a>(
    url: &'a str,
    name: &'a str,
    input: &'a Path,
    output: &'a Path,
) -> [&'a str; 13] {
    [
        "submit",
        "--cluster",
        url,
        "--name",
        name,
        "word-count",
        "--input",
        s(input),
        "--output",
        s(output),
        "--parallelism",
        "4",
        "--wait",
    ]
}

#[test]
fn workers_in_separate_network_namespaces_count_words_exactly() {
    let net = Net::new(2);
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("js");
    let server = nats_server(&[
        "-a",
        &net.bridge_addr(),
        "-p",
        &port.to_string(),
        "-js",
        "-sd",
        s(&store),
    ]);
    let url = format!("nats://{}:{port}", net.bridge_addr());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect((net.bridge_addr().as_str(), port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let before: Vec<u64> = (0..2).map(|i| net.rx_bytes(i)).collect();
    let _w0 = worker_in(Some(&net.spaces[0]), &url, "ns0");
    let _w1 = worker_in(Some(&net.spaces[1]), &url, "ns1");
    let input = dir.path().join("in.txt");
    let body = text(20_000);
    std::fs::write(&input, &body).unwrap();
    let output = dir.path().join("counts.tsv");
    let out = submit_word_count(&url, "netns", &input, &output);
    assert!(out.status.success(), "submit failed: {}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), oracle(&body));
    // Both namespaces received their share over their veth: frames, not just heartbeats.
    for (i, before) in before.iter().enumerate() {
        let got = net.rx_bytes(i) - before;
        assert!(got > 100_000, "namespace {i} received {got} bytes");
    }
    drop(server);
}

#[test]
fn a_replicated_broker_losing_a_server_mid_run_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let client: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let route_list = routes
        .iter()
        .map(|p| format!("nats://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut servers: Vec<Option<Proc>> = (0..3)
        .map(|i| {
            let store = dir.path().join(format!("js{i}"));
            Some(nats_server(&[
                "-a",
                "127.0.0.1",
                "-p",
                &client[i].to_string(),
                "-js",
                "-sd",
                s(&store),
                "--server_name",
                &format!("n{i}"),
                "--cluster_name",
                "squall",
                "--cluster",
                &format!("nats://127.0.0.1:{}", routes[i]),
                "--routes",
                &route_list,
            ]))
        })
        .collect();
    for p in &client {
        wait_listening(*p);
    }
    let urls = client
        .iter()
        .map(|p| format!("nats://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    // JetStream elects its meta leader once the routes are up.
    let _w0 = worker_in(None, &urls, "r0");
    let _w1 = worker_in(None, &urls, "r1");
    let input = dir.path().join("in.txt");
    let body = text(200_000);
    std::fs::write(&input, &body).unwrap();
    let output = dir.path().join("counts.tsv");
    let log = dir.path().join("submit.log");
    let mut submit = Proc(
        Command::new(env!("CARGO_BIN_EXE_squall"))
            .args(submit_args(&urls, "r3", &input, &output))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_secs(2));
    // SIGKILL one server (not the last one listed): the buckets and streams have replicas on
    // the other two, and the clients reconnect to them.
    if let Some(mut p) = servers[1].take() {
        let _ = p.0.kill();
        let _ = p.0.wait();
    }
    // A run that stalls fails here rather than holding the whole suite: undisturbed it takes
    // under 10 s, and 45 to 85 s with the failover (debug build, two cores).
    let limit = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = submit.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < limit,
            "the submission did not complete within 300 s of losing a server: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "submit failed: {log}");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), oracle(&body));
    drop(servers);
}
