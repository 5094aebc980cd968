//! The JetStream sink's writer: de-duplicated publishes, confirmed by the server, one batch in
//! flight while the next is written.

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use async_nats::Subject;
use bytes::Bytes;

use super::ensure_stream;
use crate::broker::{BrokerError, Endpoint, Publisher, Record};
use crate::nats::connect::connect;

/// Publishes to a JetStream stream with `Nats-Msg-Id` set to each record's key.
///
/// A batch's acknowledgements are awaited while the next batch is being written, so the server
/// always has work (it stores one stream's messages on one thread: idle time is lost
/// throughput). A lost connection hands the unconfirmed batch back to be written again; the
/// message ids make the second copy a no-op where the first was stored.
#[derive(Debug, Clone)]
pub(crate) struct JetStreamPublisher {
    endpoint: Endpoint,
}

impl JetStreamPublisher {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        JetStreamPublisher { endpoint }
    }

    fn lost(&self, e: &dyn std::fmt::Display) -> BrokerError {
        BrokerError::connection(&self.endpoint, e)
    }
}

/// A connection with the batch written last and not yet confirmed.
pub(crate) struct Conn {
    js: jetstream::Context,
    subject: Subject,
    in_flight: Option<(Vec<Record>, Vec<PublishAckFuture>)>,
}

impl Publisher for JetStreamPublisher {
    type Conn = Conn;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn connect(&self) -> Result<Self::Conn, BrokerError> {
        let client = connect(&self.endpoint).await?;
        let js = jetstream::new(client);
        ensure_stream(&js, &self.endpoint).await?;
        Ok(Conn {
            js,
            subject: Subject::from(self.endpoint.target.as_str()),
            in_flight: None,
        })
    }

    async fn publish(&self, c: &mut Self::Conn, batch: &[Record]) -> Result<(), BrokerError> {
        let mut acks = Vec::with_capacity(batch.len());
        for r in batch {
            let message = PublishMessage::build()
                .payload(Bytes::copy_from_slice(&r.payload))
                .message_id(&r.key);
            let ack =
                c.js.send_publish(c.subject.clone(), message)
                    .await
                    .map_err(|e| self.lost(&e))?;
            acks.push(ack);
        }
        self.confirm(c).await?;
        c.in_flight = Some((batch.to_vec(), acks));
        Ok(())
    }

    async fn confirm(&self, c: &mut Self::Conn) -> Result<(), BrokerError> {
        if let Some((_, acks)) = c.in_flight.as_mut() {
            // Drained one by one: after a failure the records go back whole (re-sending a
            // confirmed one is harmless, its id is known).
            while let Some(ack) = acks.pop() {
                ack.await.map_err(|e| self.lost(&e))?;
            }
        }
        c.in_flight = None;
        Ok(())
    }

    fn take_unconfirmed(&self, c: &mut Self::Conn) -> Vec<Record> {
        c.in_flight.take().map(|(r, _)| r).unwrap_or_default()
    }
}
