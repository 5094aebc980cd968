//! What the `squall` command's tests share: running it to completion ([`squall`]), or as a
//! process whose stderr is read line by line as it comes, with waits bounded by deadlines
//! ([`start`]).
#![allow(dead_code)] // each test file uses its part

pub mod http;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// Runs `squall ARGS` to the end (with backtraces on, should it panic).
pub fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

/// A finished command's stderr, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path as an argument.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A `squall` process whose stderr lines arrive on a channel as it writes them.
pub struct Running {
    /// The process.
    pub child: Child,
    lines: Receiver<String>,
    /// Every stderr line read so far.
    pub stderr: String,
}

/// Starts `squall ARGS`, stdout discarded.
pub fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        stderr: String::new(),
    }
}

impl Running {
    /// Sends signal `name` (`TERM`, `INT`) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits (bounded) for the next stderr line.
    pub fn next_line(&mut self, within: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(within).ok()?;
        self.stderr.push_str(&line);
        self.stderr.push('\n');
        Some(line)
    }

    /// Waits (bounded) for the process to end; kills it and fails the test past `within`.
    pub fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Some(_line) = self.next_line(Duration::from_secs(2)) {}
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "squall did not end within {within:?}; stderr:\n{}",
                    self.stderr
                );
            }
            // Collect stderr meanwhile; this also paces the loop.
            self.next_line(Duration::from_millis(50));
        }
    }
}

/// A loopback port where nothing listens (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) for a stderr line starting with `prefix`; fails the test if the process
/// ends first or none comes within `within`.
pub fn wait_for_line(run: &mut Running, prefix: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(line) = run.next_line(Duration::from_millis(100)) {
            if line.starts_with(prefix) {
                return line;
            }
        } else if let Some(status) = run.child.try_wait().unwrap() {
            panic!(
                "squall ended ({status:?}) before printing {prefix:?}; stderr:\n{}",
                run.stderr
            );
        }
    }
    panic!(
        "no stderr line {prefix:?} within {within:?}; stderr:\n{}",
        run.stderr
    );
}
