//! NATS: core subjects and JetStream streams, with async-nats.
//!
//! An endpoint `nats://HOST:PORT/SUBJECT` is a core NATS subject; with `?stream=NAME` it is a
//! JetStream stream (created when missing, capturing SUBJECT).
//!
//! - [`spout`]: core NATS subscribes (a queue group `squall` when the spout has several tasks);
//!   core NATS keeps nothing, so a failed tuple is re-emitted by the spout. JetStream reads from
//!   a durable pull consumer (`?consumer=NAME`, default `squall`, created when missing): a
//!   message is acked to the server only once the spout's `ack` says its tree completed. With
//!   one task the consumer acks cumulatively (`AckPolicy::All`, one ack per completed prefix of
//!   about a thousand messages, a failed one re-delivered by the client); with several, or with
//!   `?ack=explicit`, each message is acked, and nak'ed in `fail` so the server redelivers it.
//!   One left unacked by a crash comes again (see [`JetStreamSubscriber`]).
//! - [`sink`]: core NATS publishes and flushes; JetStream publishes with the record's key as
//!   `Nats-Msg-Id`, so a batch re-sent after a lost connection is stored once (the stream's
//!   duplicate window, 2 minutes by default), and waits for every publish acknowledgement.
//!
//! The client reconnects by itself, with [`crate::broker::Backoff`]'s delays.

mod connect;
mod core;
mod jetstream;

use std::time::Duration;

use squall::Tuple;

use crate::broker::{BrokerError, BrokerSink, BrokerSpout, Endpoint, Scheme};

pub use self::core::CoreSubscriber;
pub use self::jetstream::JetStreamSubscriber;

/// A spout over a `nats://` endpoint: JetStream when it names a `stream`, core NATS otherwise.
///
/// ```no_run
/// let spout = squall_connectors::nats::spout::<u64>(&"nats://127.0.0.1:4222/numbers?stream=N".parse()?)?;
/// # Ok::<(), squall_connectors::broker::BrokerError>(())
/// ```
pub fn spout<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSpout<T>, BrokerError> {
    check(endpoint)?;
    Ok(if endpoint.param("stream").is_some() {
        BrokerSpout::new(JetStreamSubscriber::new(endpoint.clone()))
    } else {
        BrokerSpout::new(CoreSubscriber::new(endpoint.clone()))
    })
}

/// A JetStream spout whose server redelivers an unacked message after `ack_wait` (default
/// 30 s, the engine's message timeout).
pub fn jetstream_spout<T: Tuple>(
    endpoint: &Endpoint,
    ack_wait: Duration,
) -> Result<BrokerSpout<T>, BrokerError> {
    check(endpoint)?;
    Ok(BrokerSpout::new(
        JetStreamSubscriber::new(endpoint.clone()).with_ack_wait(ack_wait),
    ))
}

/// A sink to a `nats://` endpoint: JetStream when it names a `stream`, core NATS otherwise.
pub fn sink<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSink<T>, BrokerError> {
    check(endpoint)?;
    Ok(if endpoint.param("stream").is_some() {
        BrokerSink::from_publisher(jetstream::JetStreamPublisher::new(endpoint.clone()))
    } else {
        BrokerSink::from_publisher(self::core::CorePublisher::new(endpoint.clone()))
    })
}

fn check(endpoint: &Endpoint) -> Result<(), BrokerError> {
    if endpoint.scheme == Scheme::Nats {
        Ok(())
    } else {
        Err(BrokerError::InvalidEndpoint {
            url: endpoint.to_string(),
            reason: "not a nats:// endpoint".into(),
        })
    }
}
