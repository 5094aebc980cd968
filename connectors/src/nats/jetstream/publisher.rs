//! The JetStream sink's writer: de-duplicated publishes, confirmed by the server.

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;

use super::ensure_stream;
use crate::broker::{BrokerError, Endpoint, Publisher, Record};
use crate::nats::connect::connect;

/// Publishes to a JetStream stream with `Nats-Msg-Id` set to each record's key, and waits for
/// the server's acknowledgement of every message of a batch.
#[derive(Debug, Clone)]
pub(crate) struct JetStreamPublisher {
    endpoint: Endpoint,
}

impl JetStreamPublisher {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        JetStreamPublisher { endpoint }
    }
}

impl Publisher for JetStreamPublisher {
    type Conn = jetstream::Context;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn connect(&self) -> Result<Self::Conn, BrokerError> {
        let client = connect(&self.endpoint).await?;
        let js = jetstream::new(client);
        ensure_stream(&js, &self.endpoint).await?;
        Ok(js)
    }

    async fn publish(&self, js: &mut Self::Conn, batch: &[Record]) -> Result<(), BrokerError> {
        let lost = |e: &dyn std::fmt::Display| BrokerError::connection(&self.endpoint, e);
        let mut acks = Vec::with_capacity(batch.len());
        for r in batch {
            let message = PublishMessage::build()
                .payload(Bytes::from(r.payload.clone()))
                .message_id(&r.key);
            let ack = js
                .send_publish(self.endpoint.target.clone(), message)
                .await
                .map_err(|e| lost(&e))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| lost(&e))?;
        }
        Ok(())
    }
}
