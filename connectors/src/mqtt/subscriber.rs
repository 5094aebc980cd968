//! The MQTT spout's client: a persistent session, PUBACK only on the spout's word.

use std::collections::HashMap;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};

use crate::broker::{
    runtime, Backoff, BrokerError, ClientLink, Delivery, Endpoint, Replay, Settle, Subscriber,
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
        rt.block_on(async {
            let mut backoff = Backoff::default();
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
                    event = events.poll() => match event {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            backoff.reset();
                            eprintln!("{}: connected", self.endpoint);
                            // With a persistent session the broker still has the subscription;
                            // subscribing again is harmless and covers a first connection.
                            let _ = client.try_subscribe(self.endpoint.target.clone(), self.qos);
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            next_id += 1;
                            let d = Delivery { id: next_id, payload: p.payload.to_vec() };
                            unsettled.insert(next_id, p);
                            if link.deliveries.send(d).await.is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            let delay = backoff.next_delay();
                            eprintln!("{}: {e}; reconnecting in {} ms", self.endpoint, delay.as_millis());
                            tokio::time::sleep(delay).await;
                        }
                    },
                }
            }
            // Send the last PUBACKs, then leave: the session (and anything unacked) stays with
            // the broker for the next run. The DISCONNECT follows the PUBACKs on the same
            // connection, and the broker closes it once it has read the DISCONNECT: poll until
            // then (not just until the DISCONNECT is queued, which can leave PUBACKs unsent and
            // their messages redelivered next time).
            let _ = client.try_disconnect();
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while events.poll().await.is_ok() {}
            })
            .await;
            Ok(())
        })
    }
}
