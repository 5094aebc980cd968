//! The Redis spout's client: XREADGROUP, XACK on the spout's word.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use redis::streams::StreamReadReply;
use redis::Connection;
use tokio::sync::mpsc::error::TryRecvError;

use super::{client, error};
use crate::broker::{
    Backoff, BrokerError, ClientLink, Delivery, Endpoint, Replay, Settle, Subscriber,
};

/// Entries read per XREADGROUP.
const COUNT: usize = 512;
/// How long one XREADGROUP waits for new entries (and so the longest an ack waits when idle).
const BLOCK_MS: usize = 20;

/// Reads a Redis stream through a consumer group.
#[derive(Debug, Clone)]
pub struct RedisSubscriber {
    endpoint: Endpoint,
}

impl RedisSubscriber {
    /// A subscriber to `endpoint`'s stream.
    pub fn new(endpoint: Endpoint) -> Self {
        RedisSubscriber { endpoint }
    }

    fn group(&self) -> &str {
        self.endpoint.param("group").unwrap_or("squall")
    }

    fn connect(&self) -> Result<Connection, BrokerError> {
        let mut conn = client(&self.endpoint)?
            .get_connection_with_timeout(Duration::from_secs(5))
            .map_err(|e| error(&self.endpoint, e))?;
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.endpoint.target)
            .arg(self.group())
            .arg("0")
            .arg("MKSTREAM")
            .query(&mut conn);
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(error(&self.endpoint, e)),
            _ => Ok(conn),
        }
    }
}

/// What the client holds between reads.
struct State {
    /// Delivered and not yet settled: delivery id -> entry id.
    unsettled: HashMap<u64, String>,
    /// The same entry ids, to skip them when the pending list is read again after a reconnect.
    delivered: HashSet<String>,
    next_id: u64,
    /// Reading this consumer's pending list (`0`) before new entries (`>`).
    from_pending: bool,
}

impl Subscriber for RedisSubscriber {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn replay(&self) -> Replay {
        Replay::Local
    }

    fn run(&self, task: usize, _tasks: usize, mut link: ClientLink) -> Result<(), BrokerError> {
        let consumer = match self.endpoint.param("consumer") {
            Some(c) => format!("{c}-{task}"),
            None => format!("squall-{task}"),
        };
        let mut state = State {
            unsettled: HashMap::new(),
            delivered: HashSet::new(),
            next_id: 0,
            from_pending: true,
        };
        let mut backoff = Backoff::default();
        let mut conn = None;
        loop {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match self.connect() {
                    Ok(c) => {
                        backoff.reset();
                        link.connection.connected();
                        state.from_pending = true;
                        conn.insert(c)
                    }
                    Err(e) if e.is_transient() => {
                        let delay = backoff.next_delay();
                        link.connection.retrying(&e, Some(delay));
                        std::thread::sleep(delay);
                        if link.settles.is_closed() {
                            return Ok(());
                        }
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            let step = self.settle(c, &mut state, &mut link).and_then(|open| {
                if open {
                    self.read(c, &consumer, &mut state, &link).map(|()| true)
                } else {
                    Ok(false)
                }
            });
            match step {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) if e.is_transient() => {
                    eprintln!("{e}; reconnecting");
                    link.connection.lost();
                    conn = None;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl RedisSubscriber {
    /// XACKs every acked delivery queued; false once the spout has closed.
    fn settle(
        &self,
        conn: &mut Connection,
        state: &mut State,
        link: &mut ClientLink,
    ) -> Result<bool, BrokerError> {
        let mut acks = Vec::new();
        let open = loop {
            match link.settles.try_recv() {
                Ok(Settle::Ack(id) | Settle::Nak(id)) => {
                    if let Some(entry) = state.unsettled.remove(&id) {
                        state.delivered.remove(&entry);
                        acks.push(entry);
                    }
                }
                Err(TryRecvError::Empty) => break true,
                Err(TryRecvError::Disconnected) => break false,
            }
        };
        if !acks.is_empty() {
            redis::cmd("XACK")
                .arg(&self.endpoint.target)
                .arg(self.group())
                .arg(&acks)
                .query::<()>(conn)
                .map_err(|e| error(&self.endpoint, e))?;
        }
        Ok(open)
    }

    /// Reads the next entries (the pending list first) and delivers them.
    fn read(
        &self,
        conn: &mut Connection,
        consumer: &str,
        state: &mut State,
        link: &ClientLink,
    ) -> Result<(), BrokerError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP").arg(self.group()).arg(consumer);
        cmd.arg("COUNT").arg(COUNT);
        if !state.from_pending {
            cmd.arg("BLOCK").arg(BLOCK_MS);
        }
        cmd.arg("STREAMS").arg(&self.endpoint.target);
        cmd.arg(if state.from_pending { "0" } else { ">" });
        let reply: Option<StreamReadReply> =
            cmd.query(conn).map_err(|e| error(&self.endpoint, e))?;
        let entries: Vec<_> = reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .collect();
        if state.from_pending && entries.is_empty() {
            state.from_pending = false;
        }
        for entry in entries {
            if !state.delivered.insert(entry.id.clone()) {
                continue;
            }
            // A missing or non-binary field becomes an empty payload, reported as malformed.
            let payload = entry
                .map
                .get("payload")
                .and_then(|v| redis::from_redis_value::<Vec<u8>>(v.clone()).ok())
                .unwrap_or_default();
            state.next_id += 1;
            state.unsettled.insert(state.next_id, entry.id);
            let d = Delivery {
                id: state.next_id,
                payload,
            };
            if link.deliveries.blocking_send(d).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}
