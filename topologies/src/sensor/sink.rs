//! The sensor pipeline's sink: events as JSON Lines, written through an output shared by every
//! instance of the sink, so a restarted instance appends where the last one stopped. A file is
//! written under a temporary name and renamed into place when the sink's input ends.

use std::collections::VecDeque;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use squall::{Bolt, BoltCollector, ComponentError, Counter, Guarantee, State, TaskContext};
use squall_connectors::broker::BrokerSink;
use squall_connectors::file::StagedFile;

use super::repeats::Recent;
use super::types::{Event, Signal};
use super::EventRecord;

/// Where events go.
#[derive(Debug, Clone)]
pub enum EventOutput {
    /// JSON Lines on stdout; at most `limit` lines when set (the rest are only counted).
    Stdout {
        /// Print at most this many events.
        limit: Option<u64>,
    },
    /// JSON Lines in a file, replaced whole when the run ends: until then an existing file is
    /// untouched, and a failed run leaves it so (see [`StagedFile`]).
    File(PathBuf),
    /// Nowhere: count only (benchmarks).
    Discard,
    /// A broker or database (NATS, MQTT, Redis, PostgreSQL), as [`EventRecord`]s keyed on
    /// their identity; confirmed by the broker when the run finishes.
    Live(BrokerSink<EventRecord>),
}

/// Event counts, shared with whoever built the topology: the events written (committed).
#[derive(Debug, Default)]
pub struct EventCounts {
    /// Sensor alarms written.
    pub sensor_alarms: AtomicU64,
    /// Leaks written.
    pub leaks: AtomicU64,
    /// Readings the alarm bolt executed (replays included), added once per tuple by
    /// [`crate::sensor::AlarmBolt::counting`] when the topology was built with these counts.
    readings: Arc<AtomicU64>,
}

impl EventCounts {
    /// Readings the alarm bolt executed so far.
    pub fn readings(&self) -> u64 {
        self.readings.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The counter of readings executed, for the alarm bolt.
    pub(crate) fn readings_executed(&self) -> Arc<AtomicU64> {
        self.readings.clone()
    }
}

/// The sink's side of the outside world: the open output, the counts, and the last
/// checkpoint whose events were written. One per run, shared by every instance of the sink
/// (the factory clones the `Arc`), so it outlives a crashed instance.
#[derive(Debug, Clone)]
pub struct EventLog {
    output: EventOutput,
    counts: Arc<EventCounts>,
    inner: Arc<Mutex<LogInner>>,
}

struct LogInner {
    writer: Option<BufWriter<Box<dyn Write + Send>>>,
    /// A file output, staged until `finish` commits it.
    file: Option<BufWriter<StagedFile>>,
    /// The broker sink of a live output, started once.
    live: Option<BrokerSink<EventRecord>>,
    written: u64,
    /// The sink's numbering of its last checkpoint written (exactly-once): a restored
    /// instance skips the staged checkpoints up to it, which were written before the crash.
    committed: u64,
    /// At-least-once: the events written recently, so a replayed one is not written again.
    recent: Option<Recent>,
}

impl std::fmt::Debug for LogInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogInner")
            .field("written", &self.written)
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

impl EventLog {
    /// An unopened log writing to `output` and counting into `counts`.
    pub fn new(output: EventOutput, counts: Arc<EventCounts>) -> Self {
        EventLog {
            output,
            counts,
            inner: Arc::new(Mutex::new(LogInner {
                writer: None,
                file: None,
                live: None,
                written: 0,
                committed: 0,
                recent: None,
            })),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, LogInner>, ComponentError> {
        self.inner
            .lock()
            .map_err(|_| "the event log's lock is poisoned".into())
    }

    /// Opens the output, the first time only: a restarted sink must not truncate the file.
    fn open(&self) -> Result<(), ComponentError> {
        let mut inner = self.lock()?;
        if let EventOutput::Live(sink) = &self.output {
            if inner.live.is_none() {
                let mut sink = sink.clone();
                sink.start()?;
                inner.live = Some(sink);
            }
            return Ok(());
        }
        if inner.writer.is_some() || inner.file.is_some() {
            return Ok(());
        }
        match &self.output {
            EventOutput::File(path) => {
                inner.file = Some(BufWriter::new(StagedFile::create(path)?));
            }
            EventOutput::Stdout { .. } => {
                inner.writer = Some(BufWriter::new(Box::new(std::io::stdout())));
            }
            EventOutput::Discard | EventOutput::Live(_) => {
                inner.writer = Some(BufWriter::new(Box::new(std::io::sink())));
            }
        }
        Ok(())
    }

    /// At-least-once: from now on an event identical to a recent one is not written again.
    fn drop_repeats(&self) -> Result<(), ComponentError> {
        let mut inner = self.lock()?;
        inner.recent.get_or_insert_with(Recent::default);
        Ok(())
    }

    /// Writes and counts `events`.
    fn write(&self, events: &[Event]) -> Result<Written, ComponentError> {
        let mut written = Written::default();
        let mut inner = self.lock()?;
        let limit = match self.output {
            EventOutput::Stdout { limit } => limit,
            _ => None,
        };
        for event in events {
            if inner.recent.as_ref().is_some_and(|r| r.is_repeat(event)) {
                continue;
            }
            let (mine, shared) = match event {
                Event::SensorAlarm { .. } => (&mut written.alarms, &self.counts.sensor_alarms),
                Event::Leak { .. } => (&mut written.leaks, &self.counts.leaks),
            };
            *mine += 1;
            shared.fetch_add(1, Ordering::Relaxed);
            if let Some(live) = inner.live.as_mut() {
                live.write(&EventRecord::from(*event))?;
                inner.written += 1;
            } else if limit.is_none_or(|l| inner.written < l) {
                if let Some(w) = inner.writer.as_mut() {
                    writeln!(w, "{}", event.to_json())?;
                }
                if let Some(f) = inner.file.as_mut() {
                    writeln!(f, "{}", event.to_json())?;
                }
                inner.written += 1;
            }
            // Only once written: a write that failed is retried by the replay.
            if let Some(r) = inner.recent.as_mut() {
                r.remember(event);
            }
        }
        Ok(written)
    }

    /// Writes the events staged for checkpoint `epoch` unless they were written already.
    fn commit(&self, epoch: u64, events: &[Event]) -> Result<Written, ComponentError> {
        if epoch <= self.lock()?.committed {
            return Ok(Written::default());
        }
        let written = self.write(events)?;
        let mut inner = self.lock()?;
        inner.committed = epoch;
        drop(inner);
        self.flush()?;
        Ok(written)
    }

    /// The sink's numbering of the last checkpoint written.
    fn committed(&self) -> Result<u64, ComponentError> {
        Ok(self.lock()?.committed)
    }

    fn flush(&self) -> Result<(), ComponentError> {
        let mut inner = self.lock()?;
        if let Some(live) = inner.live.as_mut() {
            live.flush()?;
        }
        inner.writer.as_mut().map_or(Ok(()), Write::flush)?;
        inner.file.as_mut().map_or(Ok(()), Write::flush)?;
        Ok(())
    }

    /// The input has ended: renames a file output into place. Later writes (none are expected)
    /// would go nowhere.
    fn commit_file(&self) -> Result<(), ComponentError> {
        let mut inner = self.lock()?;
        if let Some(file) = inner.file.take() {
            inner.writer = Some(BufWriter::new(Box::new(std::io::sink())));
            file.into_inner().map_err(|e| e.into_error())?.commit()?;
        }
        Ok(())
    }

    /// Flushes, and stops a live output's connection (the run is over).
    fn close(&self) {
        let _ = self.flush();
        if let Ok(mut inner) = self.lock() {
            if let Some(mut live) = inner.live.take() {
                live.cleanup();
            }
        }
    }
}

/// Writes every [`Signal::Event`] as one JSON line. Run it as one task.
///
/// Exactly-once, it is transactional: events are staged; a checkpoint seals what was staged
/// since the last one (the sealed groups are the sink's state) and `commit` writes the oldest
/// sealed group, one per completed checkpoint, so nothing is written that a rollback could take
/// back; `finish` writes the rest. The sink numbers its checkpoints itself, and that numbering
/// is part of its state, so after a rollback the restored groups keep their numbers and the
/// shared [`EventLog`] skips those written before the crash. A commit is never ahead of a
/// completed checkpoint; when the runtime skips commits the writes only lag until `finish`.
///
/// At-least-once and at-most-once, it writes each event at once (a crash may lose the one in
/// flight under at-most-once). At-least-once, a replay brings events again: the log drops one
/// identical to a recent event it wrote (see `sensor::repeats`), so an event is written again
/// only when it is older than everything the log remembers for its sensor.
pub struct EventSink {
    log: EventLog,
    /// Exactly-once: stage and commit; otherwise write at once.
    transaction: Option<Transaction>,
    /// This task's counters of what it wrote ([`SENSOR_ALARMS`], [`LEAKS`]): the run's report
    /// sums them over every process a cluster ran the sink in.
    counters: (Counter, Counter),
}

/// The run report's counter of sensor alarms written (see [`EventSink`]).
pub const SENSOR_ALARMS: &str = "sensor alarms";
/// The run report's counter of leaks written (see [`EventSink`]).
pub const LEAKS: &str = "leaks";

/// Events one write wrote, by kind.
#[derive(Debug, Default, Clone, Copy)]
struct Written {
    alarms: u64,
    leaks: u64,
}

impl Written {
    fn add(&mut self, other: Written) {
        self.alarms += other.alarms;
        self.leaks += other.leaks;
    }
}

/// The staged and sealed events of a transactional sink.
#[derive(Debug, Default)]
struct Transaction {
    staged: Vec<Event>,
    sealed: Sealed,
    /// The highest checkpoint id committed by this instance: a repeated commit is ignored.
    last_commit: u64,
}

/// Sealed, unwritten groups of events and the sink's checkpoint numbering: the state.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Sealed {
    /// Checkpoints this sink has taken along the restored history.
    epoch: u64,
    groups: VecDeque<(u64, Vec<Event>)>,
}

impl Transaction {
    fn seal(&mut self) -> Result<State, ComponentError> {
        self.sealed.epoch += 1;
        let group = std::mem::take(&mut self.staged);
        self.sealed.groups.push_back((self.sealed.epoch, group));
        Ok(State::encode(&self.sealed)?)
    }

    fn restore(&mut self, state: &State, log: &EventLog) -> Result<(), ComponentError> {
        self.sealed = state.decode()?;
        self.staged.clear();
        let committed = log.committed()?;
        self.sealed.groups.retain(|&(epoch, _)| epoch > committed);
        Ok(())
    }

    fn commit(&mut self, checkpoint: u64, log: &EventLog) -> Result<Written, ComponentError> {
        if checkpoint <= self.last_commit {
            return Ok(Written::default());
        }
        self.last_commit = checkpoint;
        match self.sealed.groups.pop_front() {
            Some((epoch, events)) => log.commit(epoch, &events),
            None => Ok(Written::default()),
        }
    }

    fn finish(&mut self, log: &EventLog) -> Result<Written, ComponentError> {
        let mut written = Written::default();
        for (epoch, events) in std::mem::take(&mut self.sealed.groups) {
            written.add(log.commit(epoch, &events)?);
        }
        written.add(log.write(&std::mem::take(&mut self.staged))?);
        Ok(written)
    }
}

impl EventSink {
    /// A sink writing through `log`; give every instance a clone of the same log.
    pub fn new(log: EventLog) -> Self {
        EventSink {
            log,
            transaction: None,
            counters: Default::default(),
        }
    }

    /// Adds what a write wrote to this task's counters.
    fn count(&self, written: Result<Written, ComponentError>) -> Result<(), ComponentError> {
        let written = written?;
        self.counters.0.add(written.alarms);
        self.counters.1.add(written.leaks);
        Ok(())
    }
}

impl Bolt for EventSink {
    type Input = Signal;
    type Output = ();

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.transaction = (ctx.guarantee() == Guarantee::ExactlyOnce).then(Transaction::default);
        self.counters = (ctx.counter(SENSOR_ALARMS), ctx.counter(LEAKS));
        if ctx.guarantee() == Guarantee::AtLeastOnce {
            self.log.drop_repeats()?;
        }
        self.log.open()
    }

    fn execute(&mut self, s: Signal, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let Signal::Event(event) = s else {
            return Ok(());
        };
        match self.transaction.as_mut() {
            Some(tx) => {
                tx.staged.push(event);
                Ok(())
            }
            None => self.count(self.log.write(&[event])),
        }
    }

    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        self.transaction.as_mut().map(Transaction::seal).transpose()
    }

    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        match self.transaction.as_mut() {
            Some(tx) => tx.restore(&state, &self.log),
            None => Ok(()),
        }
    }

    fn commit(&mut self, checkpoint: u64) -> Result<(), ComponentError> {
        match self.transaction.as_mut() {
            Some(tx) => {
                let written = tx.commit(checkpoint, &self.log);
                self.count(written)
            }
            None => Ok(()),
        }
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if let Some(tx) = self.transaction.as_mut() {
            let written = tx.finish(&self.log);
            self.count(written)?;
        }
        self.log.flush()?;
        self.log.commit_file()
    }

    fn cleanup(&mut self) {
        self.log.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(seq: u64) -> Event {
        Event::SensorAlarm {
            sensor: 1,
            seq,
            consecutive: 4,
        }
    }

    /// What the log wrote so far, still under the staged file's temporary name.
    fn written(log: &EventLog) -> Vec<String> {
        log.flush().unwrap();
        let inner = log.lock().unwrap();
        let staged = inner.file.as_ref().unwrap().get_ref();
        std::fs::read_to_string(staged.temp_path())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn a_rollback_writes_each_event_once_and_nothing_uncommitted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let counts = Arc::new(EventCounts::default());
        let log = EventLog::new(EventOutput::File(path.clone()), counts.clone());
        log.open().unwrap();
        let mut tx = Transaction::default();
        tx.staged.extend([alarm(1), alarm(2)]);
        let _c1 = tx.seal().unwrap();
        tx.staged.push(alarm(3));
        let c2 = tx.seal().unwrap();
        tx.commit(1, &log).unwrap();
        tx.commit(1, &log).unwrap(); // repeated: ignored
        tx.commit(2, &log).unwrap();
        tx.staged.push(alarm(4));
        let _c3 = tx.seal().unwrap(); // never completes
        tx.staged.push(alarm(5));
        assert_eq!(
            written(&log).len(),
            3,
            "only committed checkpoints are written"
        );

        // A crash; the run rolls back to checkpoint 2, whose state still holds groups 1 and 2
        // (sealed before their commits). A fresh instance opens the same log: no truncation.
        log.open().unwrap();
        let mut fresh = Transaction::default();
        fresh.restore(&c2, &log).unwrap();
        assert!(
            fresh.sealed.groups.is_empty(),
            "both groups were written already"
        );
        // The rewound spouts bring events 4 and 5 again, barriers fall elsewhere this time.
        fresh.staged.push(alarm(4));
        let _ = fresh.seal().unwrap();
        fresh.staged.push(alarm(5));
        fresh.commit(3, &log).unwrap();
        fresh.finish(&log).unwrap();
        let expected: Vec<String> = (1..=5).map(|s| alarm(s).to_json()).collect();
        assert_eq!(written(&log), expected);
        log.commit_file().unwrap();
        let committed = std::fs::read_to_string(&path).unwrap();
        assert_eq!(committed.lines().collect::<Vec<_>>(), expected);
        assert_eq!(counts.sensor_alarms.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn a_rollback_before_a_commit_ran_writes_the_restored_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let log = EventLog::new(EventOutput::File(path), Arc::default());
        log.open().unwrap();
        let mut tx = Transaction::default();
        tx.staged.push(alarm(1));
        let c1 = tx.seal().unwrap();
        tx.staged.push(alarm(2));
        // Checkpoint 1 completed, but the crash came before its commit reached the sink.
        let mut fresh = Transaction::default();
        fresh.restore(&c1, &log).unwrap();
        fresh.commit(1, &log).unwrap();
        fresh.staged.push(alarm(2));
        fresh.finish(&log).unwrap();
        assert_eq!(written(&log), [alarm(1).to_json(), alarm(2).to_json()]);
    }
}
