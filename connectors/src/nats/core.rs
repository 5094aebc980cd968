//! Core NATS: subscribe and publish, no persistence.

use bytes::Bytes;
use futures_util::StreamExt;

use super::connect::connect;
use crate::broker::{
    runtime, BrokerError, ClientLink, ConnectionState, Delivery, Endpoint, Publisher, Record,
    Replay, Subscriber,
};

/// Subscribes to a core NATS subject (queue group `squall` when the spout has several tasks, so
/// each message reaches one task). Nothing to acknowledge; failed tuples are replayed locally.
#[derive(Debug, Clone)]
pub struct CoreSubscriber {
    endpoint: Endpoint,
}

impl CoreSubscriber {
    /// A subscriber to `endpoint`'s subject.
    pub fn new(endpoint: Endpoint) -> Self {
        CoreSubscriber { endpoint }
    }
}

impl Subscriber for CoreSubscriber {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn replay(&self) -> Replay {
        Replay::Local
    }

    fn run(&self, _task: usize, tasks: usize, mut link: ClientLink) -> Result<(), BrokerError> {
        let rt = runtime(&self.endpoint, false)?;
        rt.block_on(async {
            let client = connect(&self.endpoint, &link.connection).await?;
            let subject = self.endpoint.target.clone();
            let subscribed = if tasks > 1 {
                client.queue_subscribe(subject, "squall".into()).await
            } else {
                client.subscribe(subject).await
            };
            let mut messages = subscribed.map_err(|e| BrokerError::refused(&self.endpoint, e))?;
            let mut next_id = 0;
            loop {
                tokio::select! {
                    settle = link.settles.recv() => if settle.is_none() { break },
                    message = messages.next() => {
                        let Some(m) = message else { break };
                        next_id += 1;
                        let d = Delivery { id: next_id, payload: m.payload.to_vec() };
                        if link.deliveries.send(d).await.is_err() {
                            break;
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

/// Publishes to a core NATS subject; a batch is confirmed by a flush (the server has read it).
#[derive(Debug, Clone)]
pub(crate) struct CorePublisher {
    endpoint: Endpoint,
}

impl CorePublisher {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        CorePublisher { endpoint }
    }
}

impl Publisher for CorePublisher {
    type Conn = async_nats::Client;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The client connects in the background and reports to `state` itself.
    const REPORTS: bool = true;

    async fn connect(&self, state: &ConnectionState) -> Result<Self::Conn, BrokerError> {
        connect(&self.endpoint, state).await
    }

    async fn publish(&self, conn: &mut Self::Conn, batch: &[Record]) -> Result<(), BrokerError> {
        let lost = |e| BrokerError::connection(&self.endpoint, e);
        for r in batch {
            conn.publish(self.endpoint.target.clone(), Bytes::from(r.payload.clone()))
                .await
                .map_err(lost)?;
        }
        conn.flush()
            .await
            .map_err(|e| BrokerError::connection(&self.endpoint, e))
    }
}
