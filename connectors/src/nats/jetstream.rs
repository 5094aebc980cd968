//! JetStream: a durable pull consumer for the spout, de-duplicated publishes for the sink.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, message::PublishMessage, stream, AckKind};
use bytes::Bytes;
use futures_util::StreamExt;

use super::connect::connect;
use crate::broker::{
    runtime, Backoff, BrokerError, ClientLink, Delivery, Endpoint, Publisher, Record, Replay,
    Settle, Subscriber,
};

/// Messages the server may have delivered to one consumer and not yet had acked: the bound on
/// what a spout holds in flight.
const MAX_ACK_PENDING: i64 = 20_000;

/// Messages asked for per pull request (the client's default is 200): fewer round trips.
const PULL_BATCH: usize = 2000;

/// Reads a JetStream stream through a durable pull consumer; acks and naks on the spout's word.
#[derive(Debug, Clone)]
pub struct JetStreamSubscriber {
    endpoint: Endpoint,
    ack_wait: Duration,
}

impl JetStreamSubscriber {
    /// A subscriber to `endpoint` (which names `?stream=`), ack wait 30 s.
    pub fn new(endpoint: Endpoint) -> Self {
        JetStreamSubscriber {
            endpoint,
            ack_wait: Duration::from_secs(30),
        }
    }

    /// How long the server waits for an ack before redelivering (set when the consumer is
    /// created).
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }

    async fn consumer(
        &self,
        js: &jetstream::Context,
    ) -> Result<consumer::Consumer<consumer::pull::Config>, BrokerError> {
        let stream = ensure_stream(js, &self.endpoint).await?;
        let name = self.endpoint.param("consumer").unwrap_or("squall");
        stream
            .get_or_create_consumer(
                name,
                consumer::pull::Config {
                    durable_name: Some(name.to_string()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.ack_wait,
                    max_ack_pending: MAX_ACK_PENDING,
                    filter_subject: self.endpoint.target.clone(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| BrokerError::connection(&self.endpoint, format!("consumer {name}: {e}")))
    }
}

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

impl Subscriber for JetStreamSubscriber {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn replay(&self) -> Replay {
        Replay::Broker
    }

    fn run(&self, _task: usize, _tasks: usize, mut link: ClientLink) -> Result<(), BrokerError> {
        let rt = runtime(&self.endpoint, false)?;
        rt.block_on(async {
            let client = connect(&self.endpoint).await?;
            let js = jetstream::new(client.clone());
            let mut backoff = Backoff::default();
            // Delivered and not yet settled, by delivery id.
            let mut unsettled: HashMap<u64, jetstream::Message> = HashMap::new();
            let mut next_id = 0;
            let mut messages = None;
            loop {
                let Some(stream) = messages.as_mut() else {
                    // (Re)open the pull stream; the server may be down or just restarted.
                    let opened = match self.consumer(&js).await {
                        Ok(c) => c
                            .stream()
                            .max_messages_per_batch(PULL_BATCH)
                            .messages()
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    match opened {
                        Ok(s) => {
                            backoff.reset();
                            messages = Some(s);
                        }
                        Err(e) => {
                            let delay = backoff.next_delay();
                            eprintln!(
                                "{}: {e}; retrying in {} ms",
                                self.endpoint,
                                delay.as_millis()
                            );
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                settle = link.settles.recv() => match settle {
                                    Some(s) => settle_one(&mut unsettled, s).await,
                                    None => break,
                                },
                            }
                        }
                    }
                    continue;
                };
                tokio::select! {
                    settle = link.settles.recv() => match settle {
                        Some(s) => settle_one(&mut unsettled, s).await,
                        None => break,
                    },
                    message = stream.next() => match message {
                        Some(Ok(m)) => {
                            next_id += 1;
                            let payload = m.payload.to_vec();
                            unsettled.insert(next_id, m);
                            let d = Delivery { id: next_id, payload };
                            if link.deliveries.send(d).await.is_err() {
                                break;
                            }
                        }
                        Some(Err(e)) => {
                            eprintln!("{}: {e}; reopening the consumer", self.endpoint);
                            messages = None;
                        }
                        None => messages = None,
                    },
                }
            }
            // The loop may have ended on the delivery side (the spout went away) with verdicts
            // still queued: settle every one of them, or the server redelivers acked messages.
            while let Ok(s) = link.settles.try_recv() {
                settle_one(&mut unsettled, s).await;
            }
            // Acks are plain publishes: make sure the last ones left before returning.
            let _ = client.flush().await;
            Ok(())
        })
    }
}

/// Acks or naks one delivered message. A failure (connection lost) leaves it to the server,
/// which redelivers after the ack wait: at least once.
async fn settle_one(unsettled: &mut HashMap<u64, jetstream::Message>, settle: Settle) {
    let (id, kind) = match settle {
        Settle::Ack(id) => (id, AckKind::Ack),
        Settle::Nak(id) => (id, AckKind::Nak(None)),
    };
    if let Some(m) = unsettled.remove(&id) {
        if let Err(e) = m.ack_with(kind).await {
            eprintln!("cannot settle a JetStream message: {e}");
        }
    }
}

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
