//! Broker servers for tests and benchmarks: each starts its own process on a free loopback
//! port, in a temporary directory, and stops it when dropped. Never the system's services.
//!
//! A constructor returns `None`, after a loud message on stderr, only when the server program
//! is not installed (`scripts/test.sh` installs them); any other failure panics.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
pub struct Server {
    /// The loopback port it listens on.
    pub port: u16,
    kind: Kind,
    /// Keeps its data on disk across [`Server::stop`] or [`Server::kill`] and a restart.
    persistent: bool,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Nats,
    Mosquitto,
    Redis,
    Postgres,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// The path of `program`, looked up in PATH, /usr/sbin and PostgreSQL's versioned folders.
pub fn find(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from));
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut v: Vec<PathBuf> = versions.flatten().map(|e| e.path().join("bin")).collect();
        v.sort();
        dirs.extend(v.into_iter().rev());
    }
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn require(program: &str, package: &str) -> Option<PathBuf> {
    let found = find(program);
    if found.is_none() {
        eprintln!(
            "\n!!!!! SKIPPED: `{program}` is not installed (Debian package {package}); \
             scripts/test.sh installs it !!!!!\n"
        );
    }
    found
}

/// Waits until `port` accepts TCP connections (or panics after 20 s).
pub fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after 20 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Server {
    /// nats-server with JetStream, its store in a temporary directory.
    pub fn nats() -> Option<Server> {
        require("nats-server", "nats-server")?;
        let mut s = Server::new(Kind::Nats);
        s.start();
        Some(s)
    }

    /// mosquitto with a generated configuration: anonymous, no in-flight or queue limits.
    pub fn mosquitto() -> Option<Server> {
        require("mosquitto", "mosquitto")?;
        let mut s = Server::new(Kind::Mosquitto);
        s.start();
        Some(s)
    }

    /// mosquitto as [`Server::mosquitto`], with persistence in its directory: sessions,
    /// subscriptions and queued messages are saved when it is stopped gracefully
    /// ([`Server::stop`]; not after [`Server::kill`]) and loaded by [`Server::restart`].
    pub fn mosquitto_persistent() -> Option<Server> {
        require("mosquitto", "mosquitto")?;
        let mut s = Server::new(Kind::Mosquitto);
        s.persistent = true;
        s.start();
        Some(s)
    }

    /// redis-server without persistence.
    pub fn redis() -> Option<Server> {
        require("redis-server", "redis-server")?;
        let mut s = Server::new(Kind::Redis);
        s.start();
        Some(s)
    }

    /// redis-server with an append-only file fsynced on every write: whatever it acknowledged
    /// survives even [`Server::kill`] and comes back with [`Server::restart`].
    pub fn redis_persistent() -> Option<Server> {
        require("redis-server", "redis-server")?;
        let mut s = Server::new(Kind::Redis);
        s.persistent = true;
        s.start();
        Some(s)
    }

    /// A PostgreSQL cluster made with initdb in a temporary directory; user `squall`, database
    /// `postgres`, trust authentication.
    pub fn postgres() -> Option<Server> {
        let initdb = require("initdb", "postgresql")?;
        let s = Server::new(Kind::Postgres);
        chown_for_postgres(s.dir.path());
        let data = s.dir.path().join("data");
        let status = as_postgres(&initdb)
            .args(["-D"])
            .arg(&data)
            .args(["-U", "squall", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .status()
            .expect("run initdb");
        assert!(status.success(), "initdb failed");
        let mut s = s;
        s.start();
        Some(s)
    }

    fn new(kind: Kind) -> Server {
        Server {
            port: free_port(),
            kind,
            persistent: false,
            child: None,
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// `postgres://squall@127.0.0.1:PORT/postgres?table=NAME`-style base URL for this server.
    pub fn url(&self, path: &str) -> String {
        let scheme = match self.kind {
            Kind::Nats => "nats",
            Kind::Mosquitto => "mqtt",
            Kind::Redis => "redis",
            Kind::Postgres => "postgres",
        };
        let user = if self.kind == Kind::Postgres {
            "squall@"
        } else {
            ""
        };
        format!("{scheme}://{user}127.0.0.1:{}/{path}", self.port)
    }

    /// Kills the server abruptly (SIGKILL; PostgreSQL: immediate shutdown), keeping its data.
    pub fn kill(&mut self) {
        if self.kind == Kind::Postgres {
            let pg_ctl = find("pg_ctl").expect("pg_ctl next to initdb");
            let _ = as_postgres(&pg_ctl)
                .args(["stop", "-m", "immediate", "-D"])
                .arg(self.dir.path().join("data"))
                .stdout(Stdio::null())
                .status();
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server gracefully (SIGTERM, waiting for it to exit), so that it saves what it
    /// persists on shutdown (mosquitto). PostgreSQL: as [`Server::kill`].
    pub fn stop(&mut self) {
        if self.kind == Kind::Postgres {
            return self.kill();
        }
        if let Some(mut c) = self.child.take() {
            let status = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            if !status.is_ok_and(|s| s.success()) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port with the same data (after [`Server::kill`] or
    /// [`Server::stop`]; a running server is killed first).
    pub fn restart(&mut self) {
        self.kill();
        self.start();
    }

    fn start(&mut self) {
        let port = self.port.to_string();
        let dir = self.dir.path();
        let child = match self.kind {
            Kind::Nats => Command::new(find("nats-server").expect("nats-server"))
                .args(["-a", "127.0.0.1", "-p", &port, "-js", "-sd"])
                .arg(dir.join("js"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn(),
            Kind::Mosquitto => {
                let conf = dir.join("mosquitto.conf");
                let user = if is_root() { "user root\n" } else { "" };
                // persistence_location must end with a separator.
                let persistence = if self.persistent {
                    format!(
                        "persistence true\npersistence_location {}/\n",
                        dir.display()
                    )
                } else {
                    "persistence false\n".to_string()
                };
                std::fs::write(
                    &conf,
                    format!(
                        "listener {port} 127.0.0.1\nallow_anonymous true\n\
                         max_inflight_messages 0\nmax_queued_messages 0\n\
                         {persistence}set_tcp_nodelay true\n{user}"
                    ),
                )
                .expect("write mosquitto.conf");
                Command::new(find("mosquitto").expect("mosquitto"))
                    .arg("-c")
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
            }
            Kind::Redis => Command::new(find("redis-server").expect("redis-server"))
                .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
                .args(if self.persistent {
                    ["--appendonly", "yes", "--appendfsync", "always"]
                } else {
                    ["--appendonly", "no", "--appendfsync", "everysec"]
                })
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::null())
                .spawn(),
            Kind::Postgres => {
                let pg_ctl = find("pg_ctl").expect("pg_ctl next to initdb");
                let options = format!(
                    "-p {port} -h 127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off",
                    dir.display()
                );
                let status = as_postgres(&pg_ctl)
                    .args(["start", "-w", "-D"])
                    .arg(dir.join("data"))
                    .arg("-l")
                    .arg(dir.join("log"))
                    .args(["-o", &options])
                    .stdout(Stdio::null())
                    .status()
                    .expect("run pg_ctl");
                assert!(
                    status.success(),
                    "pg_ctl start failed: see {}/log",
                    dir.display()
                );
                wait_listening(self.port);
                return;
            }
        };
        self.child = Some(child.unwrap_or_else(|e| panic!("cannot start {:?}: {e}", self.kind)));
        wait_listening(self.port);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// PostgreSQL refuses to run as root: then run its programs as the `postgres` user.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn chown_for_postgres(dir: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .status()
            .expect("run chown");
        assert!(
            status.success(),
            "cannot hand {} to postgres",
            dir.display()
        );
    }
}
