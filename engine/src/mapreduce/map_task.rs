//! The map bolt: each task is a map slot that runs one attempt at a time, as the scheduler
//! assigns them. An attempt reads its split, calls the mapper on every line, buffers, combines
//! and spills sorted runs into its attempt directory, and commits; only a committed attempt's
//! runs are announced to the reduce tasks, one tuple per partition (direct grouping).
//!
//! An attempt runs inside one `execute` call, so it occupies its worker thread as a Hadoop map
//! task occupies its container; the job gives every task its own worker so a long attempt never
//! delays the scheduler or a peer.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::inject;
use super::run_file::RunRef;
use super::sort_buffer::SortBuffer;
use super::split::SplitReader;
use super::tracker::{Commit, JobTracker, MapAssignment};
use super::{Combiner, Counters, JobError, MapOutput, Mapper, Partitioner, Record};
use crate::{Bolt, BoltCollector, ComponentError};

/// Builds a combiner for each attempt.
pub(crate) type CombinerFactory<K, V> = Arc<dyn Fn() -> Box<dyn Combiner<K, V>> + Send + Sync>;

/// Committed map output of one partition, sent to the reduce task of that partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MapOutputs {
    pub(crate) partition: usize,
    pub(crate) runs: Vec<RunRef>,
}

/// How an attempt ended without output.
enum Failure {
    /// Not worth retrying: fails the job.
    Fatal(JobError),
    /// A panic or an error: retry the task.
    Retry(String),
}

/// A map attempt tells the tracker how far it read every this many records.
const PROGRESS_EVERY: u64 = 4096;

pub(crate) struct MapBolt<M: Mapper> {
    pub(crate) tracker: Arc<JobTracker>,
    pub(crate) mapper: Arc<dyn Fn() -> M + Send + Sync>,
    pub(crate) combiner: Option<CombinerFactory<M::Key, M::Value>>,
    pub(crate) partitioner: Arc<dyn Partitioner<M::Key>>,
}

type Output = (Vec<Vec<RunRef>>, Counters);

impl<M: Mapper> MapBolt<M> {
    /// Runs one attempt; `Ok(None)` if it was killed.
    fn run_attempt(&self, a: &MapAssignment, kill: &AtomicBool) -> Result<Option<Output>, Failure> {
        let dir = self.tracker.layout.map_attempt_dir(a.task, a.attempt);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::Retry(JobError::io("create", &dir, e).to_string()))?;
        let body = || self.attempt_body(a, kill, dir);
        match catch_unwind(AssertUnwindSafe(body)) {
            Ok(result) => result,
            Err(payload) => Err(Failure::Retry(inject::panic_message(payload.as_ref()))),
        }
    }

    fn attempt_body(
        &self,
        a: &MapAssignment,
        kill: &AtomicBool,
        dir: std::path::PathBuf,
    ) -> Result<Option<Output>, Failure> {
        let settings = &self.tracker.settings;
        let retry = |e: JobError| {
            if e.is_fatal_input() {
                Failure::Fatal(e)
            } else {
                Failure::Retry(e.to_string())
            }
        };
        let user = |hook: &str, e: ComponentError| {
            Failure::Retry(format!("{hook} returned an error: {e}"))
        };
        let mut mapper = (self.mapper)();
        let mut buffer = SortBuffer::new(
            dir,
            settings.sort_buffer_bytes,
            settings.reducers,
            self.partitioner.clone(),
            self.combiner.as_ref().map(|f| f()),
        );
        let split = &a.split;
        let mut inject_at = a
            .inject_at
            .map(|f| split.start + ((split.end - split.start) as f64 * f) as u64);
        let mut reader = SplitReader::open(split).map_err(retry)?;
        loop {
            if kill.load(Ordering::Relaxed) || self.tracker.aborted() {
                return Ok(None);
            }
            if inject_at.is_some_and(|at| reader.position() >= at) {
                inject::fail_now();
            }
            if buffer.counters.map_input_records % PROGRESS_EVERY == 0 {
                let read = reader.position().saturating_sub(split.start);
                self.tracker.map_read(a.task, read);
            }
            let Some((offset, line)) = reader.next_line().map_err(retry)? else {
                break;
            };
            buffer.counters.map_input_records += 1;
            let record = Record {
                path: &split.path,
                offset,
                line,
            };
            let mut out = MapOutput {
                buffer: &mut buffer,
            };
            mapper.map(record, &mut out).map_err(|e| user("map", e))?;
        }
        self.tracker
            .map_read(a.task, reader.position().saturating_sub(split.start));
        if inject_at.take().is_some() {
            // The split ended before the chosen point: fail at its end instead.
            inject::fail_now();
        }
        let mut out = MapOutput {
            buffer: &mut buffer,
        };
        mapper.cleanup(&mut out).map_err(|e| user("cleanup", e))?;
        buffer.finish().map(Some).map_err(retry)
    }

    /// Commits or discards the attempt's output and tells the tracker; announces committed
    /// runs to the reduce tasks.
    fn settle(
        &self,
        a: &MapAssignment,
        result: Result<Option<Output>, Failure>,
        out: &mut BoltCollector<'_, MapOutputs>,
    ) -> Result<(), ComponentError> {
        let t = &self.tracker;
        match result {
            Ok(Some((runs, counters))) => match t.commit_map(a.task, a.attempt, runs, &counters) {
                Ok(Commit::Won(runs)) => {
                    for (partition, runs) in runs.into_iter().enumerate() {
                        if !runs.is_empty() {
                            out.emit_direct(partition, MapOutputs { partition, runs })?;
                        }
                    }
                    Ok(())
                }
                Ok(Commit::Lost) => {
                    t.map_killed(a.task, a.attempt);
                    Ok(())
                }
                Err(e) => Ok(t.map_failed(a.task, a.attempt, e.to_string())?),
            },
            Ok(None) => {
                t.map_killed(a.task, a.attempt);
                Ok(())
            }
            Err(Failure::Retry(why)) => Ok(t.map_failed(a.task, a.attempt, why)?),
            Err(Failure::Fatal(e)) => Err(t.abort(e).into()),
        }
    }
}

impl<M: Mapper> Bolt for MapBolt<M> {
    type Input = MapAssignment;
    type Output = MapOutputs;

    fn execute(
        &mut self,
        a: MapAssignment,
        out: &mut BoltCollector<'_, MapOutputs>,
    ) -> Result<(), ComponentError> {
        let kill = self.tracker.kill_flag(a.task, a.attempt);
        let result = self.run_attempt(&a, &kill);
        let settled = self.settle(&a, result, out);
        self.tracker.release_slot(a.slot);
        settled
    }
}
