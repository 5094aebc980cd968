//! The sink half every broker shares: the bolt encodes tuples and hands them to a writer thread
//! through a bounded channel; the writer publishes in batches, reconnecting with backoff.

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use serde::Serialize;
use squall::{Bolt, BoltCollector, ComponentError, TaskContext, Tuple};

use super::{Backoff, BrokerError, ConnectionState, Endpoint};

/// One encoded tuple on its way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The tuple's identity: JetStream message id, PostgreSQL primary key, Redis field `id`.
    /// Writing the same key twice leaves one copy wherever the broker can de-duplicate.
    pub key: String,
    /// The payload in the endpoint's format.
    pub payload: Vec<u8>,
}

/// A broker's writing side: connect, and publish a batch durably.
pub(crate) trait Publisher: Send + Sync + 'static {
    /// An open connection.
    type Conn;
    /// The client connects in the background and tells the [`ConnectionState`] itself when it
    /// does (NATS, MQTT); otherwise a connection that `connect` returns is one.
    const REPORTS: bool = false;
    /// The endpoint, for messages.
    fn endpoint(&self) -> &Endpoint;
    /// Opens a connection (the writer thread's runtime is current); a client that reconnects
    /// by itself reports to `state`.
    async fn connect(&self, state: &ConnectionState) -> Result<Self::Conn, BrokerError>;
    /// Writes `batch`. Returns once the broker has confirmed all of it, or, for a publisher
    /// that pipelines, once everything written before it is confirmed: `batch` may stay in
    /// flight until the next call or [`Publisher::confirm`].
    async fn publish(&self, conn: &mut Self::Conn, batch: &[Record]) -> Result<(), BrokerError>;

    /// Returns once everything written is confirmed (nothing to do unless `publish` pipelines).
    async fn confirm(&self, conn: &mut Self::Conn) -> Result<(), BrokerError> {
        let _ = conn;
        Ok(())
    }

    /// The records written and not confirmed, taken back to be written again on a new
    /// connection after this one failed.
    fn take_unconfirmed(&self, conn: &mut Self::Conn) -> Vec<Record> {
        let _ = conn;
        Vec::new()
    }
}

/// A [`Publisher`] with its connection type erased, so sinks are one type per tuple type.
trait Writer: Send + Sync {
    fn endpoint(&self) -> &Endpoint;
    fn run(
        &self,
        commands: Receiver<Command>,
        max_batch: usize,
        state: ConnectionState,
        give_up: Option<GiveUp>,
    ) -> Result<(), BrokerError>;
}

/// When a writer that never reached its broker gives up, and the deadline it was given.
type GiveUp = (Instant, Duration);

impl<P: Publisher> Writer for P {
    fn endpoint(&self) -> &Endpoint {
        Publisher::endpoint(self)
    }

    fn run(
        &self,
        commands: Receiver<Command>,
        max_batch: usize,
        state: ConnectionState,
        give_up: Option<GiveUp>,
    ) -> Result<(), BrokerError> {
        write_loop(self, commands, max_batch, state, give_up)
    }
}

/// What the bolt sends its writer.
enum Command {
    Write(Record),
    /// Reply once everything sent before is confirmed by the broker.
    Flush(Sender<()>),
}

type KeyFn<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;
type WriterThread = JoinHandle<Result<(), BrokerError>>;

/// A sink bolt over any broker: encodes each tuple in the endpoint's [`super::Format`], and
/// publishes in batches from a writer thread (a batch is whatever queued while the last one was
/// being written, so batches grow under load and stay single at low rates).
///
/// `execute` returns once the tuple is queued (a full queue blocks it: backpressure); `finish`
/// returns once the broker has confirmed every tuple. A lost connection is retried with
/// [`Backoff`], re-sending the unconfirmed batch: sinks that de-duplicate on
/// [`Record::key`] (JetStream, PostgreSQL) write each tuple once, the others at least once.
/// The key is [`BrokerSink::with_key`]'s function of the tuple, by default a hash of the payload.
///
/// Under acking, a tuple's tree completes when `execute` returns, that is once the tuple is
/// queued, before the broker has confirmed it: a process killed in between loses what was
/// queued (at most the queue's capacity) although its input was acknowledged. A task that fails
/// or is restarted does not: its writer finishes the queue before it stops.
pub struct BrokerSink<T> {
    writer: Arc<dyn Writer>,
    /// Shared by every task's writer (clones share it): one rate limit on "cannot reach", and
    /// a watcher learns whether any writer connected.
    connection: ConnectionState,
    key: Option<KeyFn<T>>,
    capacity: usize,
    max_batch: usize,
    connect_deadline: Option<Duration>,
    live: Option<(Sender<Command>, WriterThread)>,
    values: PhantomData<fn(T)>,
}

impl<T: Serialize> BrokerSink<T> {
    pub(crate) fn from_publisher(publisher: impl Publisher) -> Self {
        BrokerSink {
            connection: ConnectionState::new(publisher.endpoint()),
            writer: Arc::new(publisher),
            key: None,
            capacity: 8192,
            max_batch: 1024,
            connect_deadline: None,
            live: None,
            values: PhantomData,
        }
    }

    /// The identity of a tuple, for de-duplication on replay.
    pub fn with_key(mut self, key: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        self.key = Some(Arc::new(key));
        self
    }

    /// At most `n` records per batch written (default 1024).
    pub fn with_max_batch(mut self, n: usize) -> Self {
        self.max_batch = n.max(1);
        self
    }

    /// Records queued for the writer before `execute` blocks (default 8192).
    pub fn with_capacity(mut self, n: usize) -> Self {
        self.capacity = n.max(1);
        self
    }

    /// Gives up on a broker never reached within `d` of the writer's start: the task fails with
    /// an [`squall::Unrecoverable`] [`BrokerError::NeverConnected`], which ends the run. For runs
    /// over a bounded input, where waiting for the broker would never end by itself; without
    /// it (the default) a sink keeps trying until the run is stopped. A broker reached once and
    /// lost later is always retried.
    pub fn with_connect_deadline(mut self, d: Duration) -> Self {
        self.connect_deadline = Some(d);
        self
    }

    /// The endpoint this sink writes to.
    pub fn endpoint(&self) -> &Endpoint {
        self.writer.endpoint()
    }

    /// Whether its writers reached the broker: keep a clone to tell, after a run, whether
    /// anything could have been written.
    pub fn connection(&self) -> &ConnectionState {
        &self.connection
    }

    /// Starts the writer thread (done by `prepare`).
    pub fn start(&mut self) -> Result<(), BrokerError> {
        let (tx, rx) = crossbeam_channel::bounded(self.capacity);
        let writer = self.writer.clone();
        let max_batch = self.max_batch;
        let state = self.connection.clone();
        let give_up = self.connect_deadline.map(|d| (Instant::now() + d, d));
        let thread = std::thread::Builder::new()
            .name(format!("squall-{}-sink", self.endpoint().scheme.name()))
            .spawn(move || writer.run(rx, max_batch, state, give_up))
            .map_err(|e| self.stopped(e.to_string()))?;
        self.live = Some((tx, thread));
        Ok(())
    }

    /// Queues `value` for writing.
    pub fn write(&mut self, value: &T) -> Result<(), BrokerError> {
        let mut payload = Vec::with_capacity(64);
        self.endpoint()
            .format
            .encode(value, &mut payload)
            .map_err(|reason| BrokerError::Encode {
                endpoint: self.endpoint().to_string(),
                reason,
            })?;
        let key = match &self.key {
            Some(f) => f(value),
            None => {
                let mut h = std::hash::DefaultHasher::new();
                payload.hash(&mut h);
                format!("{:016x}", h.finish())
            }
        };
        self.send(Command::Write(Record { key, payload }))
    }

    /// Returns once the broker has confirmed everything written so far.
    pub fn flush(&mut self) -> Result<(), BrokerError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Command::Flush(tx))?;
        let give_up = Instant::now() + FLUSH_WAIT;
        loop {
            match rx.recv_timeout(WRITER_CHECK) {
                Ok(()) => return Ok(()),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return Err(self.writer_error())
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            }
            // A writer that ended (its broker never reached by the deadline) leaves this
            // request in the channel, which keeps what is queued until the sink drops it: the
            // reply would never come, so look at the writer itself.
            if self.writer_ended() {
                return Err(self.writer_error());
            }
            if Instant::now() >= give_up {
                return Err(self.stopped(format!(
                    "the broker did not confirm the last writes within {}s",
                    FLUSH_WAIT.as_secs()
                )));
            }
        }
    }

    fn writer_ended(&self) -> bool {
        self.live
            .as_ref()
            .is_none_or(|(_, thread)| thread.is_finished())
    }

    fn send(&mut self, command: Command) -> Result<(), BrokerError> {
        let Some((tx, _)) = self.live.as_ref() else {
            return Err(self.stopped("the sink was not started".into()));
        };
        tx.send(command).map_err(|_| self.writer_error())
    }

    /// The writer thread ended: its error.
    fn writer_error(&mut self) -> BrokerError {
        match self.live.take().map(|(_, thread)| thread.join()) {
            Some(Ok(Err(e))) => e,
            _ => self.stopped("the writer ended without saying why".into()),
        }
    }

    fn stopped(&self, reason: String) -> BrokerError {
        BrokerError::Stopped {
            endpoint: self.endpoint().to_string(),
            reason,
        }
    }
}

impl<T> Clone for BrokerSink<T> {
    /// An unstarted sink with the same endpoint and settings.
    fn clone(&self) -> Self {
        BrokerSink {
            writer: self.writer.clone(),
            connection: self.connection.clone(),
            key: self.key.clone(),
            capacity: self.capacity,
            max_batch: self.max_batch,
            connect_deadline: self.connect_deadline,
            live: None,
            values: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for BrokerSink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerSink")
            .field("endpoint", &self.writer.endpoint().to_string())
            .finish_non_exhaustive()
    }
}

impl<T: Tuple> Bolt for BrokerSink<T> {
    type Input = T;
    type Output = ();

    fn prepare(&mut self, _: &TaskContext) -> Result<(), ComponentError> {
        self.start().map_err(task_error)
    }

    fn execute(&mut self, value: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.write(&value).map_err(task_error)
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.flush().map_err(task_error)
    }

    fn cleanup(&mut self) {
        // Dropping the sender ends the writer after it has written what is queued.
        if let Some((tx, thread)) = self.live.take() {
            drop(tx);
            if let Ok(Err(e)) = thread.join() {
                eprintln!("{e}");
            }
        }
    }
}

/// A broker never reached by its deadline ends the run (a restart would only wait again); any
/// other error fails the task, which the supervisor restarts.
fn task_error(e: BrokerError) -> ComponentError {
    match e {
        BrokerError::NeverConnected { .. } => squall::Unrecoverable::new(e).into(),
        e => e.into(),
    }
}

/// How long `flush` waits for the broker to confirm (a broker down longer fails the run).
const FLUSH_WAIT: Duration = Duration::from_secs(60);

/// How often `flush` looks whether the writer ended while it waits for its reply.
const WRITER_CHECK: Duration = Duration::from_millis(50);

/// How long a batch left in flight by a pipelining publisher waits for the next one before it
/// is confirmed on its own.
const CONFIRM_IDLE: Duration = Duration::from_millis(2);

/// The writer thread: batches what is queued, writes it, retries on a lost connection.
fn write_loop<P: Publisher>(
    p: &P,
    commands: Receiver<Command>,
    max_batch: usize,
    state: ConnectionState,
    give_up: Option<GiveUp>,
) -> Result<(), BrokerError> {
    // Multi-threaded (one worker) so tasks a client spawns (an MQTT event loop) run while this
    // thread waits on the channel.
    let rt = super::runtime(p.endpoint(), true)?;
    let mut out = Connection {
        conn: None,
        backoff: Backoff::default(),
        in_flight: false,
        state,
        retry_at: None,
        give_up,
    };
    // Connect before the first tuple arrives, so it does not wait for the connection.
    out.connect(p, &rt)?;
    let mut batch = Vec::with_capacity(max_batch);
    loop {
        let mut flush = None;
        let first = if out.in_flight {
            match commands.recv_timeout(CONFIRM_IDLE) {
                Ok(c) => Some(c),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    return out.write(p, &rt, &mut batch, true)
                }
            }
        } else if let Some(at) = out.retry_at {
            // The broker is away and nothing waits to be written: keep trying meanwhile, so
            // that a broker that is not there is said (and one that comes is found) before the
            // first tuple.
            match commands.recv_deadline(at) {
                Ok(c) => Some(c),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    out.connect(p, &rt)?;
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Ok(()),
            }
        } else {
            match commands.recv() {
                Ok(c) => Some(c),
                Err(_) => return Ok(()),
            }
        };
        match first {
            Some(Command::Write(r)) => batch.push(r),
            Some(Command::Flush(reply)) => flush = Some(reply),
            None => {}
        }
        while flush.is_none() && !batch.is_empty() && batch.len() < max_batch {
            match commands.try_recv() {
                Ok(Command::Write(r)) => batch.push(r),
                Ok(Command::Flush(reply)) => flush = Some(reply),
                Err(_) => break,
            }
        }
        // Confirm everything when asked to, and when nothing more came to write.
        let confirm = flush.is_some() || batch.is_empty();
        out.write(p, &rt, &mut batch, confirm)?;
        if let Some(reply) = flush {
            let _ = reply.send(());
        }
    }
}

/// Runs `f` to its end, or until `limit` (then `None`).
fn within<T>(
    rt: &tokio::runtime::Runtime,
    limit: Option<Instant>,
    f: impl std::future::Future<Output = T>,
) -> Option<T> {
    match limit {
        None => Some(rt.block_on(f)),
        // The timer is made inside the runtime, which drives it.
        Some(at) => rt
            .block_on(async move { tokio::time::timeout_at(at.into(), f).await })
            .ok(),
    }
}

/// The writer's connection: `None` while the broker is away.
struct Connection<C> {
    conn: Option<C>,
    /// Grows until a write succeeds (not a connect: the clients that connect in the background
    /// return a connection at once, broker or not).
    backoff: Backoff,
    /// Written and not yet confirmed (a pipelining publisher's last batch).
    in_flight: bool,
    state: ConnectionState,
    /// The next attempt to connect while there is nothing to write.
    retry_at: Option<Instant>,
    /// A broker never reached by then fails the writer.
    give_up: Option<GiveUp>,
}

impl<C> Connection<C> {
    /// One attempt to connect; a transient failure is said and retried later.
    fn connect<P: Publisher<Conn = C>>(
        &mut self,
        p: &P,
        rt: &tokio::runtime::Runtime,
    ) -> Result<(), BrokerError> {
        let Some(connected) = within(rt, self.limit(), p.connect(&self.state)) else {
            return self.check_deadline(p);
        };
        match connected {
            Ok(c) => {
                self.opened(c, P::REPORTS);
                Ok(())
            }
            Err(e) if e.is_transient() => {
                self.check_deadline(p)?;
                let delay = self.backoff.next_delay();
                self.state.retrying(&e, Some(delay));
                let at = Instant::now() + delay;
                self.retry_at = Some(match self.give_up {
                    Some((give_up, _)) if !self.state.ever_connected() => at.min(give_up),
                    _ => at,
                });
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// When to give up, while the broker has never been reached.
    fn limit(&self) -> Option<Instant> {
        self.give_up
            .filter(|_| !self.state.ever_connected())
            .map(|(at, _)| at)
    }

    /// Fails once the deadline has passed without the broker ever being reached.
    fn check_deadline<P: Publisher<Conn = C>>(&self, p: &P) -> Result<(), BrokerError> {
        match self.give_up {
            Some((at, after)) if !self.state.ever_connected() && Instant::now() >= at => {
                Err(BrokerError::NeverConnected {
                    endpoint: p.endpoint().to_string(),
                    address: self.state.address().to_string(),
                    after_s: after.as_secs_f64(),
                })
            }
            _ => Ok(()),
        }
    }

    fn opened(&mut self, conn: C, reports: bool) {
        if !reports {
            self.state.connected();
        }
        self.conn = Some(conn);
        self.retry_at = None;
    }

    /// Writes `batch` (and, with `confirm`, waits for everything written), connecting and
    /// retrying with backoff as long as the failures are transient. What a lost connection
    /// left unconfirmed is written again, ahead of `batch`.
    fn write<P: Publisher<Conn = C>>(
        &mut self,
        p: &P,
        rt: &tokio::runtime::Runtime,
        batch: &mut Vec<Record>,
        confirm: bool,
    ) -> Result<(), BrokerError> {
        if batch.is_empty() && !(confirm && self.in_flight) {
            return Ok(());
        }
        loop {
            // A client that connects in the background waits inside `publish` for a broker
            // that is not there: bounded by the deadline, if any.
            let limit = self.limit();
            let result = match self.conn.as_mut() {
                Some(c) => within(rt, limit, async {
                    if !batch.is_empty() {
                        p.publish(c, batch).await?;
                    }
                    if confirm {
                        p.confirm(c).await?;
                    }
                    Ok(())
                })
                .map(|r| r.map(|()| true)),
                None => within(rt, limit, p.connect(&self.state)).map(|r| {
                    r.map(|c| {
                        self.opened(c, P::REPORTS);
                        false
                    })
                }),
            };
            let Some(result) = result else {
                // The deadline passed: give up, unless the broker was reached meanwhile.
                self.check_deadline(p)?;
                continue;
            };
            match result {
                Ok(true) => {
                    self.backoff.reset();
                    self.in_flight = !confirm;
                    batch.clear();
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) if e.is_transient() => {
                    if let Some(c) = self.conn.as_mut() {
                        let mut again = p.take_unconfirmed(c);
                        again.append(batch);
                        *batch = again;
                    }
                    self.conn = None;
                    self.check_deadline(p)?;
                    let delay = self.backoff.next_delay();
                    self.state.retrying(&e, Some(delay));
                    // Wake at the deadline, if it comes first, to give up on time.
                    let nap = match self.give_up {
                        Some((at, _)) if !self.state.ever_connected() => {
                            delay.min(at.saturating_duration_since(Instant::now()))
                        }
                        _ => delay,
                    };
                    std::thread::sleep(nap);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;
