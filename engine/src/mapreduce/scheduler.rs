//! The job's two ends as components: the scheduler spout that hands map attempts to idle map
//! slots, and the committer bolt that commits the job once every reduce task has.

use std::sync::Arc;

use super::reduce_task::ReduceDone;
use super::tracker::{JobTracker, MapAssignment};
use crate::{Bolt, BoltCollector, ComponentError, Spout, SpoutCollector};

/// Emits map attempts, each to the map slot the tracker chose (direct grouping): first every
/// split, then retries of failed attempts and backups of stragglers, as slots come free.
/// Finished once every map task has committed (or the job failed), which ends the map tasks'
/// input and so, in turn, starts the reduce tasks.
pub(crate) struct Scheduler {
    pub(crate) tracker: Arc<JobTracker>,
    pub(crate) finished: bool,
}

impl Spout for Scheduler {
    type Output = MapAssignment;

    fn next_tuple(
        &mut self,
        out: &mut SpoutCollector<'_, MapAssignment>,
    ) -> Result<(), ComponentError> {
        while let Some(a) = self.tracker.next_assignment() {
            out.emit_direct(a.slot, a)?;
        }
        self.finished = self.tracker.maps_done();
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Commits the job (Hadoop's `commitJob`): once every reduce task reported its part file, the
/// temporary area is removed and `_SUCCESS` written, last.
pub(crate) struct Committer {
    pub(crate) tracker: Arc<JobTracker>,
    pub(crate) done: Vec<bool>,
}

impl Bolt for Committer {
    type Input = ReduceDone;
    type Output = ();

    fn execute(
        &mut self,
        r: ReduceDone,
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        if let Some(slot) = self.done.get_mut(r.partition) {
            *slot = true;
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if self.tracker.aborted() {
            return Ok(());
        }
        if let Some(p) = self.done.iter().position(|d| !d) {
            return Err(format!("reduce task {p} ended without committing").into());
        }
        Ok(self.tracker.layout.commit_job()?)
    }
}
