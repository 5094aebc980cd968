//! The JetStream spout's client: a durable pull consumer, acked on the spout's word.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, AckKind, Message};
use futures_util::StreamExt;

use super::ensure_stream;
use super::floor::Floor;
use crate::broker::{
    runtime, Backoff, BrokerError, ClientLink, Delivery, Endpoint, Replay, Settle, Subscriber,
};
use crate::nats::connect::connect;

/// Messages the server may have delivered to one consumer and not yet had acked: the bound on
/// what a spout holds in flight.
const MAX_ACK_PENDING: i64 = 20_000;

/// Messages asked for per pull request (the client's default is 200): fewer round trips.
const PULL_BATCH: usize = 2000;

type Pull = consumer::Consumer<consumer::pull::Config>;

/// Reads a JetStream stream through a durable pull consumer; acks and naks on the spout's word.
///
/// The consumer (`?consumer=NAME`, default `squall`) is created when missing. Its ack policy is
/// `?ack=all|explicit`; by default `all` for a spout with one task, `explicit` otherwise, and
/// an existing consumer keeps the policy it was created with.
///
/// - `explicit`: each message is acked when its tuple tree completes and nak'ed when it fails,
///   so the server redelivers it.
/// - `all` (cumulative): the client acks the last message of the longest prefix of deliveries
///   whose trees all completed, once per 1024 of them or every 20 ms: one
///   ack stands for a thousand, which roughly doubles what one server delivers.
///   A failed message is delivered to the spout again by the client, and holds the floor until
///   that delivery completes. Only one task may read such a consumer; a new session that finds
///   messages delivered and unacked (a crashed predecessor) recreates the consumer at the ack
///   floor, so they come again at once and no later ack can cover them.
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

    fn name(&self) -> &str {
        self.endpoint.param("consumer").unwrap_or("squall")
    }

    fn config(&self, policy: consumer::AckPolicy, from: u64) -> consumer::pull::Config {
        consumer::pull::Config {
            durable_name: Some(self.name().to_string()),
            ack_policy: policy,
            ack_wait: self.ack_wait,
            max_ack_pending: MAX_ACK_PENDING,
            filter_subject: self.endpoint.target.clone(),
            deliver_policy: if from > 1 {
                consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: from,
                }
            } else {
                consumer::DeliverPolicy::All
            },
            ..Default::default()
        }
    }

    /// The ack policy asked for by the endpoint, if any.
    fn asked_policy(&self) -> Result<Option<consumer::AckPolicy>, BrokerError> {
        match self.endpoint.param("ack") {
            None => Ok(None),
            Some("all") => Ok(Some(consumer::AckPolicy::All)),
            Some("explicit") => Ok(Some(consumer::AckPolicy::Explicit)),
            Some(other) => Err(BrokerError::InvalidEndpoint {
                url: self.endpoint.to_string(),
                reason: format!("ack={other}: expected all or explicit"),
            }),
        }
    }

    /// Opens (creating when missing) the consumer for a spout of `tasks` tasks. With `recreate`
    /// (the first open of a session, or a server found redelivering what a cumulative ack
    /// already covered) a cumulative consumer with unacked deliveries is recreated at its ack
    /// floor.
    async fn consumer(
        &self,
        js: &jetstream::Context,
        tasks: usize,
        recreate: bool,
    ) -> Result<(Pull, bool), BrokerError> {
        let stream = ensure_stream(js, &self.endpoint).await?;
        let name = self.name();
        let lost = |e: &dyn std::fmt::Display| {
            BrokerError::connection(&self.endpoint, format!("consumer {name}: {e}"))
        };
        let asked = self.asked_policy()?;
        let default = if tasks == 1 {
            consumer::AckPolicy::All
        } else {
            consumer::AckPolicy::Explicit
        };
        let c = stream
            .get_or_create_consumer(name, self.config(asked.unwrap_or(default), 1))
            .await
            .map_err(|e| lost(&e))?;
        let info = c.cached_info();
        let policy = info.config.ack_policy;
        let cumulative = policy == consumer::AckPolicy::All;
        if asked.is_some_and(|a| a != policy) || (cumulative && tasks > 1) {
            return Err(BrokerError::refused(
                &self.endpoint,
                format!(
                    "consumer {name} has ack policy {policy:?}, which a spout of {tasks} task(s) asking for {} cannot use (cumulative acks need exactly one task); name another with ?consumer=",
                    asked.map_or("the default".to_string(), |a| format!("{a:?}"))
                ),
            ));
        }
        if cumulative && recreate && info.num_ack_pending > 0 {
            let from = info.ack_floor.stream_sequence + 1;
            eprintln!(
                "{}: consumer {name} has {} messages delivered and not acked by this session; redelivering from stream sequence {from}",
                self.endpoint, info.num_ack_pending
            );
            stream.delete_consumer(name).await.map_err(|e| lost(&e))?;
            let c = stream
                .create_consumer(self.config(policy, from))
                .await
                .map_err(|e| lost(&e))?;
            return Ok((c, true));
        }
        Ok((c, cumulative))
    }
}

/// Completed messages a cumulative ack waits for, at most; a quieter stream is acked every
/// [`ACK_EVERY`]. The server pays per ack, not per message acked.
const ACK_BATCH: u64 = 1024;

/// How long a completed prefix may wait for its cumulative ack.
const ACK_EVERY: Duration = Duration::from_millis(20);

/// What the client owes the server for delivered messages, by delivery id.
enum Unsettled {
    /// One ack or nak per message; the stream sequences of those messages.
    Explicit(HashMap<u64, Message>, HashSet<u64>),
    /// Cumulative acks past the completed prefix.
    Cumulative(Box<Cumulative>),
}

/// The state of cumulative acking.
struct Cumulative {
    floor: Floor<Message>,
    /// The message the next cumulative ack is sent on.
    last: Option<Message>,
    /// Deliveries that ack covers.
    covered: u64,
    /// The highest stream sequence acked cumulatively.
    acked: u64,
    /// The stream sequences delivered in this session above `acked`: the session never asks
    /// the server to redeliver one (a failed one is delivered again from `floor`).
    delivered: HashSet<u64>,
}

impl Unsettled {
    fn new(cumulative: bool, next: u64) -> Self {
        if cumulative {
            Unsettled::Cumulative(Box::new(Cumulative {
                floor: Floor::new(next),
                last: None,
                covered: 0,
                acked: 0,
                delivered: HashSet::new(),
            }))
        } else {
            Unsettled::Explicit(HashMap::new(), HashSet::new())
        }
    }

    /// Records a delivery; returns its id.
    fn deliver(&mut self, next: &mut u64, m: Message) -> u64 {
        let sequence = m.info().map(|info| info.stream_sequence);
        match self {
            Unsettled::Explicit(map, sequences) => {
                *next += 1;
                sequences.extend(sequence);
                map.insert(*next, m);
                *next
            }
            Unsettled::Cumulative(c) => {
                c.delivered.extend(sequence);
                let id = c.floor.deliver(m);
                *next = id;
                id
            }
        }
    }

    /// Applies one verdict; returns a message to deliver to the spout again (cumulative naks).
    async fn settle(&mut self, settle: Settle) -> Option<Delivery> {
        match (self, settle) {
            (Unsettled::Explicit(map, sequences), Settle::Ack(id)) => {
                ack(settled(map, sequences, id), AckKind::Ack).await;
                None
            }
            (Unsettled::Explicit(map, sequences), Settle::Nak(id)) => {
                // Asked back: the server's redelivery is a new delivery.
                ack(settled(map, sequences, id), AckKind::Nak(None)).await;
                None
            }
            (Unsettled::Cumulative(c), Settle::Ack(id)) => {
                c.floor.complete(id);
                None
            }
            (Unsettled::Cumulative(c), Settle::Nak(id)) => {
                let (id, m) = c.floor.redeliver(id)?;
                Some(Delivery {
                    id,
                    payload: m.payload.to_vec(),
                })
            }
        }
    }

    /// Moves the floor, and sends its cumulative ack once it covers [`ACK_BATCH`] deliveries,
    /// or at once when `now`.
    async fn ack_floor(&mut self, now: bool) {
        if let Unsettled::Cumulative(c) = self {
            let (moved, by) = c.floor.advance();
            if moved.is_some() {
                c.last = moved;
            }
            c.covered += by;
            if now || c.covered >= ACK_BATCH {
                c.covered = 0;
                if let Some(m) = c.last.take() {
                    if let Ok(info) = m.info() {
                        c.acked = c.acked.max(info.stream_sequence);
                        let acked = c.acked;
                        c.delivered.retain(|&s| s > acked);
                    }
                    ack(Some(m), AckKind::Ack).await;
                }
            }
        }
    }

    /// A cumulative ack already covered `m`, yet the server delivered it again: nats-server
    /// 2.9 does so after a restart, for messages it held as pending when it went down, and
    /// ignores every ack of them, so they would come back at each ack wait forever. Such a
    /// message is dropped (it completed), and the consumer is to be recreated at its floor.
    fn stale(&self, m: &Message) -> bool {
        match (self, m.info()) {
            (Unsettled::Cumulative(c), Ok(info)) => {
                info.delivered > 1 && info.stream_sequence <= c.acked
            }
            _ => false,
        }
    }

    /// The server delivered `m` again while this session holds it unsettled: its ack wait ran
    /// out while the spout waited for the commit of a checkpoint (slow under load, or delayed
    /// by rollbacks). The spout has it already, exactly-once perhaps in a checkpoint's state,
    /// and settles it through the first delivery: handing it over again would count it twice.
    fn holds(&self, m: &Message) -> bool {
        let Ok(info) = m.info() else {
            return false;
        };
        let sequences = match self {
            Unsettled::Explicit(_, sequences) => sequences,
            Unsettled::Cumulative(c) => &c.delivered,
        };
        info.delivered > 1 && sequences.contains(&info.stream_sequence)
    }
}

/// Takes delivery `id`'s message out of an explicit session's books.
fn settled(
    map: &mut HashMap<u64, Message>,
    sequences: &mut HashSet<u64>,
    id: u64,
) -> Option<Message> {
    let m = map.remove(&id)?;
    if let Ok(info) = m.info() {
        sequences.remove(&info.stream_sequence);
    }
    Some(m)
}

/// Acks or naks one message. A failure (connection lost) leaves it to the server, which
/// redelivers after the ack wait: at least once.
async fn ack(message: Option<Message>, kind: AckKind) {
    if let Some(m) = message {
        if let Err(e) = m.ack_with(kind).await {
            eprintln!("cannot settle a JetStream message: {e}");
        }
    }
}

impl Subscriber for JetStreamSubscriber {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn replay(&self) -> Replay {
        Replay::Broker
    }

    fn run(&self, _task: usize, tasks: usize, mut link: ClientLink) -> Result<(), BrokerError> {
        let rt = runtime(&self.endpoint, false)?;
        rt.block_on(async {
            let client = connect(&self.endpoint, &link.connection).await?;
            let js = jetstream::new(client.clone());
            let mut backoff = Backoff::default();
            let mut unsettled: Option<Unsettled> = None;
            let mut next_id = 0;
            let mut messages = None;
            // The server redelivers what a cumulative ack covered: recreate the consumer.
            let mut reset = false;
            let mut tick = tokio::time::interval(ACK_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let Some(stream) = messages.as_mut() else {
                    // (Re)open the pull stream; the server may be down or just restarted.
                    let fresh = unsettled.is_none();
                    let opened = match self.consumer(&js, tasks, fresh || reset).await {
                        Ok((c, cumulative)) => {
                            if fresh {
                                unsettled = Some(Unsettled::new(cumulative, next_id + 1));
                            }
                            c.stream()
                                .max_messages_per_batch(PULL_BATCH)
                                .messages()
                                .await
                                .map_err(|e| BrokerError::connection(&self.endpoint, e))
                        }
                        Err(e) => Err(e),
                    };
                    match opened {
                        Ok(s) => {
                            backoff.reset();
                            reset = false;
                            messages = Some(s);
                        }
                        Err(e) if !e.is_transient() => return Err(e),
                        Err(e) => {
                            let delay = backoff.next_delay();
                            link.connection.retrying(&e, Some(delay));
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                settle = link.settles.recv() => match settle {
                                    Some(s) => {
                                        if let Some(u) = unsettled.as_mut() {
                                            if !settle_burst(u, s, &mut link).await {
                                                break;
                                            }
                                        }
                                    }
                                    None => break,
                                },
                            }
                        }
                    }
                    continue;
                };
                let Some(u) = unsettled.as_mut() else {
                    break;
                };
                tokio::select! {
                    settle = link.settles.recv() => match settle {
                        Some(s) => if !settle_burst(u, s, &mut link).await {
                            break;
                        },
                        None => break,
                    },
                    _ = tick.tick() => u.ack_floor(true).await,
                    message = stream.next() => match message {
                        Some(Ok(m)) if u.stale(&m) => {
                            messages = None;
                            reset = true;
                        }
                        Some(Ok(m)) if u.holds(&m) => {}
                        Some(Ok(m)) => {
                            let payload = m.payload.to_vec();
                            let id = u.deliver(&mut next_id, m);
                            if link.deliveries.send(Delivery { id, payload }).await.is_err() {
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
            if let Some(u) = unsettled.as_mut() {
                while let Ok(s) = link.settles.try_recv() {
                    u.settle(s).await;
                }
                u.ack_floor(true).await;
            }
            // Acks are plain publishes: make sure the last ones left before returning.
            let _ = client.flush().await;
            Ok(())
        })
    }
}

/// Applies `first` and every verdict already queued behind it, then acks the floor once.
/// Returns false when the spout went away.
async fn settle_burst(u: &mut Unsettled, first: Settle, link: &mut ClientLink) -> bool {
    let mut next = Some(first);
    while let Some(s) = next {
        if let Some(again) = u.settle(s).await {
            if link.deliveries.send(again).await.is_err() {
                return false;
            }
        }
        next = link.settles.try_recv().ok();
    }
    u.ack_floor(false).await;
    true
}
