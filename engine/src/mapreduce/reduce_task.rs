//! The reduce bolt: task `p` is the reduce task of partition `p`. While the map phase runs it
//! gathers the committed runs of its partition (one tuple per committed map task); when its
//! input ends, every map task has committed, and it runs its attempts: merge the runs, call the
//! reducer on each key in order, write the attempt's file, commit it as `part-r-NNNNN`. A failed
//! attempt is retried with a fresh reducer, up to the job's maximum.
//!
//! Done with its own partition, a reduce task stays to help until every partition has
//! committed: it runs a backup attempt of a straggling one (speculative execution), whose runs
//! it reads from the tracker. The first attempt to commit wins; the other stops at its next key.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::inject;
use super::map_task::MapOutputs;
use super::merge::{premerge, Merge};
use super::run_file::RunRef;
use super::tracker::{Commit, JobTracker, ReduceStart};
use super::{Counters, ReduceOutput, Reducer};
use crate::{Bolt, BoltCollector, ComponentError, TaskContext};

/// How often a reduce task done with its own partition looks for a straggler to back up.
const BACKUP_POLL: Duration = Duration::from_millis(10);

/// A reduce task committed its part file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReduceDone {
    pub(crate) partition: usize,
}

pub(crate) struct ReduceBolt<R: Reducer> {
    pub(crate) tracker: Arc<JobTracker>,
    pub(crate) reducer: Arc<dyn Fn() -> R + Send + Sync>,
    pub(crate) partition: usize,
    pub(crate) runs: Vec<RunRef>,
}

/// How an attempt that did not fail ended.
enum Ended {
    Done(Counters),
    Killed,
}

impl<R: Reducer> ReduceBolt<R> {
    fn attempt(&self, partition: usize, runs: &[RunRef], a: &ReduceStart) -> Result<Ended, String> {
        let path = self
            .tracker
            .layout
            .reduce_attempt_file(partition, a.attempt);
        let passes = path.with_extension("passes");
        let body = || -> Result<Ended, String> {
            let total: u64 = runs.iter().map(|r| r.records).sum();
            let fail_after = a.inject_at.map(|f| (total as f64 * f) as u64);
            let runs =
                premerge::<R::Key, R::Value>(runs.to_vec(), &passes).map_err(|e| e.to_string())?;
            let mut merge = Merge::<R::Key, R::Value>::open(&runs).map_err(|e| e.to_string())?;
            let mut out = ReduceOutput::create(path).map_err(|e| e.to_string())?;
            let mut reducer = (self.reducer)();
            let mut groups = 0;
            while let Some(key) = merge.next_key().map_err(|e| e.to_string())? {
                if a.kill.load(Ordering::Relaxed) || self.tracker.aborted() {
                    return Ok(Ended::Killed);
                }
                if fail_after.is_some_and(|n| merge.values_read >= n) {
                    inject::fail_now();
                }
                groups += 1;
                reducer
                    .reduce(&key, merge.values(&key), &mut out)
                    .map_err(|e| format!("reduce returned an error: {e}"))?;
                merge.end_group(&key).map_err(|e| e.to_string())?;
            }
            if fail_after.is_some() {
                inject::fail_now();
            }
            let read = merge.values_read;
            let mut counters = out.finish().map_err(|e| e.to_string())?;
            counters.reduce_input_groups = groups;
            counters.reduce_input_records = read;
            Ok(Ended::Done(counters))
        };
        let result = match catch_unwind(AssertUnwindSafe(body)) {
            Ok(r) => r,
            Err(payload) => Err(inject::panic_message(payload.as_ref())),
        };
        super::layout::discard(&passes);
        result
    }

    /// Runs attempts of reduce task `partition` until one commits, another attempt is left to
    /// do it, or the task is out of attempts (an error).
    fn run_task(
        &self,
        partition: usize,
        runs: &[RunRef],
        out: &mut BoltCollector<'_, ReduceDone>,
    ) -> Result<(), ComponentError> {
        let t = &self.tracker;
        while let Some(a) = t.start_reduce(partition) {
            let why = match self.attempt(partition, runs, &a) {
                Ok(Ended::Killed) => {
                    t.reduce_killed(partition, a.attempt);
                    return Ok(());
                }
                Ok(Ended::Done(counters)) => match t.commit_reduce(partition, a.attempt, &counters)
                {
                    Ok(Commit::Won(())) => {
                        out.emit(ReduceDone { partition });
                        return Ok(());
                    }
                    Ok(Commit::Lost) => return Ok(()),
                    Err(e) => e.to_string(),
                },
                Err(why) => why,
            };
            if !t.reduce_failed(partition, a.attempt, why)? {
                return Ok(());
            }
        }
        Ok(())
    }
}

impl<R: Reducer> Bolt for ReduceBolt<R> {
    type Input = MapOutputs;
    type Output = ReduceDone;

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.partition = ctx.task_index();
        Ok(())
    }

    fn execute(
        &mut self,
        input: MapOutputs,
        _: &mut BoltCollector<'_, ReduceDone>,
    ) -> Result<(), ComponentError> {
        if input.partition != self.partition {
            return Err(format!(
                "reduce task {} received runs of partition {}",
                self.partition, input.partition
            )
            .into());
        }
        self.runs.extend(input.runs);
        Ok(())
    }

    fn finish(&mut self, out: &mut BoltCollector<'_, ReduceDone>) -> Result<(), ComponentError> {
        if self.tracker.aborted() {
            return Ok(());
        }
        // Runs in the order of their names (map task, then spill), so the order of each key's
        // values does not depend on which map task committed first.
        self.runs.sort_by(|a, b| a.path.cmp(&b.path));
        self.run_task(self.partition, &self.runs, out)?;
        if !self.tracker.settings.speculative {
            return Ok(());
        }
        while !self.tracker.reduces_done() {
            match self.tracker.reduce_backup() {
                Some((partition, mut runs)) => {
                    runs.sort_by(|a, b| a.path.cmp(&b.path));
                    self.run_task(partition, &runs, out)?;
                }
                None => std::thread::sleep(BACKUP_POLL),
            }
        }
        Ok(())
    }
}
