//! The reduce side of the tracker: reduce attempts, their commit, retries and backups.
//!
//! A reduce task's first attempt runs on the reduce bolt task of its partition, fed by tuples.
//! A reduce bolt task done with its own partition helps with the others: it runs a backup
//! attempt of a straggling partition, reading that partition's committed runs from here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{straggler, Commit, JobTracker, Running};
use crate::mapreduce::inject;
use crate::mapreduce::layout;
use crate::mapreduce::run_file::RunRef;
use crate::mapreduce::{Counters, JobError};

/// A reduce attempt about to run.
pub(crate) struct ReduceStart {
    pub(crate) attempt: u32,
    /// Fraction of the input after which the attempt is made to panic (failure injection).
    pub(crate) inject_at: Option<f64>,
    /// Set when another attempt of the task commits, or the job aborts.
    pub(crate) kill: Arc<AtomicBool>,
}

impl JobTracker {
    /// Starts an attempt of reduce task `partition`; `None` once the task has committed.
    pub(crate) fn start_reduce(&self, partition: usize) -> Option<ReduceStart> {
        let mut st = self.lock();
        let max = self.settings.max_attempts;
        let t = &mut st.reduces[partition];
        if t.committed {
            return None;
        }
        let attempt = t.launched;
        t.launched += 1;
        let inject_at = inject::decide(
            &self.settings,
            "reduce",
            partition,
            attempt,
            t.failures,
            max,
        );
        let kill = Arc::new(AtomicBool::new(false));
        t.running.push(Running {
            attempt,
            started: Instant::now(),
            kill: kill.clone(),
        });
        Some(ReduceStart {
            attempt,
            inject_at,
            kill,
        })
    }

    /// A reduce attempt finished: move its file to `part-r-NNNNN` unless another attempt of
    /// the task did first.
    pub(crate) fn commit_reduce(
        &self,
        partition: usize,
        attempt: u32,
        counters: &Counters,
    ) -> Result<Commit<()>, JobError> {
        let mut st = self.lock();
        let from = self.layout.reduce_attempt_file(partition, attempt);
        let t = &mut st.reduces[partition];
        let started = t
            .running
            .iter()
            .position(|r| r.attempt == attempt)
            .map(|i| t.running.swap_remove(i).started);
        if t.committed {
            st.counters.killed_attempts += 1;
            drop(st);
            layout::discard(&from);
            return Ok(Commit::Lost);
        }
        layout::rename(&from, &self.layout.part_file(partition))?;
        t.committed = true;
        for other in &t.running {
            other.kill.store(true, Ordering::Relaxed);
        }
        if let Some(started) = started {
            st.reduce_durations.push(started.elapsed());
        }
        st.counters.add_attempt(counters);
        Ok(Commit::Won(()))
    }

    /// A reduce attempt stopped because another committed first (or the job aborted).
    pub(crate) fn reduce_killed(&self, partition: usize, attempt: u32) {
        layout::discard(&self.layout.reduce_attempt_file(partition, attempt));
        let mut st = self.lock();
        st.reduces[partition]
            .running
            .retain(|r| r.attempt != attempt);
        st.counters.killed_attempts += 1;
    }

    /// A reduce attempt failed: `true` if the task needs another attempt now (no other attempt
    /// of it runs), or the job's error once the task is out of attempts.
    pub(crate) fn reduce_failed(
        &self,
        partition: usize,
        attempt: u32,
        why: String,
    ) -> Result<bool, JobError> {
        layout::discard(&self.layout.reduce_attempt_file(partition, attempt));
        let mut st = self.lock();
        st.counters.failed_attempts += 1;
        let t = &mut st.reduces[partition];
        t.running.retain(|r| r.attempt != attempt);
        t.failures += 1;
        t.last_failure = why;
        if t.committed || !t.running.is_empty() {
            return Ok(false);
        }
        if t.failures >= self.settings.max_attempts {
            let e = JobError::TaskFailed {
                task: format!("reduce task {partition}"),
                attempts: t.failures,
                last: t.last_failure.clone(),
            };
            drop(st);
            return Err(self.abort(e));
        }
        Ok(true)
    }

    /// A straggling reduce task worth a backup attempt, with its partition's committed runs.
    pub(crate) fn reduce_backup(&self) -> Option<(usize, Vec<RunRef>)> {
        let mut st = self.lock();
        let p = straggler(
            &self.settings,
            &st.reduces,
            &st.reduce_durations,
            st.reduce_speculated,
        )?;
        st.reduces[p].speculated = true;
        st.reduce_speculated += 1;
        st.counters.speculative_attempts += 1;
        Some((p, st.reduce_runs[p].clone()))
    }

    /// True when every reduce task committed, or the job failed.
    pub(crate) fn reduces_done(&self) -> bool {
        let st = self.lock();
        st.fatal.is_some() || st.reduces.iter().all(|t| t.committed)
    }
}
