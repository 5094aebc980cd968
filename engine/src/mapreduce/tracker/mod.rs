//! The job tracker: attempt bookkeeping and commit arbitration, shared by the job's tasks.
//!
//! Why shared state and not tuples: a topology is a DAG, but Hadoop's application master is a
//! loop (tasks report back; the master reacts by retrying, speculating, killing). The report
//! edge would be a cycle, so it is this `Arc`'d tracker instead, one per job and in-process
//! only. Everything else moves as tuples: assignments from the scheduler spout to the map tasks
//! (direct grouping), committed map output from map to reduce tasks (direct grouping on the
//! partition), reduce commits to the job committer (global grouping). The one exception is a
//! backup reduce attempt, which runs on another partition's reduce task and so reads the
//! straggler's committed runs from here. Every method holds the lock briefly and never across
//! user code; the only I/O under it is the commit rename, which must be atomic with the "first
//! commit wins" decision.
//!
//! - `maps`: the scheduler's assignments, map commits, retries, map backups.
//! - `reduces`: reduce attempts, commits, retries, reduce backups.
//! - `status`: every task's attempts and progress, for a `JobWatch`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::layout::Layout;
use super::run_file::RunRef;
use super::{Counters, InputSplit, JobError, Settings};

mod maps;
mod reduces;
mod status;

pub(crate) use reduces::ReduceStart;

/// What the scheduler sends a map task slot: run this attempt of this split.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct MapAssignment {
    pub(crate) slot: usize,
    pub(crate) task: usize,
    pub(crate) attempt: u32,
    pub(crate) split: InputSplit,
    /// Fraction of the split after which the attempt is made to panic (failure injection).
    pub(crate) inject_at: Option<f64>,
}

/// How far a job has come, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Map tasks committed.
    pub maps_done: usize,
    /// Map tasks in the job.
    pub maps: usize,
    /// Reduce tasks committed.
    pub reduces_done: usize,
    /// Reduce tasks in the job.
    pub reduces: usize,
    /// Map attempts running now.
    pub running: usize,
    /// Failed attempts so far.
    pub failed: u64,
    /// Killed attempts so far.
    pub killed: u64,
}

struct Running {
    attempt: u32,
    started: Instant,
    kill: Arc<AtomicBool>,
}

#[derive(Default)]
struct TaskState {
    committed: bool,
    /// Attempts launched so far (the next attempt's number).
    launched: u32,
    failures: u32,
    last_failure: String,
    running: Vec<Running>,
    speculated: bool,
}

struct State {
    maps: Vec<TaskState>,
    reduces: Vec<TaskState>,
    /// Map tasks waiting for an attempt, in order.
    pending: VecDeque<usize>,
    /// Map task slots with nothing to run.
    idle_slots: Vec<usize>,
    /// How long each committed map task's winning attempt ran.
    map_durations: Vec<Duration>,
    map_speculated: usize,
    /// Committed runs by partition, for backup reduce attempts.
    reduce_runs: Vec<Vec<RunRef>>,
    /// How long each committed reduce task's winning attempt ran.
    reduce_durations: Vec<Duration>,
    reduce_speculated: usize,
    counters: Counters,
    fatal: Option<JobError>,
}

/// Outcome of a commit request.
pub(crate) enum Commit<T> {
    /// This attempt committed; here is its output where it now lives.
    Won(T),
    /// Another attempt of the task committed first; this one was discarded.
    Lost,
}

pub(crate) struct JobTracker {
    state: Mutex<State>,
    aborted: AtomicBool,
    pub(crate) settings: Settings,
    pub(crate) layout: Layout,
    splits: Vec<InputSplit>,
    /// Per map task, the bytes of its split its latest attempt has read (for watchers).
    map_read: Vec<AtomicU64>,
}

impl JobTracker {
    pub(crate) fn new(settings: Settings, layout: Layout, splits: Vec<InputSplit>) -> Self {
        let counters = Counters {
            map_tasks: splits.len() as u64,
            reduce_tasks: settings.reducers as u64,
            ..Counters::default()
        };
        let state = State {
            maps: (0..splits.len()).map(|_| TaskState::default()).collect(),
            reduces: (0..settings.reducers)
                .map(|_| TaskState::default())
                .collect(),
            pending: (0..splits.len()).collect(),
            idle_slots: (0..settings.mappers).rev().collect(),
            map_durations: Vec::new(),
            map_speculated: 0,
            reduce_runs: vec![Vec::new(); settings.reducers],
            reduce_durations: Vec::new(),
            reduce_speculated: 0,
            counters,
            fatal: None,
        };
        JobTracker {
            state: Mutex::new(state),
            aborted: AtomicBool::new(false),
            settings,
            layout,
            map_read: splits.iter().map(|_| AtomicU64::new(0)).collect(),
            splits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held (no user code runs under it), so a
        // poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True once the job failed: running attempts stop at their next record.
    pub(crate) fn aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed)
    }

    /// Fails the job with `error` (the first error wins) and tells every attempt to stop.
    pub(crate) fn abort(&self, error: JobError) -> JobError {
        let mut st = self.lock();
        self.aborted.store(true, Ordering::Relaxed);
        st.fatal.get_or_insert(error).clone()
    }

    pub(crate) fn take_fatal(&self) -> Option<JobError> {
        self.lock().fatal.take()
    }

    /// Counters of the committed attempts, and of failed and killed ones.
    pub(crate) fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    pub(crate) fn progress(&self) -> Progress {
        let st = self.lock();
        Progress {
            maps_done: st.maps.iter().filter(|t| t.committed).count(),
            maps: st.maps.len(),
            reduces_done: st.reduces.iter().filter(|t| t.committed).count(),
            reduces: st.reduces.len(),
            running: st.maps.iter().map(|t| t.running.len()).sum(),
            failed: st.counters.failed_attempts,
            killed: st.counters.killed_attempts,
        }
    }
}

/// The running task most worth a backup attempt, if speculation allows one: a task with one
/// attempt running, never backed up, that has run longer than `speculative_factor` times the
/// median of the committed tasks (and at least `speculative_min_runtime`).
fn straggler(
    s: &Settings,
    tasks: &[TaskState],
    durations: &[Duration],
    speculated: usize,
) -> Option<usize> {
    let cap = ((tasks.len() as f64 * s.speculative_cap) as usize).max(1);
    if !s.speculative || speculated >= cap || durations.is_empty() {
        return None;
    }
    let mut durations = durations.to_vec();
    durations.sort_unstable();
    let median = durations[durations.len() / 2];
    let threshold = median
        .mul_f64(s.speculative_factor)
        .max(s.speculative_min_runtime);
    tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.committed && !t.speculated && t.running.len() == 1)
        .filter_map(|(i, t)| Some((i, t.running.first()?.started.elapsed())))
        .filter(|&(_, ran)| ran > threshold)
        .max_by_key(|&(_, ran)| ran)
        .map(|(i, _)| i)
}
