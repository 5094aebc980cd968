//! Redis streams and keys, with the redis crate (synchronous client, on the client's own thread).
//!
//! An endpoint `redis://HOST:PORT/STREAMKEY` names a stream. Entries carry the payload in field
//! `payload` (and the record's key in field `id` when written by the sink), so a producer writes
//! `XADD readings * payload '{"sensor":1,"seq":1,"value":0.5}'`.
//!
//! - [`spout`]: reads through a consumer group (`?group=`, default `squall`; created at the start
//!   of the stream when missing) as consumer `?consumer=` (default `squall-{task}`). An entry is
//!   XACKed only in the spout's `ack`; a failed tuple is re-emitted by the spout, and entries left
//!   pending by a crash are read again from the consumer's pending list when it starts.
//! - [`sink`]: XADDs each batch in one pipeline. Redis streams cannot de-duplicate: a batch
//!   re-sent after a lost connection may appear twice (each entry carries its key in `id`).
//! - [`RedisLookup`]: a bolt joining tuples against Redis string keys, with a local cache.

mod lookup;
mod publisher;
mod subscriber;

use squall::Tuple;

use crate::broker::{BrokerError, BrokerSink, BrokerSpout, Endpoint, Scheme};

pub use lookup::RedisLookup;
pub use subscriber::RedisSubscriber;

/// A consumer-group spout over a `redis://` stream endpoint.
///
/// ```no_run
/// let spout = squall_connectors::redis::spout::<u64>(&"redis://127.0.0.1:6379/numbers".parse()?)?;
/// # Ok::<(), squall_connectors::broker::BrokerError>(())
/// ```
pub fn spout<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSpout<T>, BrokerError> {
    check(endpoint)?;
    Ok(BrokerSpout::new(RedisSubscriber::new(endpoint.clone())))
}

/// An XADD sink to a `redis://` stream endpoint.
pub fn sink<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSink<T>, BrokerError> {
    check(endpoint)?;
    Ok(BrokerSink::from_publisher(publisher::RedisPublisher::new(
        endpoint.clone(),
    )))
}

fn check(endpoint: &Endpoint) -> Result<(), BrokerError> {
    if endpoint.scheme == Scheme::Redis {
        Ok(())
    } else {
        Err(BrokerError::InvalidEndpoint {
            url: endpoint.to_string(),
            reason: "not a redis:// endpoint".into(),
        })
    }
}

/// A client for the endpoint's server.
fn client(endpoint: &Endpoint) -> Result<::redis::Client, BrokerError> {
    ::redis::Client::open(format!("redis://{}/", endpoint.address())).map_err(|e| {
        BrokerError::InvalidEndpoint {
            url: endpoint.to_string(),
            reason: e.to_string(),
        }
    })
}

/// A redis error as a broker error: I/O, dropped connections, and a server still loading its
/// data after a restart (`LOADING`: it accepts connections before it can serve them) are worth
/// a retry.
fn error(endpoint: &Endpoint, e: ::redis::RedisError) -> BrokerError {
    let loading = e.code() == Some("LOADING");
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || loading {
        BrokerError::connection(endpoint, e)
    } else {
        BrokerError::refused(endpoint, e)
    }
}
