//! The controller's commands and the tasks' events as they cross a process boundary:
//! MessagePack forms of `Control` and `TaskEvent`, and the conversions.
//!
//! Instants become nanoseconds since the deployment's epoch (the same in every process), hook
//! names strings, and a task's fatal error its sentence.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::report::Timeline;
use crate::runtime::control::checkpoint::StoredRecord;
use crate::runtime::observability::stats::{new_histogram, TaskEvent, TaskStats};
use crate::runtime::DeadLetter;
use crate::transport::message::{Control, Restart};
use crate::RunError;

/// A [`Control`] on the wire.
#[derive(Serialize, Deserialize)]
pub(crate) enum ControlForm {
    Drain,
    Checkpoint(u64),
    Savepoint(u64),
    Committed(u64),
    Restart {
        gen: u64,
        fresh: bool,
        rollback: bool,
        checkpoint: Option<u64>,
        record: Option<StoredRecord>,
        restarts: u32,
    },
}

impl From<&Control> for ControlForm {
    fn from(c: &Control) -> Self {
        match c {
            Control::Drain => ControlForm::Drain,
            Control::Checkpoint(id) => ControlForm::Checkpoint(*id),
            Control::Savepoint(id) => ControlForm::Savepoint(*id),
            Control::Committed(id) => ControlForm::Committed(*id),
            Control::Restart(r) => ControlForm::Restart {
                gen: r.gen,
                fresh: r.fresh,
                rollback: r.rollback,
                checkpoint: r.checkpoint,
                record: r.record.as_ref().map(StoredRecord::from),
                restarts: r.restarts,
            },
        }
    }
}

impl From<ControlForm> for Control {
    fn from(c: ControlForm) -> Self {
        match c {
            ControlForm::Drain => Control::Drain,
            ControlForm::Checkpoint(id) => Control::Checkpoint(id),
            ControlForm::Savepoint(id) => Control::Savepoint(id),
            ControlForm::Committed(id) => Control::Committed(id),
            ControlForm::Restart {
                gen,
                fresh,
                rollback,
                checkpoint,
                record,
                restarts,
            } => Control::Restart(Restart {
                gen,
                fresh,
                rollback,
                checkpoint,
                record: record.map(Into::into),
                restarts,
            }),
        }
    }
}

/// A histogram as (value, count) pairs: exact, and small for the few distinct values a
/// 3-digit histogram holds.
type Counts = Vec<(u64, u64)>;

fn counts(h: &Histogram<u64>) -> Counts {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

fn histogram(counts: &Counts) -> Histogram<u64> {
    let mut h = new_histogram();
    for &(value, n) in counts {
        if h.record_n(value, n).is_err() {
            h.saturating_record_n(value, n);
        }
    }
    h
}

/// [`TaskStats`] on the wire.
#[derive(Serialize, Deserialize)]
pub(crate) struct StatsForm {
    emitted: u64,
    executed: u64,
    acked: u64,
    failed: u64,
    replayed: u64,
    started_ns: u64,
    ended_ns: u64,
    latency: Counts,
    execute: Counts,
    timeline: Vec<(u64, Counts)>,
    /// component, task, payload, error, attempts
    dead_letters: Vec<(String, usize, Vec<u8>, String, u32)>,
    /// name, count
    counters: Vec<(String, u64)>,
}

/// A [`TaskEvent`] on the wire (drain and stop requests never leave their process).
#[derive(Serialize, Deserialize)]
pub(crate) enum EventForm {
    Done {
        task: (usize, usize),
        gen: u64,
        stats: Box<StatsForm>,
        record: Option<StoredRecord>,
    },
    Crashed {
        task: (usize, usize),
        gen: u64,
        hook: String,
        message: String,
        local: bool,
    },
    Snapshot {
        task: (usize, usize),
        gen: u64,
        checkpoint: u64,
        record: StoredRecord,
    },
    AwaitingAcks,
    AwaitingCommit,
    Failed(String),
}

fn since(epoch: Instant, t: Instant) -> u64 {
    t.saturating_duration_since(epoch).as_nanos() as u64
}

impl EventForm {
    /// The form of `event`; `None` for the requests that stay in their process.
    pub(crate) fn of(event: &TaskEvent, epoch: Instant) -> Option<Self> {
        Some(match event {
            TaskEvent::Done {
                task,
                gen,
                stats,
                record,
            } => EventForm::Done {
                task: *task,
                gen: *gen,
                stats: Box::new(StatsForm {
                    emitted: stats.emitted,
                    executed: stats.executed,
                    acked: stats.acked,
                    failed: stats.failed,
                    replayed: stats.replayed,
                    started_ns: since(epoch, stats.started),
                    ended_ns: since(epoch, stats.ended),
                    latency: counts(&stats.latency),
                    execute: counts(&stats.execute),
                    timeline: stats
                        .timeline
                        .seconds()
                        .map(|(s, h)| (s, counts(h)))
                        .collect(),
                    dead_letters: stats
                        .dead_letters
                        .iter()
                        .map(|d| {
                            let d = d.clone();
                            (d.component, d.task, d.payload, d.error, d.attempts)
                        })
                        .collect(),
                    counters: stats.counters.clone(),
                }),
                record: record.as_ref().map(StoredRecord::from),
            },
            TaskEvent::Crashed {
                task,
                gen,
                hook,
                message,
                local,
            } => EventForm::Crashed {
                task: *task,
                gen: *gen,
                hook: hook.to_string(),
                message: message.clone(),
                local: *local,
            },
            TaskEvent::Snapshot {
                task,
                gen,
                checkpoint,
                record,
            } => EventForm::Snapshot {
                task: *task,
                gen: *gen,
                checkpoint: *checkpoint,
                record: StoredRecord::from(record),
            },
            TaskEvent::AwaitingAcks => EventForm::AwaitingAcks,
            TaskEvent::AwaitingCommit => EventForm::AwaitingCommit,
            TaskEvent::Failed(e) => EventForm::Failed(e.to_string()),
            TaskEvent::Drain | TaskEvent::Stop | TaskEvent::Savepoint(_) => return None,
        })
    }

    /// The event again, its times against `epoch`.
    pub(crate) fn into_event(self, epoch: Instant) -> TaskEvent {
        let at = |ns: u64| epoch + Duration::from_nanos(ns);
        match self {
            EventForm::Done {
                task,
                gen,
                stats,
                record,
            } => {
                let mut timeline = Timeline::new();
                for (second, c) in &stats.timeline {
                    timeline.add_histogram(*second, &histogram(c));
                }
                TaskEvent::Done {
                    task,
                    gen,
                    stats: Box::new(TaskStats {
                        emitted: stats.emitted,
                        executed: stats.executed,
                        acked: stats.acked,
                        failed: stats.failed,
                        replayed: stats.replayed,
                        started: at(stats.started_ns),
                        ended: at(stats.ended_ns),
                        latency: histogram(&stats.latency),
                        execute: histogram(&stats.execute),
                        timeline,
                        dead_letters: stats
                            .dead_letters
                            .into_iter()
                            .map(|(component, task, payload, error, attempts)| DeadLetter {
                                component,
                                task,
                                payload,
                                error,
                                attempts,
                            })
                            .collect(),
                        counters: stats.counters,
                    }),
                    record: record.map(Into::into),
                }
            }
            EventForm::Crashed {
                task,
                gen,
                hook,
                message,
                local,
            } => TaskEvent::Crashed {
                task,
                gen,
                hook: hook_name(&hook),
                message,
                local,
            },
            EventForm::Snapshot {
                task,
                gen,
                checkpoint,
                record,
            } => TaskEvent::Snapshot {
                task,
                gen,
                checkpoint,
                record: record.into(),
            },
            EventForm::AwaitingAcks => TaskEvent::AwaitingAcks,
            EventForm::AwaitingCommit => TaskEvent::AwaitingCommit,
            EventForm::Failed(message) => TaskEvent::Failed(RunError::Runtime(message)),
        }
    }
}

/// The executors name hooks with static strings; a name from another process maps back to
/// the same one.
fn hook_name(name: &str) -> &'static str {
    const HOOKS: &[&str] = &[
        "ack",
        "cleanup",
        "close",
        "commit",
        "deactivate",
        "decode",
        "emit",
        "end_of_input",
        "execute",
        "fail",
        "finish",
        "next_tuple",
        "on_tick",
        "on_watermark",
        "open",
        "prepare",
        "restore",
        "snapshot",
    ];
    HOOKS.iter().copied().find(|h| *h == name).unwrap_or("hook")
}
