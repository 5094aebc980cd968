//! What every broker connector shares: endpoints, payload formats, reconnect backoff, and the
//! spout and sink cores that the MQTT, NATS, Redis and PostgreSQL modules plug into.
//!
//! # Layout
//!
//! - [`Endpoint`]: a broker URL (`mqtt://`, `nats://`, `redis://`, `postgres://`) with its
//!   `?format=` and per-system parameters.
//! - [`Format`]: JSON (default) or MessagePack payloads.
//! - [`Backoff`]: delays between reconnect attempts.
//! - [`ConnectionState`]: whether the clients of a spout or sink ever reached their broker;
//!   says on stderr, at a bounded rate, when they cannot.
//! - [`BrokerSpout`]: a spout over a [`Subscriber`]. The client runs on its own thread with its
//!   own runtime, so the spout never blocks an actor thread; messages come through a bounded
//!   channel (backpressure to the broker) and verdicts ([`Settle`]) go back. Exactly-once, a
//!   ledger of emits not yet committed ties each to the checkpoint whose completion
//!   acknowledges it, and tells a rollback what to replay.
//! - [`BrokerSink`]: a sink bolt; a writer thread publishes in batches and confirms on `finish`.
//! - [`BrokerError`]: what fails a task, naming the endpoint.

mod backoff;
mod connection;
mod deliveries;
mod endpoint;
mod error;
mod format;
mod ledger;
mod sink;
mod spout;

pub use backoff::Backoff;
pub use connection::ConnectionState;
pub use deliveries::Deliveries;
pub use endpoint::{Endpoint, Scheme};
pub use error::BrokerError;
pub use format::Format;
#[allow(unused_imports)] // used by the broker modules that are enabled
pub(crate) use sink::Publisher;
pub use sink::{BrokerSink, Record};
pub use spout::{BrokerSpout, ClientLink, Delivery, Replay, Settle, Subscriber};

/// A tokio runtime for one client thread: current-thread when the thread drives everything
/// itself, one worker when tasks must run while the thread waits on a channel.
#[allow(dead_code)] // used by the async clients that are enabled
pub(crate) fn runtime(
    endpoint: &Endpoint,
    worker: bool,
) -> Result<tokio::runtime::Runtime, BrokerError> {
    let mut builder = if worker {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(1);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| BrokerError::Stopped {
            endpoint: endpoint.to_string(),
            reason: format!("cannot start a runtime: {e}"),
        })
}
