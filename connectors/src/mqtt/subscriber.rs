//! The MQTT spout's client: a persistent session, PUBACK only on the spout's word.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};

use crate::broker::{
    runtime, Backoff, BrokerError, ClientLink, ConnectionState, Delivery, Endpoint, Replay, Settle,
    Subscriber,
};

/// Requests (acks, the subscription) queued for the event loop; acks are bounded by the
/// broker's in-flight window, so this never fills in practice.
const REQUESTS: usize = 65_536;

/// Subscribes to an MQTT topic filter with manual acknowledgement.
#[derive(Debug, Clone)]
pub struct MqttSubscriber {
    endpoint: Endpoint,
    qos: QoS,
}

impl MqttSubscriber {
    /// A subscriber to `endpoint`'s topic filter.
    pub fn new(endpoint: Endpoint) -> Result<Self, BrokerError> {
        let qos = super::qos(&endpoint)?;
        Ok(MqttSubscriber { endpoint, qos })
    }

    fn client_id(&self, task: usize) -> String {
        match self.endpoint.param("client") {
            Some(id) if task == 0 => id.to_string(),
            Some(id) => format!("{id}-{task}"),
            None => {
                let topic: String = self
                    .endpoint
                    .target
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                format!("squall-{topic}-{task}")
            }
        }
    }
}

impl Subscriber for MqttSubscriber {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn replay(&self) -> Replay {
        Replay::Local
    }

    fn run(&self, task: usize, _tasks: usize, mut link: ClientLink) -> Result<(), BrokerError> {
        let rt = runtime(&self.endpoint, false)?;
        let mut options = MqttOptions::new(
            self.client_id(task),
            &self.endpoint.host,
            self.endpoint.port,
        );
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(false)
            .set_manual_acks(true)
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut events) = AsyncClient::new(options, REQUESTS);
        events.set_network_options(super::no_delay());
        rt.block_on(async {
            // The event loop runs in its own task, never cancelled: a request (a PUBACK) taken
            // from the client's queue by a poll that a select! dropped would be lost.
            let closing = Arc::new(AtomicBool::new(false));
            let (incoming, mut publishes) = tokio::sync::mpsc::channel(1024);
            let poller = tokio::spawn(poll_events(
                events,
                client.clone(),
                self.clone(),
                link.connection.clone(),
                incoming,
                closing.clone(),
            ));
            let mut unsettled: HashMap<u64, Publish> = HashMap::new();
            let mut next_id = 0;
            loop {
                tokio::select! {
                    settle = link.settles.recv() => match settle {
                        Some(Settle::Ack(id) | Settle::Nak(id)) => {
                            if let Some(p) = unsettled.remove(&id) {
                                let _ = client.try_ack(&p);
                            }
                        }
                        None => break,
                    },
                    publish = publishes.recv() => {
                        let Some(p) = publish else { break };
                        next_id += 1;
                        let d = Delivery { id: next_id, payload: p.payload.to_vec() };
                        unsettled.insert(next_id, p);
                        if link.deliveries.send(d).await.is_err() {
                            break;
                        }
                    }
                }
            }
            // The loop may have ended on the publish side (the spout went away) with verdicts
            // still queued: settle every one of them, or the broker redelivers acked messages.
            while let Ok(Settle::Ack(id) | Settle::Nak(id)) = link.settles.try_recv() {
                if let Some(p) = unsettled.remove(&id) {
                    let _ = client.try_ack(&p);
                }
            }
            // Send the last PUBACKs, then leave: the session (and anything unacked) stays with
            // the broker for the next run. The DISCONNECT follows the PUBACKs on the same
            // connection and the broker closes it once it has read the DISCONNECT: the event
            // loop ends then, with everything before it sent.
            closing.store(true, Ordering::Release);
            drop(publishes);
            let _ = client.try_disconnect();
            let _ = tokio::time::timeout(Duration::from_secs(2), poller).await;
            Ok(())
        })
    }
}

/// Drives the MQTT event loop: (re)subscribes on every connection, hands publishes on, and
/// reconnects with backoff until the subscriber is closing.
async fn poll_events(
    mut events: rumqttc::EventLoop,
    client: AsyncClient,
    subscriber: MqttSubscriber,
    state: ConnectionState,
    incoming: tokio::sync::mpsc::Sender<Publish>,
    closing: Arc<AtomicBool>,
) {
    let mut backoff = Backoff::default();
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                state.connected();
                // With a persistent session the broker still has the subscription; subscribing
                // again is harmless and covers a first connection.
                let topic = subscriber.endpoint.target.clone();
                let _ = client.try_subscribe(topic, subscriber.qos);
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                // A closed receiver means the subscriber is closing: keep polling so the
                // queued PUBACKs and the DISCONNECT go out.
                let _ = incoming.send(p).await;
            }
            Ok(_) => {}
            Err(_) if closing.load(Ordering::Acquire) => return,
            Err(e) => {
                let delay = backoff.next_delay();
                let e = BrokerError::connection(&subscriber.endpoint, e);
                state.retrying(&e, Some(delay));
                tokio::time::sleep(delay).await;
            }
        }
    }
}
