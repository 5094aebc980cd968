//! The reduce bolt: task `p` is the reduce task of partition `p`. While the map phase runs it
//! gathers the committed runs of its partition (one tuple per committed map task); when its
//! input ends, every map task has committed, and it runs its attempts: merge the runs, call the
//! reducer on each key in order, write the attempt's file, commit it as `part-r-NNNNN`. A failed
//! attempt is retried in place with a fresh reducer, up to the job's maximum.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::inject;
use super::map_task::MapOutputs;
use super::merge::{premerge, Merge};
use super::run_file::RunRef;
use super::tracker::{Commit, JobTracker};
use super::{Counters, JobError, ReduceOutput, Reducer};
use crate::{Bolt, BoltCollector, ComponentError, TaskContext};

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

impl<R: Reducer> ReduceBolt<R> {
    fn attempt(&self, attempt: u32, inject_at: Option<f64>) -> Result<Counters, String> {
        let path = self
            .tracker
            .layout
            .reduce_attempt_file(self.partition, attempt);
        let passes = path.with_extension("passes");
        let body = || -> Result<Counters, String> {
            let total: u64 = self.runs.iter().map(|r| r.records).sum();
            let fail_after = inject_at.map(|f| (total as f64 * f) as u64);
            let runs = premerge::<R::Key, R::Value>(self.runs.clone(), &passes)
                .map_err(|e| e.to_string())?;
            let mut merge = Merge::<R::Key, R::Value>::open(&runs).map_err(|e| e.to_string())?;
            let mut out = ReduceOutput::create(path).map_err(|e| e.to_string())?;
            let mut reducer = (self.reducer)();
            let mut groups = 0;
            while let Some(key) = merge.next_key().map_err(|e| e.to_string())? {
                if self.tracker.aborted() {
                    return Err("the job was aborted".into());
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
            Ok(counters)
        };
        let result = match catch_unwind(AssertUnwindSafe(body)) {
            Ok(r) => r,
            Err(payload) => Err(inject::panic_message(payload.as_ref())),
        };
        super::layout::discard(&passes);
        result
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
        loop {
            if self.tracker.aborted() {
                return Ok(());
            }
            let (attempt, inject_at) = self.tracker.start_reduce(self.partition);
            match self.attempt(attempt, inject_at) {
                Ok(counters) => {
                    let commit = self
                        .tracker
                        .commit_reduce(self.partition, attempt, &counters);
                    match commit {
                        Ok(Commit::Won(())) | Ok(Commit::Lost) => {
                            out.emit(ReduceDone {
                                partition: self.partition,
                            });
                            return Ok(());
                        }
                        Err(e) => self.retry_or_fail(attempt, e.to_string())?,
                    }
                }
                Err(why) => self.retry_or_fail(attempt, why)?,
            }
        }
    }
}

impl<R: Reducer> ReduceBolt<R> {
    fn retry_or_fail(&self, attempt: u32, why: String) -> Result<(), JobError> {
        self.tracker.reduce_failed(self.partition, attempt, why)
    }
}
