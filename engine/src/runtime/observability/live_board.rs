//! Per-task counters, gauges and latency of a running topology, published for watchers (the
//! web UI) through [`LiveCounters::snapshot`].
//!
//! # Cost
//!
//! Each task owns one slot and is its only writer: relaxed atomic adds and stores once per
//! batch, and a histogram merge under the slot's own (uncontended) lock at most about once a
//! second. A watcher takes every lock briefly when it builds a snapshot; it never blocks a task
//! for longer than a histogram copy, and a watcher that never comes costs nothing more.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::live::LiveCounters;
use super::run_report::DeadLetter;
use super::stats::new_histogram;
use crate::{Guarantee, TopologyGraph};

/// Dead letters a run keeps for watchers (the report keeps its own).
const DEAD_LETTERS_SHOWN: usize = 1_000;
/// Capacity is kept in millionths.
const PPM: f64 = 1_000_000.0;

/// One task's live numbers, written by the task alone.
pub(crate) struct TaskSlot {
    component: Arc<str>,
    emitted: AtomicU64,
    executed: AtomicU64,
    acked: AtomicU64,
    failed: AtomicU64,
    replayed: AtomicU64,
    restarts: AtomicU64,
    queue_depth: AtomicU64,
    capacity_ppm: AtomicU64,
    /// End-to-end latency of the trees that ended in this task, in nanoseconds.
    latency: Mutex<Histogram<u64>>,
    /// Execute time per tuple, in nanoseconds (bolts).
    execute: Mutex<Histogram<u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held (plain data copies), so a poisoned lock still
    // holds consistent data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TaskSlot {
    pub(crate) fn add_emitted(&self, n: u64) {
        self.emitted.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_executed(&self, n: u64) {
        self.executed.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_outcomes(&self, acked: u64, failed: u64, replayed: u64, restarts: u64) {
        for (counter, n) in [
            (&self.acked, acked),
            (&self.failed, failed),
            (&self.replayed, replayed),
            (&self.restarts, restarts),
        ] {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn set_queue_depth(&self, batches: usize) {
        self.queue_depth.store(batches as u64, Ordering::Relaxed);
    }

    pub(crate) fn set_capacity(&self, busy_fraction: f64) {
        let ppm = (busy_fraction.clamp(0.0, 1.0) * PPM) as u64;
        self.capacity_ppm.store(ppm, Ordering::Relaxed);
    }

    /// Adds end-to-end latency samples (a second's worth).
    pub(crate) fn add_latency(&self, samples: &Histogram<u64>) {
        let _ = lock(&self.latency).add(samples);
    }

    /// Replaces the execute-time histogram with the task's running total.
    pub(crate) fn set_execute(&self, total: &Histogram<u64>) {
        let mut h = lock(&self.execute);
        h.reset();
        let _ = h.add(total);
    }
}

/// What is known of the run being watched.
struct RunInfo {
    graph: TopologyGraph,
    guarantee: Guarantee,
    started: Instant,
}

/// The slots of a run's tasks and what watchers see besides the totals.
#[derive(Default)]
pub(crate) struct Board {
    run: Mutex<Option<RunInfo>>,
    tasks: Mutex<Vec<Arc<TaskSlot>>>,
    dead_letters: Mutex<Vec<DeadLetter>>,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("tasks", &lock(&self.tasks).len())
            .finish_non_exhaustive()
    }
}

impl Board {
    /// A run of `graph` starts: slots and dead letters of an earlier run are forgotten.
    pub(crate) fn begin(&self, graph: TopologyGraph, guarantee: Guarantee) {
        lock(&self.tasks).clear();
        lock(&self.dead_letters).clear();
        *lock(&self.run) = Some(RunInfo {
            graph,
            guarantee,
            started: Instant::now(),
        });
    }

    /// A slot for a task of `component`.
    pub(crate) fn register(&self, component: &Arc<str>) -> Arc<TaskSlot> {
        let slot = Arc::new(TaskSlot {
            component: component.clone(),
            emitted: AtomicU64::new(0),
            executed: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            queue_depth: AtomicU64::new(0),
            capacity_ppm: AtomicU64::new(0),
            latency: Mutex::new(new_histogram()),
            execute: Mutex::new(new_histogram()),
        });
        lock(&self.tasks).push(slot.clone());
        slot
    }

    pub(crate) fn add_dead_letters(&self, letters: &[DeadLetter]) {
        let mut kept = lock(&self.dead_letters);
        let room = DEAD_LETTERS_SHOWN.saturating_sub(kept.len());
        kept.extend(letters.iter().take(room).cloned());
    }
}

/// One component's live numbers, summed over its tasks.
#[derive(Debug, Clone)]
pub struct LiveComponent {
    /// The component's id.
    pub id: String,
    /// True for a spout.
    pub spout: bool,
    /// Its tasks.
    pub parallelism: usize,
    /// Tuples emitted so far.
    pub emitted: u64,
    /// Tuples executed so far (bolts).
    pub executed: u64,
    /// Tuple trees completed (spouts, at-least-once).
    pub acked: u64,
    /// Tuples failed.
    pub failed: u64,
    /// Tuples emitted again because of a failure.
    pub replayed: u64,
    /// Task restarts.
    pub restarts: u64,
    /// The busiest task's share of the last second spent executing, 0 to 1 (bolts).
    pub capacity: f64,
    /// Batches waiting in the tasks' inboxes, summed over the tasks (bolts).
    pub queue_depth: u64,
    /// Execute time per tuple (per-batch means), in nanoseconds, merged over the tasks.
    pub execute_latency: Histogram<u64>,
}

/// What a watcher sees of a running topology at one moment.
#[derive(Debug, Clone)]
pub struct LiveSnapshot {
    /// The topology's components and edges.
    pub graph: TopologyGraph,
    /// The run's guarantee.
    pub guarantee: Guarantee,
    /// Time since the run started.
    pub uptime: Duration,
    /// Per component, in the graph's order.
    pub components: Vec<LiveComponent>,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// Rollbacks of the whole topology.
    pub rollbacks: u64,
    /// End-to-end latency in nanoseconds so far, merged over the tasks; a task publishes
    /// each second's samples when the next second starts, so it lags by about a second.
    pub latency: Histogram<u64>,
    /// Tuples given up on so far (the first thousand).
    pub dead_letters: Vec<DeadLetter>,
}

impl LiveCounters {
    /// The run's numbers now, or `None` before a run started with these counters in its
    /// [`crate::Config::live`].
    ///
    /// ```
    /// let live = squall::LiveCounters::default();
    /// assert!(live.snapshot().is_none());
    /// ```
    pub fn snapshot(&self) -> Option<LiveSnapshot> {
        let board = self.board();
        let (graph, guarantee, uptime) = {
            let run = lock(&board.run);
            let info = run.as_ref()?;
            (info.graph.clone(), info.guarantee, info.started.elapsed())
        };
        let mut components: Vec<LiveComponent> = graph
            .components
            .iter()
            .map(|c| LiveComponent {
                id: c.id.clone(),
                spout: c.spout,
                parallelism: c.parallelism,
                emitted: 0,
                executed: 0,
                acked: 0,
                failed: 0,
                replayed: 0,
                restarts: 0,
                capacity: 0.0,
                queue_depth: 0,
                execute_latency: new_histogram(),
            })
            .collect();
        let mut latency = new_histogram();
        let tasks: Vec<_> = lock(&board.tasks).clone();
        for slot in tasks {
            let _ = latency.add(&*lock(&slot.latency));
            let Some(c) = components.iter_mut().find(|c| *c.id == *slot.component) else {
                continue;
            };
            let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
            c.emitted += load(&slot.emitted);
            c.executed += load(&slot.executed);
            c.acked += load(&slot.acked);
            c.failed += load(&slot.failed);
            c.replayed += load(&slot.replayed);
            c.restarts += load(&slot.restarts);
            c.queue_depth += load(&slot.queue_depth);
            c.capacity = c.capacity.max(load(&slot.capacity_ppm) as f64 / PPM);
            let _ = c.execute_latency.add(&*lock(&slot.execute));
        }
        Some(LiveSnapshot {
            graph,
            guarantee,
            uptime,
            components,
            checkpoints: self.checkpoints(),
            rollbacks: self.rollbacks(),
            latency,
            dead_letters: lock(&board.dead_letters).clone(),
        })
    }
}
