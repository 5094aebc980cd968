//! The JetStream sink's writer: de-duplicated publishes, confirmed by the server, one batch in
//! flight while the next is written.

use std::collections::VecDeque;

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use async_nats::Subject;
use bytes::Bytes;

use super::ensure_stream;
use crate::broker::{BrokerError, ConnectionState, Endpoint, Publisher, Record};
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

/// Publishes awaiting their acknowledgement, at most: async-nats refuses more than its
/// context allows (5000 unless set), so the context is built for this many and the writer
/// awaits the oldest before going past it.
const MAX_IN_FLIGHT: usize = 16_384;

/// A connection with the publishes not yet confirmed, oldest first.
pub(crate) struct Conn {
    js: jetstream::Context,
    subject: Subject,
    in_flight: VecDeque<Sent>,
}

/// A record written and not yet confirmed; its payload is shared with the message sent.
struct Sent {
    key: String,
    payload: Bytes,
    ack: Option<PublishAckFuture>,
}

impl Conn {
    /// Awaits the oldest unconfirmed publishes until at most `keep` remain.
    async fn confirm_to(&mut self, keep: usize, p: &JetStreamPublisher) -> Result<(), BrokerError> {
        while self.in_flight.len() > keep {
            let Some(mut sent) = self.in_flight.pop_front() else {
                break;
            };
            if let Some(ack) = sent.ack.take() {
                if let Err(e) = ack.await {
                    // Kept: after a failure it goes back to be written again.
                    self.in_flight.push_front(sent);
                    return Err(p.lost(&e));
                }
            }
        }
        Ok(())
    }
}

impl Publisher for JetStreamPublisher {
    type Conn = Conn;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The client connects in the background and reports to `state` itself.
    const REPORTS: bool = true;

    async fn connect(&self, state: &ConnectionState) -> Result<Self::Conn, BrokerError> {
        let client = connect(&self.endpoint, state).await?;
        let js = jetstream::ContextBuilder::new()
            .max_ack_inflight(MAX_IN_FLIGHT)
            .build(client);
        ensure_stream(&js, &self.endpoint).await?;
        Ok(Conn {
            js,
            subject: Subject::from(self.endpoint.target.as_str()),
            in_flight: VecDeque::new(),
        })
    }

    async fn publish(&self, c: &mut Self::Conn, batch: &[Record]) -> Result<(), BrokerError> {
        for r in batch {
            if c.in_flight.len() >= MAX_IN_FLIGHT {
                c.confirm_to(MAX_IN_FLIGHT - 1, self).await?;
            }
            let payload = Bytes::copy_from_slice(&r.payload);
            let message = PublishMessage::build()
                .payload(payload.clone())
                .message_id(&r.key);
            let ack =
                c.js.send_publish(c.subject.clone(), message)
                    .await
                    .map_err(|e| self.lost(&e))?;
            c.in_flight.push_back(Sent {
                key: r.key.clone(),
                payload,
                ack: Some(ack),
            });
        }
        // Everything written before this batch is confirmed; this batch may stay in flight.
        c.confirm_to(batch.len(), self).await
    }

    async fn confirm(&self, c: &mut Self::Conn) -> Result<(), BrokerError> {
        c.confirm_to(0, self).await
    }

    fn take_unconfirmed(&self, c: &mut Self::Conn) -> Vec<Record> {
        c.in_flight
            .drain(..)
            .map(|sent| Record {
                key: sent.key,
                payload: sent.payload.to_vec(),
            })
            .collect()
    }
}
