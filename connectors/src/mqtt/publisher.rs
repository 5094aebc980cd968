//! The MQTT sink's client: QoS 1 publishes, a batch confirmed by its PUBACKs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::broker::{Backoff, BrokerError, ConnectionState, Endpoint, Publisher, Record};

/// How long a batch may wait for its acknowledgements before the connection counts as lost.
const CONFIRM_WAIT: Duration = Duration::from_secs(30);

/// Publishes to an MQTT topic.
#[derive(Debug, Clone)]
pub(crate) struct MqttPublisher {
    endpoint: Endpoint,
    qos: QoS,
}

impl MqttPublisher {
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, BrokerError> {
        let qos = super::qos(&endpoint)?;
        Ok(MqttPublisher { endpoint, qos })
    }
}

/// A connection: the client, and the event loop task counting acknowledgements.
pub(crate) struct Conn {
    client: AsyncClient,
    acked: Arc<AtomicU64>,
    progress: Arc<Notify>,
    sent: u64,
    /// Set by the event loop when the connection drops. The broker forgets a clean session's
    /// unacknowledged publishes, so their PUBACKs never come: the batch waiting for them
    /// fails at once and is re-sent on a new connection, instead of stalling the sink for
    /// [`CONFIRM_WAIT`].
    lost: Arc<AtomicBool>,
    events: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.events.abort();
    }
}

impl Publisher for MqttPublisher {
    type Conn = Conn;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The client connects in the background and reports to `state` itself.
    const REPORTS: bool = true;

    async fn connect(&self, state: &ConnectionState) -> Result<Conn, BrokerError> {
        let id = format!(
            "squall-sink-{}-{}",
            std::process::id(),
            NEXT_CLIENT.fetch_add(1, Ordering::Relaxed)
        );
        let mut options = MqttOptions::new(id, &self.endpoint.host, self.endpoint.port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1 << 20, 1 << 20)
            .set_inflight(1000);
        let (client, mut events) = AsyncClient::new(options, 4096);
        events.set_network_options(super::no_delay());
        let acked = Arc::new(AtomicU64::new(0));
        let progress = Arc::new(Notify::new());
        let lost = Arc::new(AtomicBool::new(false));
        let (count, notify, state) = (acked.clone(), progress.clone(), state.clone());
        let endpoint = self.endpoint.clone();
        let dropped = lost.clone();
        let events = tokio::spawn(async move {
            let mut backoff = Backoff::default();
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        count.fetch_add(1, Ordering::Release);
                        notify.notify_one();
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        backoff.reset();
                        state.connected();
                    }
                    Ok(_) => {}
                    Err(e) => {
                        dropped.store(true, Ordering::Release);
                        notify.notify_one();
                        let delay = backoff.next_delay();
                        // The writer decides when to try again (it drops this connection): its delay
                        // is the one that counts, not this loop's.
                        state.retrying(&BrokerError::connection(&endpoint, e), None);
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        });
        Ok(Conn {
            client,
            acked,
            progress,
            sent: 0,
            lost,
            events,
        })
    }

    async fn publish(&self, conn: &mut Conn, batch: &[Record]) -> Result<(), BrokerError> {
        let lost = || BrokerError::connection(&self.endpoint, "connection lost");
        if conn.lost.load(Ordering::Acquire) {
            return Err(lost());
        }
        for r in batch {
            conn.client
                .publish(&self.endpoint.target, self.qos, false, r.payload.clone())
                .await
                .map_err(|e| BrokerError::connection(&self.endpoint, e))?;
        }
        if self.qos == QoS::AtMostOnce {
            return Ok(());
        }
        conn.sent += batch.len() as u64;
        let confirmed = tokio::time::timeout(CONFIRM_WAIT, async {
            while conn.acked.load(Ordering::Acquire) < conn.sent {
                if conn.lost.load(Ordering::Acquire) {
                    return Err(lost());
                }
                conn.progress.notified().await;
            }
            Ok(())
        })
        .await;
        confirmed.map_err(|_| {
            BrokerError::connection(&self.endpoint, "no acknowledgement for a batch within 30 s")
        })?
    }
}

/// Makes sink client ids unique within the process.
static NEXT_CLIENT: AtomicU64 = AtomicU64::new(0);
