//! JetStream: a durable pull consumer for the spout, de-duplicated publishes for the sink.

mod floor;
mod publisher;
mod subscriber;

use async_nats::jetstream::{self, stream};

use crate::broker::{BrokerError, Endpoint};

pub(crate) use self::publisher::JetStreamPublisher;
pub use self::subscriber::JetStreamSubscriber;

/// The endpoint's stream, created (capturing the endpoint's subject) when missing.
async fn ensure_stream(
    js: &jetstream::Context,
    endpoint: &Endpoint,
) -> Result<stream::Stream, BrokerError> {
    let name = endpoint.param("stream").unwrap_or_default();
    js.get_or_create_stream(stream::Config {
        name: name.to_string(),
        subjects: vec![endpoint.target.clone()],
        ..Default::default()
    })
    .await
    .map_err(|e| BrokerError::connection(endpoint, format!("stream {name}: {e}")))
}
