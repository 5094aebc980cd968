//! The sensor pipeline's sink: events as JSON Lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use squall::{Bolt, BoltCollector, ComponentError, TaskContext};
use squall_connectors::broker::BrokerSink;

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
    /// JSON Lines in a file (created or truncated).
    File(PathBuf),
    /// Nowhere: count only (benchmarks).
    Discard,
    /// A broker or database (NATS, MQTT, Redis, PostgreSQL), as [`EventRecord`]s keyed on
    /// their identity; confirmed by the broker when the run finishes.
    Live(BrokerSink<EventRecord>),
}

/// Event counts, shared with whoever built the topology.
#[derive(Debug, Default)]
pub struct EventCounts {
    /// Sensor alarms seen.
    pub sensor_alarms: AtomicU64,
    /// Leaks seen.
    pub leaks: AtomicU64,
}

/// Writes every [`Signal::Event`] as one JSON line. Run it as one task.
pub struct EventSink {
    output: EventOutput,
    counts: Arc<EventCounts>,
    writer: Option<BufWriter<Box<dyn Write>>>,
    written: u64,
}

impl EventSink {
    /// A sink writing to `output` and counting into `counts`.
    pub fn new(output: EventOutput, counts: Arc<EventCounts>) -> Self {
        EventSink {
            output,
            counts,
            writer: None,
            written: 0,
        }
    }

    fn flush(&mut self) -> Result<(), ComponentError> {
        if let EventOutput::Live(live) = &mut self.output {
            live.flush()?;
        }
        if let Some(w) = self.writer.as_mut() {
            w.flush()?;
        }
        Ok(())
    }
}

impl Bolt for EventSink {
    type Input = Signal;
    type Output = ();

    fn prepare(&mut self, _: &TaskContext) -> Result<(), ComponentError> {
        let sink: Box<dyn Write> = match &mut self.output {
            EventOutput::Live(live) => {
                live.start()?;
                return Ok(());
            }
            EventOutput::Stdout { .. } => Box::new(std::io::stdout()),
            EventOutput::File(path) => Box::new(
                File::create(&*path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
            ),
            EventOutput::Discard => Box::new(std::io::sink()),
        };
        self.writer = Some(BufWriter::new(sink));
        Ok(())
    }

    fn execute(&mut self, s: Signal, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let Signal::Event(event) = s else {
            return Ok(());
        };
        match event {
            Event::SensorAlarm { .. } => self.counts.sensor_alarms.fetch_add(1, Ordering::Relaxed),
            Event::Leak { .. } => self.counts.leaks.fetch_add(1, Ordering::Relaxed),
        };
        let limit = match &mut self.output {
            EventOutput::Stdout { limit } => *limit,
            EventOutput::Live(live) => return Ok(live.write(&EventRecord::from(event))?),
            _ => None,
        };
        if limit.is_none_or(|l| self.written < l) {
            if let Some(w) = self.writer.as_mut() {
                writeln!(w, "{}", event.to_json())?;
                self.written += 1;
            }
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.flush()
    }

    fn cleanup(&mut self) {
        let _ = self.flush();
        if let EventOutput::Live(live) = &mut self.output {
            live.cleanup();
        }
    }
}
