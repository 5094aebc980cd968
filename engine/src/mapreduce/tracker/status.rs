//! What the tracker shows a [`crate::mapreduce::JobWatch`]: every task's attempts and progress.

use std::sync::atomic::Ordering;

use super::{JobTracker, TaskState};
use crate::mapreduce::watch::{TaskState as Shown, TaskStatus};

impl JobTracker {
    /// The map and reduce tasks now.
    pub(crate) fn tasks(&self) -> (Vec<TaskStatus>, Vec<TaskStatus>) {
        let st = self.lock();
        let max = self.settings.max_attempts;
        let maps = st
            .maps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let split = self
                    .splits
                    .get(i)
                    .map_or(0, |s| s.end.saturating_sub(s.start));
                let read = self
                    .map_read
                    .get(i)
                    .map_or(0, |r| r.load(Ordering::Relaxed));
                let progress = if split == 0 {
                    0.0
                } else {
                    (read as f64 / split as f64).min(1.0)
                };
                status(i, t, max, progress)
            })
            .collect();
        let reduces = st
            .reduces
            .iter()
            .enumerate()
            .map(|(i, t)| status(i, t, max, 0.0))
            .collect();
        (maps, reduces)
    }

    /// A map attempt of `task` has read `bytes` of its split.
    pub(crate) fn map_read(&self, task: usize, bytes: u64) {
        if let Some(r) = self.map_read.get(task) {
            r.store(bytes, Ordering::Relaxed);
        }
    }
}

fn status(index: usize, t: &TaskState, max_attempts: u32, progress: f64) -> TaskStatus {
    let state = if t.committed {
        Shown::Committed
    } else if !t.running.is_empty() {
        Shown::Running
    } else if t.failures >= max_attempts.max(1) {
        Shown::Failed
    } else {
        Shown::Pending
    };
    TaskStatus {
        index,
        state,
        attempts: t.launched,
        failures: t.failures,
        last_failure: t.last_failure.clone(),
        progress: if t.committed { 1.0 } else { progress },
        running_for: t.running.iter().map(|r| r.started.elapsed()).max(),
    }
}
