//! The job tracker: attempt bookkeeping and commit arbitration, shared by the job's tasks.
//!
//! Why shared state and not tuples: a topology is a DAG, but Hadoop's application master is a
//! loop (tasks report back; the master reacts by retrying, speculating, killing). The report
//! edge would be a cycle, so it is this `Arc`'d tracker instead, one per job and in-process
//! only. Everything else moves as tuples: assignments from the scheduler spout to the map tasks
//! (direct grouping), committed map output from map to reduce tasks (direct grouping on the
//! partition), reduce commits to the job committer (global grouping). Every method holds the
//! lock briefly and never across user code or I/O except the commit rename, which must be
//! atomic with the "first commit wins" decision.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::inject;
use super::layout::{self, Layout};
use super::run_file::RunRef;
use super::{Counters, InputSplit, JobError, Settings};

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
    durations: Vec<Duration>,
    speculated: usize,
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
            durations: Vec::new(),
            speculated: 0,
            counters,
            fatal: None,
        };
        JobTracker {
            state: Mutex::new(state),
            aborted: AtomicBool::new(false),
            settings,
            layout,
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

    /// True when every map task committed, or the job failed: the scheduler is done.
    pub(crate) fn maps_done(&self) -> bool {
        let st = self.lock();
        st.fatal.is_some() || st.maps.iter().all(|t| t.committed)
    }

    /// The next attempt to launch on an idle slot: a pending task, else a backup of a
    /// straggler; `None` if there is nothing to launch or no idle slot.
    pub(crate) fn next_assignment(&self) -> Option<MapAssignment> {
        let mut st = self.lock();
        if st.fatal.is_some() || st.idle_slots.is_empty() {
            return None;
        }
        let task = match st.pending.pop_front() {
            Some(task) => task,
            None => {
                let task = self.straggler(&st)?;
                st.maps[task].speculated = true;
                st.speculated += 1;
                st.counters.speculative_attempts += 1;
                task
            }
        };
        let slot = st.idle_slots.pop()?;
        let max = self.settings.max_attempts;
        let t = &mut st.maps[task];
        let attempt = t.launched;
        t.launched += 1;
        let inject_at = inject::decide(&self.settings, "map", task, attempt, t.failures, max);
        t.running.push(Running {
            attempt,
            started: Instant::now(),
            kill: Arc::new(AtomicBool::new(false)),
        });
        Some(MapAssignment {
            slot,
            task,
            attempt,
            split: self.splits[task].clone(),
            inject_at,
        })
    }

    /// The running map task most worth a backup attempt, if speculation allows one.
    fn straggler(&self, st: &State) -> Option<usize> {
        let s = &self.settings;
        let cap = ((st.maps.len() as f64 * s.speculative_cap) as usize).max(1);
        if !s.speculative || st.speculated >= cap || st.durations.is_empty() {
            return None;
        }
        let mut durations = st.durations.clone();
        durations.sort_unstable();
        let median = durations[durations.len() / 2];
        let threshold = median
            .mul_f64(s.speculative_factor)
            .max(s.speculative_min_runtime);
        st.maps
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.committed && !t.speculated && t.running.len() == 1)
            .filter_map(|(i, t)| Some((i, t.running.first()?.started.elapsed())))
            .filter(|&(_, ran)| ran > threshold)
            .max_by_key(|&(_, ran)| ran)
            .map(|(i, _)| i)
    }

    /// The flag that tells a running map attempt to stop (set when another attempt of its task
    /// commits).
    pub(crate) fn kill_flag(&self, task: usize, attempt: u32) -> Arc<AtomicBool> {
        let st = self.lock();
        st.maps
            .get(task)
            .and_then(|t| t.running.iter().find(|r| r.attempt == attempt))
            .map_or_else(|| Arc::new(AtomicBool::new(true)), |r| r.kill.clone())
    }

    /// A map attempt finished: commit its output unless another attempt of the task did first.
    pub(crate) fn commit_map(
        &self,
        task: usize,
        attempt: u32,
        runs: Vec<Vec<RunRef>>,
        counters: &Counters,
    ) -> Result<Commit<Vec<Vec<RunRef>>>, JobError> {
        let mut st = self.lock();
        let from = self.layout.map_attempt_dir(task, attempt);
        let t = &mut st.maps[task];
        let Some(pos) = t.running.iter().position(|r| r.attempt == attempt) else {
            return Ok(Commit::Lost);
        };
        let mine = t.running.swap_remove(pos);
        if t.committed {
            drop(st);
            layout::discard(&from);
            return Ok(Commit::Lost);
        }
        let to = self.layout.map_output_dir(task);
        layout::rename(&from, &to)?;
        t.committed = true;
        for other in &t.running {
            other.kill.store(true, Ordering::Relaxed);
        }
        st.durations.push(mine.started.elapsed());
        st.counters.add_attempt(counters);
        let moved = runs
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|r| RunRef {
                        path: r
                            .path
                            .file_name()
                            .map_or_else(|| to.clone(), |n| to.join(n)),
                        records: r.records,
                    })
                    .collect()
            })
            .collect();
        Ok(Commit::Won(moved))
    }

    /// A map attempt stopped because another committed first (or the job aborted).
    pub(crate) fn map_killed(&self, task: usize, attempt: u32) {
        let mut st = self.lock();
        st.maps[task].running.retain(|r| r.attempt != attempt);
        st.counters.killed_attempts += 1;
        layout::discard(&self.layout.map_attempt_dir(task, attempt));
    }

    /// A map attempt failed: retry its task, or fail the job once the task is out of attempts.
    pub(crate) fn map_failed(
        &self,
        task: usize,
        attempt: u32,
        why: String,
    ) -> Result<(), JobError> {
        layout::discard(&self.layout.map_attempt_dir(task, attempt));
        let mut st = self.lock();
        st.counters.failed_attempts += 1;
        let t = &mut st.maps[task];
        t.running.retain(|r| r.attempt != attempt);
        t.failures += 1;
        t.last_failure = why;
        if t.committed || !t.running.is_empty() {
            return Ok(());
        }
        if t.failures >= self.settings.max_attempts {
            let e = JobError::TaskFailed {
                task: format!("map task {task} ({})", self.splits[task].path.display()),
                attempts: t.failures,
                last: t.last_failure.clone(),
            };
            drop(st);
            return Err(self.abort(e));
        }
        st.pending.push_back(task);
        Ok(())
    }

    /// A map slot finished its attempt and can take another.
    pub(crate) fn release_slot(&self, slot: usize) {
        self.lock().idle_slots.push(slot);
    }

    /// The next attempt of reduce task `partition`: its number and injected failure point.
    pub(crate) fn start_reduce(&self, partition: usize) -> (u32, Option<f64>) {
        let mut st = self.lock();
        let t = &mut st.reduces[partition];
        let attempt = t.launched;
        t.launched += 1;
        let max = self.settings.max_attempts;
        let inject = inject::decide(
            &self.settings,
            "reduce",
            partition,
            attempt,
            t.failures,
            max,
        );
        (attempt, inject)
    }

    /// A reduce attempt finished: move its file to `part-r-NNNNN` unless one is there.
    pub(crate) fn commit_reduce(
        &self,
        partition: usize,
        attempt: u32,
        counters: &Counters,
    ) -> Result<Commit<()>, JobError> {
        let mut st = self.lock();
        let from = self.layout.reduce_attempt_file(partition, attempt);
        if st.reduces[partition].committed {
            st.counters.killed_attempts += 1;
            drop(st);
            layout::discard(&from);
            return Ok(Commit::Lost);
        }
        layout::rename(&from, &self.layout.part_file(partition))?;
        st.reduces[partition].committed = true;
        st.counters.add_attempt(counters);
        Ok(Commit::Won(()))
    }

    /// A reduce attempt failed: true to retry, or the job's error once out of attempts.
    pub(crate) fn reduce_failed(
        &self,
        partition: usize,
        attempt: u32,
        why: String,
    ) -> Result<(), JobError> {
        layout::discard(&self.layout.reduce_attempt_file(partition, attempt));
        let mut st = self.lock();
        st.counters.failed_attempts += 1;
        let t = &mut st.reduces[partition];
        t.failures += 1;
        t.last_failure = why;
        if t.failures >= self.settings.max_attempts {
            let e = JobError::TaskFailed {
                task: format!("reduce task {partition}"),
                attempts: t.failures,
                last: t.last_failure.clone(),
            };
            drop(st);
            return Err(self.abort(e));
        }
        Ok(())
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
