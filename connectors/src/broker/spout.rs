//! The spout half every broker shares: a client thread delivers messages through a bounded
//! channel; the spout decodes, emits with an id, and settles with the broker only in `ack`/`fail`
//! (exactly-once: in `commit` and `restore`).

use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use squall::{
    ComponentError, Guarantee, MessageId, Spout, SpoutCollector, State, TaskContext, Tuple,
};
use tokio::sync::mpsc;

use super::ledger::{Ledger, Position};
use super::{BrokerError, ConnectionState, Deliveries, Endpoint};
use crate::Malformed;

/// One message handed from a client thread to its spout.
#[derive(Debug)]
pub struct Delivery {
    /// Unique within the spout task; the tuple's message id, and how the spout settles it.
    pub id: MessageId,
    /// The payload as received.
    pub payload: Vec<u8>,
}

/// The spout's verdict on a delivered message, sent back to the client thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Processed (the tuple tree completed, or the payload was malformed): acknowledge to the
    /// broker (MQTT PUBACK, JetStream ack, Redis XACK).
    Ack(MessageId),
    /// Failed: ask the broker to redeliver (JetStream nak). Sent only by spouts whose subscriber
    /// says [`Replay::Broker`].
    Nak(MessageId),
}

/// How a failed tuple is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The spout keeps each value until it is acked and re-emits it on `fail` (MQTT, core NATS,
    /// Redis: their brokers redeliver only after a reconnect or a claim).
    Local,
    /// The spout forgets the value and naks it; the broker redelivers (JetStream).
    Broker,
}

/// The two ends a client thread holds.
#[derive(Debug)]
pub struct ClientLink {
    /// Deliveries to the spout, waking its task. Bounded: when the spout falls behind, the
    /// client stops reading and the broker holds the messages (backpressure reaches the broker).
    pub deliveries: Deliveries,
    /// Verdicts from the spout. Unbounded on purpose: the spout must never block, and the
    /// verdicts in flight are bounded by the deliveries not yet settled, which the broker caps
    /// (MQTT in-flight window, JetStream max ack pending, Redis read count). When it closes the
    /// spout has closed: the client settles what is queued and returns.
    pub settles: mpsc::UnboundedReceiver<Settle>,
    /// Where the client says that it connected, or cannot reach the broker.
    pub connection: ConnectionState,
}

/// The client side of a broker spout; `run` is called on a thread of its own.
pub trait Subscriber: Send + Sync + 'static {
    /// The endpoint, for messages.
    fn endpoint(&self) -> &Endpoint;
    /// How a failed tuple is replayed.
    fn replay(&self) -> Replay;
    /// Connects (reconnecting with backoff when the connection is lost), delivers messages, and
    /// settles the verdicts it receives, until `link.settles` closes. `task` and `tasks` let
    /// several tasks share a subscription (consumer names, client ids).
    fn run(&self, task: usize, tasks: usize, link: ClientLink) -> Result<(), BrokerError>;
}

/// When a live spout stops by itself.
#[derive(Debug, Clone, Default)]
struct Limits {
    idle_exit: Option<Duration>,
    max_records: Option<u64>,
}

/// A spout over any broker [`Subscriber`]: decodes payloads in the endpoint's [`super::Format`]
/// into `T`, emits each with a message id, and acknowledges to the broker only in
/// [`Spout::ack`], so a message counts as handled only once its tuple tree completes (and,
/// at most once, right after emit). [`Spout::fail`] replays as the subscriber's [`Replay`] says.
///
/// Exactly-once (Flink's model for a source that takes acknowledgements): a message is
/// acknowledged only in [`Spout::commit`], once a checkpoint whose snapshot follows its emit is
/// complete in every task. A rollback to a checkpoint ([`Spout::restore`]) acknowledges what
/// came before it and replays what came after as the [`Replay`] says: emitted again from the
/// values kept ([`Replay::Local`]), or nak'ed for the broker to redeliver ([`Replay::Broker`]).
/// A new instance restored after a crash relies on the broker redelivering what was never
/// acknowledged (MQTT's persistent session on reconnect, a Redis consumer's pending entries,
/// JetStream after its ack wait, or at once for what `close` nak'ed). So the broker's window
/// of unacknowledged messages (MQTT in-flight window, JetStream max ack pending) must hold a
/// checkpoint interval's worth of input. A JetStream client drops the server's redelivery of a
/// message it still holds (its ack wait ran out before the commit); with several tasks the
/// server may hand it to another task's client instead, so there the ack wait must be longer
/// than a checkpoint takes to commit.
///
/// A payload that does not decode is reported on stderr as
/// `{endpoint}: message {n}: {reason}; message skipped`, counted in the [`Malformed`] counter,
/// and acknowledged (a poison message is not redelivered forever).
///
/// Unbounded unless told: [`BrokerSpout::with_idle_exit`] and [`BrokerSpout::with_max_records`]
/// make it finish, once every emitted tuple is settled.
pub struct BrokerSpout<T> {
    subscriber: Arc<dyn Subscriber>,
    /// Shared by every task's client (clones share it), so that the rate limit on "cannot
    /// reach" holds whatever the parallelism, and a watcher learns if any task connected.
    connection: ConnectionState,
    malformed: Malformed,
    batch: usize,
    capacity: usize,
    limits: Limits,
    /// Boxed: a spout is built per task and moved around before `open`; keep it small.
    live: Option<Box<Live<T>>>,
    finished: bool,
    /// The run is exactly-once: settle in `commit`, rewind in `restore`.
    exactly_once: bool,
    values: PhantomData<fn() -> T>,
}

/// A running spout task's side of its client.
struct Live<T> {
    deliveries: mpsc::Receiver<Delivery>,
    settles: mpsc::UnboundedSender<Settle>,
    thread: Option<JoinHandle<Result<(), BrokerError>>>,
    /// Emitted and not yet settled; the value is kept only for [`Replay::Local`].
    pending: HashMap<MessageId, Option<T>>,
    /// Failed ids waiting to be re-emitted.
    replay: VecDeque<MessageId>,
    /// Exactly-once: emitted and not yet committed.
    ledger: Ledger<T>,
    /// Exactly-once, [`Replay::Local`]: taken back by a rollback, waiting to be emitted again.
    rewound: VecDeque<(MessageId, T)>,
    received: u64,
    last_input: Instant,
}

impl<T: Tuple> BrokerSpout<T> {
    /// A spout over `subscriber`; nothing connects until the task's `open`.
    pub fn new(subscriber: impl Subscriber) -> Self {
        BrokerSpout {
            connection: ConnectionState::new(subscriber.endpoint()),
            subscriber: Arc::new(subscriber),
            malformed: Malformed::new(),
            batch: 256,
            capacity: 4096,
            limits: Limits::default(),
            live: None,
            finished: false,
            exactly_once: false,
            values: PhantomData,
        }
    }

    /// Counts skipped malformed payloads in `counter` (keep a clone to read the count).
    pub fn with_malformed(mut self, counter: Malformed) -> Self {
        self.malformed = counter;
        self
    }

    /// Emits at most `n` tuples per `next_tuple` call (default 256).
    pub fn with_batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Messages the client may hold for the spout before it stops reading (default 4096).
    pub fn with_capacity(mut self, n: usize) -> Self {
        self.capacity = n.max(1);
        self
    }

    /// Finishes after `idle` without a message (counted from `open` and from each message).
    pub fn with_idle_exit(mut self, idle: Duration) -> Self {
        self.limits.idle_exit = Some(idle);
        self
    }

    /// Finishes after `n` messages (malformed ones included); later ones stay with the broker.
    pub fn with_max_records(mut self, n: u64) -> Self {
        self.limits.max_records = Some(n);
        self
    }

    /// The endpoint this spout reads.
    pub fn endpoint(&self) -> &Endpoint {
        self.subscriber.endpoint()
    }

    /// Whether its clients reached the broker: keep a clone to tell, after a run, an input
    /// that was empty from a broker that was never there.
    pub fn connection(&self) -> &ConnectionState {
        &self.connection
    }

    fn start(&mut self, ctx: &TaskContext) -> Result<(), BrokerError> {
        let (task, tasks) = (ctx.task_index(), ctx.component_tasks());
        let waker = ctx.waker();
        let (deliver, deliveries) = mpsc::channel(self.capacity);
        let (settle, settles) = mpsc::unbounded_channel();
        let subscriber = self.subscriber.clone();
        let connection = self.connection.clone();
        let endpoint = subscriber.endpoint().to_string();
        let thread = std::thread::Builder::new()
            .name(format!(
                "squall-{}-spout-{task}",
                subscriber.endpoint().scheme.name()
            ))
            .spawn(move || {
                let link = ClientLink {
                    deliveries: Deliveries::new(deliver, waker),
                    settles,
                    connection,
                };
                subscriber.run(task, tasks, link)
            })
            .map_err(|e| BrokerError::Stopped {
                endpoint,
                reason: e.to_string(),
            })?;
        self.live = Some(Box::new(Live {
            deliveries,
            settles: settle,
            thread: Some(thread),
            pending: HashMap::new(),
            replay: VecDeque::new(),
            ledger: Ledger::default(),
            rewound: VecDeque::new(),
            received: 0,
            last_input: Instant::now(),
        }));
        Ok(())
    }
}

impl Limits {
    fn reached<T>(&self, live: &Live<T>) -> bool {
        self.max_records.is_some_and(|n| live.received >= n)
            || self
                .idle_exit
                .is_some_and(|d| live.last_input.elapsed() >= d)
    }
}

impl<T> Clone for BrokerSpout<T> {
    /// An unopened spout over the same subscriber, with the same settings and counter.
    fn clone(&self) -> Self {
        BrokerSpout {
            subscriber: self.subscriber.clone(),
            connection: self.connection.clone(),
            malformed: self.malformed.clone(),
            batch: self.batch,
            capacity: self.capacity,
            limits: self.limits.clone(),
            live: None,
            finished: false,
            exactly_once: false,
            values: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for BrokerSpout<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerSpout")
            .field("endpoint", &self.subscriber.endpoint().to_string())
            .finish_non_exhaustive()
    }
}

impl<T: Tuple> Spout for BrokerSpout<T> {
    type Output = T;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.exactly_once = ctx.guarantee() == Guarantee::ExactlyOnce;
        self.malformed = self.malformed.counting_in(ctx);
        Ok(self.start(ctx)?)
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        if self.finished {
            return Ok(());
        }
        let keep = self.subscriber.replay() == Replay::Local;
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        let mut budget = self.batch;
        while budget > 0 {
            let Some((id, value)) = live.rewound.pop_front() else {
                break;
            };
            live.ledger.push(id, Some(value.clone()));
            out.emit_with_id(value, id);
            budget -= 1;
        }
        while budget > 0 {
            let Some(id) = live.replay.pop_front() else {
                break;
            };
            if let Some(Some(value)) = live.pending.get(&id) {
                out.emit_with_id(value.clone(), id);
                budget -= 1;
            }
        }
        while budget > 0 && self.limits.max_records.is_none_or(|n| live.received < n) {
            let d = match live.deliveries.try_recv() {
                Ok(d) => d,
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    let endpoint = self.subscriber.endpoint().to_string();
                    let result = live.thread.take().map(JoinHandle::join);
                    return Err(match result {
                        Some(Ok(Err(e))) => e.into(),
                        _ => BrokerError::Stopped {
                            endpoint,
                            reason: "the client ended without saying why".into(),
                        }
                        .into(),
                    });
                }
            };
            live.received += 1;
            live.last_input = Instant::now();
            budget -= 1;
            match self.subscriber.endpoint().format.decode::<T>(&d.payload) {
                Ok(value) if self.exactly_once => {
                    live.ledger.push(d.id, keep.then(|| value.clone()));
                    out.emit_with_id(value, d.id);
                }
                Ok(value) => {
                    live.pending.insert(d.id, keep.then(|| value.clone()));
                    out.emit_with_id(value, d.id);
                }
                Err(reason) => {
                    let endpoint = self.subscriber.endpoint().to_string();
                    self.malformed
                        .skip_message(&endpoint, live.received, &reason);
                    let _ = live.settles.send(Settle::Ack(d.id));
                }
            }
        }
        // Exactly-once, what the ledger holds does not keep the spout from finishing: the
        // runtime commits it before `close`.
        let limit = self.limits.reached(live);
        if limit && live.pending.is_empty() && live.replay.is_empty() && live.rewound.is_empty() {
            self.finished = true;
        }
        Ok(())
    }

    fn ack(&mut self, msg_id: MessageId) {
        if self.exactly_once {
            // Called right after emit: the message waits in the ledger for its commit.
            return;
        }
        if let Some(live) = self.live.as_mut() {
            if live.pending.remove(&msg_id).is_some() {
                // A closed channel means the client stopped; the broker redelivers later.
                let _ = live.settles.send(Settle::Ack(msg_id));
            }
        }
    }

    fn fail(&mut self, msg_id: MessageId) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        match self.subscriber.replay() {
            Replay::Local => {
                if live.pending.contains_key(&msg_id) {
                    live.replay.push_back(msg_id);
                }
            }
            Replay::Broker => {
                if live.pending.remove(&msg_id).is_some() {
                    let _ = live.settles.send(Settle::Nak(msg_id));
                    // The redelivery is on its way and counts as received when it comes: the
                    // limits must not end the spout before it does.
                    live.received = live.received.saturating_sub(1);
                    live.last_input = Instant::now();
                }
            }
        }
    }

    fn snapshot_for(&mut self, checkpoint: u64) -> Result<Option<State>, ComponentError> {
        match self.live.as_mut() {
            Some(live) if self.exactly_once => {
                let emitted = live.ledger.mark(checkpoint);
                live.position(emitted)
            }
            _ => Ok(None),
        }
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        match self.live.as_ref() {
            Some(live) if self.exactly_once => live.position(live.ledger.position()),
            _ => Ok(None),
        }
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        let replay = self.subscriber.replay();
        match self.live.as_mut() {
            Some(live) if self.exactly_once => {
                live.rewind(state.decode()?, replay);
                self.finished = false;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn commit(&mut self, checkpoint: u64) -> Result<(), ComponentError> {
        if let Some(live) = self.live.as_mut() {
            for id in live.ledger.commit(checkpoint) {
                // A closed channel means the client stopped; the broker redelivers later.
                let _ = live.settles.send(Settle::Ack(id));
            }
        }
        Ok(())
    }

    /// Exactly-once, with nothing new to emit and emits not yet committed: the broker may be
    /// holding messages back until they are acknowledged (its window is full), so a checkpoint
    /// now beats waiting for the next interval.
    fn awaits_commit(&self) -> bool {
        self.exactly_once && self.live.as_ref().is_some_and(|l| !l.ledger.is_empty())
    }

    fn close(&mut self) {
        self.shutdown();
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl<T> Drop for BrokerSpout<T> {
    /// A spout dropped without `close` (its task crashed, or a rollback replaced it) settles
    /// as `close` does, so that the next instance's client finds the broker settled.
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl<T> Live<T> {
    /// The spout's state at `emitted`.
    fn position(&self, emitted: u64) -> Result<Option<State>, ComponentError> {
        let position = Position {
            emitted,
            received: self.received,
        };
        Ok(Some(State::encode(&position)?))
    }

    /// Exactly-once, rolled back to a complete checkpoint at `to`: acknowledge what came
    /// before it, replay what came after.
    fn rewind(&mut self, to: Position, replay: Replay) {
        // A new instance restored from its predecessor's checkpoint counts from there.
        self.received = self.received.max(to.received);
        let (committed, rewound) = self.ledger.rewind(to.emitted);
        for id in committed {
            let _ = self.settles.send(Settle::Ack(id));
        }
        let mut again = Vec::with_capacity(rewound.len());
        for (id, value) in rewound {
            match (replay, value) {
                (Replay::Local, Some(value)) => again.push((id, value)),
                _ => {
                    // The broker redelivers it, and it counts as received then.
                    let _ = self.settles.send(Settle::Nak(id));
                    self.received = self.received.saturating_sub(1);
                }
            }
        }
        // Emitted after the checkpoint go out again before what an earlier rewind left.
        for item in again.into_iter().rev() {
            self.rewound.push_front(item);
        }
        // The idle clock restarts: redeliveries are on their way.
        self.last_input = Instant::now();
    }
}

impl<T> BrokerSpout<T> {
    /// Settles what can be settled and stops the client, waiting a bounded time for it.
    /// Exactly-once, what was emitted and never committed stays unacknowledged: a JetStream
    /// spout naks it (and what the client delivered and the spout never took), so the server
    /// redelivers it at once rather than after the ack wait; MQTT and Redis redeliver it to the
    /// next session of the same client id or consumer.
    fn shutdown(&mut self) {
        let Some(mut live) = self.live.take().map(|l| *l) else {
            return;
        };
        if self.exactly_once && self.subscriber.replay() == Replay::Broker {
            let held: Vec<MessageId> = live.ledger.drain().map(|(id, _)| id).collect();
            for id in held {
                let _ = live.settles.send(Settle::Nak(id));
            }
            while let Ok(d) = live.deliveries.try_recv() {
                let _ = live.settles.send(Settle::Nak(d.id));
            }
        }
        // Closing the verdict channel tells the client to settle what is queued and return;
        // wait a bounded time for it so the last acks reach the broker before the process ends.
        drop(live.settles);
        drop(live.deliveries);
        if let Some(thread) = live.thread.take() {
            let deadline = Instant::now() + CLOSE_WAIT;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if thread.is_finished() {
                if let Ok(Err(e)) = thread.join() {
                    eprintln!("{e}");
                }
            }
        }
    }
}

/// How long `close` waits for a client to deliver its last acknowledgements.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

#[cfg(test)]
#[cfg(feature = "file")]
#[path = "spout_tests.rs"]
mod tests;
