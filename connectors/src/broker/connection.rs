//! Whether a client reaches its broker, told on stderr without flooding it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{BrokerError, Endpoint};

/// How often "cannot reach" is repeated while the broker stays away: often enough that a
/// person watching sees the run is still trying, rarely enough to read (a client retries
/// far more often at first).
const REPEAT: Duration = Duration::from_secs(5);

/// What the clients of one spout or sink (all its tasks) know of their broker: shared between
/// the client threads, which report, and whoever watches the run (clone it to keep a handle).
///
/// Failures are said on stderr as `{endpoint}: cannot reach HOST:PORT: {reason}`, the first
/// at once and then at most every 5 s, with the number of attempts in between.
///
/// ```
/// let endpoint = "nats://127.0.0.1:4222/readings".parse()?;
/// let state = squall_connectors::broker::ConnectionState::new(&endpoint);
/// assert!(!state.ever_connected());
/// assert_eq!(state.address(), "127.0.0.1:4222");
/// # Ok::<(), squall_connectors::broker::BrokerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConnectionState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    endpoint: String,
    address: String,
    /// Some client reached the broker at least once.
    ever: AtomicBool,
    /// The last news was a connection: the next failure is a loss, said in full.
    up: AtomicBool,
    said: Mutex<Said>,
}

/// What was last said, for the rate limit.
#[derive(Debug, Default)]
struct Said {
    /// When "cannot reach" was last printed; `None` since the last connection.
    last: Option<Instant>,
    /// Failed attempts since then.
    unsaid: u64,
}

impl ConnectionState {
    /// The state of clients of `endpoint`, none connected yet.
    pub fn new(endpoint: &Endpoint) -> Self {
        ConnectionState {
            inner: Arc::new(Inner {
                endpoint: endpoint.to_string(),
                address: endpoint.address(),
                ever: AtomicBool::new(false),
                up: AtomicBool::new(false),
                said: Mutex::new(Said::default()),
            }),
        }
    }

    /// Whether a client has reached the broker at least once.
    pub fn ever_connected(&self) -> bool {
        self.inner.ever.load(Ordering::Acquire)
    }

    /// `HOST:PORT` of the broker.
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    /// The endpoint, as its URL without a password.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// A client connected: say so, and say the next failure at once.
    pub(crate) fn connected(&self) {
        self.inner.ever.store(true, Ordering::Release);
        self.inner.up.store(true, Ordering::Release);
        if let Ok(mut said) = self.inner.said.lock() {
            *said = Said::default();
        }
        eprintln!(
            "{}: connected to {}",
            self.inner.endpoint, self.inner.address
        );
    }

    /// A connection was lost; the client reconnects by itself.
    pub(crate) fn lost(&self) {
        self.inner.up.store(false, Ordering::Release);
        eprintln!("{}: connection lost; reconnecting", self.inner.endpoint);
    }

    /// An attempt to connect (or a write on a connection never confirmed) failed; `retry`:
    /// the delay before the next attempt, when the caller knows it.
    pub(crate) fn failed(&self, reason: &dyn std::fmt::Display, retry: Option<Duration>) {
        let Ok(mut said) = self.inner.said.lock() else {
            return;
        };
        if said.last.is_some_and(|t| t.elapsed() < REPEAT) {
            said.unsaid += 1;
            return;
        }
        let mut line = format!(
            "{}: cannot reach {}: {reason}",
            self.inner.endpoint, self.inner.address
        );
        if said.unsaid > 0 {
            line.push_str(&format!(" ({} more failed attempts)", said.unsaid));
        }
        match retry {
            Some(d) => line.push_str(&format!("; retrying in {} ms", d.as_millis())),
            None => line.push_str("; retrying"),
        }
        eprintln!("{line}");
        said.last = Some(Instant::now());
        said.unsaid = 0;
    }

    /// A client's request failed with `e` and is retried, after `delay` when the caller knows
    /// it: a connection that worked until now says so in full; a broker still away is said at
    /// the bounded rate.
    pub(crate) fn retrying(&self, e: &BrokerError, delay: Option<Duration>) {
        if self.inner.up.swap(false, Ordering::AcqRel) {
            match delay {
                Some(d) => eprintln!("{e}; retrying in {} ms", d.as_millis()),
                None => eprintln!("{e}; retrying"),
            }
            return;
        }
        match e {
            BrokerError::Connection { reason, .. } => self.failed(reason, delay),
            other => self.failed(other, delay),
        }
    }

    /// Whether the next failure would be said (for tests of the rate limit).
    #[cfg(test)]
    fn would_say(&self) -> bool {
        self.inner
            .said
            .lock()
            .map(|s| s.last.is_none_or(|t| t.elapsed() >= REPEAT))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_said_once_per_interval_until_a_connection() {
        let state = ConnectionState::new(&"mqtt://127.0.0.1:1/t".parse().unwrap());
        assert!(state.would_say());
        state.failed(&"refused", Some(Duration::from_millis(100)));
        assert!(!state.would_say());
        for _ in 0..100 {
            state.failed(&"refused", None);
        }
        assert_eq!(state.inner.said.lock().unwrap().unsaid, 100);
        state.connected();
        assert!(state.ever_connected() && state.would_say());
    }
}
