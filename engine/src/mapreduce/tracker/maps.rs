//! The map side of the tracker: the scheduler's assignments, map commits, retries, backups.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{straggler, Commit, JobTracker, MapAssignment, Running};
use crate::mapreduce::inject;
use crate::mapreduce::layout;
use crate::mapreduce::run_file::RunRef;
use crate::mapreduce::{Counters, JobError};

impl JobTracker {
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
                let task = straggler(
                    &self.settings,
                    &st.maps,
                    &st.map_durations,
                    st.map_speculated,
                )?;
                st.maps[task].speculated = true;
                st.map_speculated += 1;
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
        st.map_durations.push(mine.started.elapsed());
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
        let moved: Vec<Vec<RunRef>> = moved;
        for (partition, runs) in moved.iter().enumerate() {
            if let Some(all) = st.reduce_runs.get_mut(partition) {
                all.extend(runs.iter().cloned());
            }
        }
        Ok(Commit::Won(moved))
    }

    /// A map attempt stopped because another committed first (or the job aborted).
    pub(crate) fn map_killed(&self, task: usize, attempt: u32) {
        layout::discard(&self.layout.map_attempt_dir(task, attempt));
        let mut st = self.lock();
        st.maps[task].running.retain(|r| r.attempt != attempt);
        st.counters.killed_attempts += 1;
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
}
