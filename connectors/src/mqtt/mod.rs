//! MQTT 3.1.1 with rumqttc: a QoS 1 spout on a persistent session, and a QoS 1 sink.
//!
//! An endpoint `mqtt://HOST:PORT/TOPIC` names a topic filter for a spout (wildcards allowed:
//! `sensors/+/readings`, `sensors/#`) and a topic for a sink. `?client=ID` sets the client id;
//! `?qos=0` subscribes or publishes at most once (default 1).
//!
//! - [`spout`]: subscribes with QoS 1 on a persistent session (clean session off, client id
//!   `squall-{topic}-{task}` unless `?client=`), with manual acknowledgement: the PUBACK of a
//!   message is sent only in the spout's `ack`, so the broker redelivers whatever was not
//!   acked when the connection or the process went away. A failed tuple is re-emitted by the
//!   spout (MQTT brokers redeliver only on reconnect). Several tasks would each receive every
//!   message: run one task, or give each pipeline a shared subscription topic (`$share/G/T`).
//! - [`sink`]: publishes with QoS 1 and confirms a batch when the broker has acknowledged all of
//!   it. MQTT cannot de-duplicate: a batch re-sent after a lost connection may arrive twice.
//!
//! The event loop reconnects with [`crate::broker::Backoff`] after a lost connection.
//!
//! # Example
//!
//! Numbers in on one topic, doubled out on another, until 10 s pass without a message:
//!
//! ```no_run
//! use std::time::Duration;
//! use squall::{Bolt, BoltCollector, ComponentError, Config, LocalCluster, TopologyBuilder};
//! use squall_connectors::mqtt;
//!
//! struct Double;
//! impl Bolt for Double {
//!     type Input = u64;
//!     type Output = u64;
//!     fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
//!         out.emit(2 * n);
//!         Ok(())
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spout = mqtt::spout::<u64>(&"mqtt://127.0.0.1:1883/numbers".parse()?)?
//!     .with_idle_exit(Duration::from_secs(10));
//! let sink = mqtt::sink::<u64>(&"mqtt://127.0.0.1:1883/doubled".parse()?)?;
//! let mut b = TopologyBuilder::new("double");
//! let numbers = b.set_spout("numbers", 1, move || spout.clone());
//! let doubled = b.set_bolt("double", 2, || Double).shuffle_grouping(&numbers).stream();
//! b.set_bolt("out", 1, move || sink.clone()).shuffle_grouping(&doubled);
//! LocalCluster::new(Config::default()).run(b.build()?)?;
//! # Ok(())
//! # }
//! ```

mod publisher;
mod subscriber;

use squall::Tuple;

use crate::broker::{BrokerError, BrokerSink, BrokerSpout, Endpoint, Scheme};

pub use subscriber::MqttSubscriber;

/// A QoS 1 spout over an `mqtt://` endpoint.
///
/// ```no_run
/// let spout = squall_connectors::mqtt::spout::<u64>(&"mqtt://127.0.0.1:1883/numbers".parse()?)?;
/// # Ok::<(), squall_connectors::broker::BrokerError>(())
/// ```
pub fn spout<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSpout<T>, BrokerError> {
    check(endpoint)?;
    Ok(BrokerSpout::new(MqttSubscriber::new(endpoint.clone())?))
}

/// A QoS 1 sink to an `mqtt://` endpoint.
pub fn sink<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSink<T>, BrokerError> {
    check(endpoint)?;
    Ok(BrokerSink::from_publisher(publisher::MqttPublisher::new(
        endpoint.clone(),
    )?))
}

fn check(endpoint: &Endpoint) -> Result<(), BrokerError> {
    if endpoint.scheme == Scheme::Mqtt {
        Ok(())
    } else {
        Err(BrokerError::InvalidEndpoint {
            url: endpoint.to_string(),
            reason: "not an mqtt:// endpoint".into(),
        })
    }
}

/// Socket options: no Nagle delay, so a lone PUBACK or publish is not held back waiting for
/// the peer's delayed ACK (a 40 ms stall).
fn no_delay() -> rumqttc::NetworkOptions {
    let mut options = rumqttc::NetworkOptions::new();
    options.set_tcp_nodelay(true);
    options
}

/// The endpoint's `?qos=` (default 1).
fn qos(endpoint: &Endpoint) -> Result<rumqttc::QoS, BrokerError> {
    match endpoint.param("qos").unwrap_or("1") {
        "0" => Ok(rumqttc::QoS::AtMostOnce),
        "1" => Ok(rumqttc::QoS::AtLeastOnce),
        other => Err(BrokerError::InvalidEndpoint {
            url: endpoint.to_string(),
            reason: format!("qos must be 0 or 1, got {other}"),
        }),
    }
}
