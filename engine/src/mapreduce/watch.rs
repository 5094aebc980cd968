//! Watching a running job from another thread (the web UI): its tasks' attempts and progress,
//! its counters, and the live numbers of the topology it runs as.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::tracker::JobTracker;
use super::{Counters, Progress};
use crate::LiveCounters;

/// Where a map or reduce task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// No attempt running: not started yet, or waiting for its next attempt.
    Pending,
    /// An attempt (or an attempt and its backup) is running.
    Running,
    /// An attempt committed its output.
    Committed,
    /// It ran out of attempts: the job fails.
    Failed,
}

impl TaskState {
    /// `pending`, `running`, `committed` or `failed`.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Committed => "committed",
            TaskState::Failed => "failed",
        }
    }
}

/// One map or reduce task of a running job.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStatus {
    /// The task's index (map: its split; reduce: its partition).
    pub index: usize,
    /// Where it stands.
    pub state: TaskState,
    /// Attempts launched so far, backups included.
    pub attempts: u32,
    /// Attempts that failed.
    pub failures: u32,
    /// The last failure's message, empty if none.
    pub last_failure: String,
    /// How far it came, 0 to 1: a map task, the share of its split its latest attempt read;
    /// a reduce task, 0 until an attempt commits.
    pub progress: f64,
    /// How long its oldest running attempt has run.
    pub running_for: Option<Duration>,
}

/// A running job at one moment.
#[derive(Debug, Clone)]
pub struct JobStatus {
    /// The job's name.
    pub name: String,
    /// Tasks done, attempts running and failed.
    pub progress: Progress,
    /// The map tasks, by split.
    pub maps: Vec<TaskStatus>,
    /// The reduce tasks, by partition.
    pub reduces: Vec<TaskStatus>,
    /// Counters of the committed attempts, and of failed and killed ones.
    pub counters: Counters,
}

/// Watches a job: give it to [`super::Job::watch`] and read [`JobWatch::status`] (and the job
/// topology's [`JobWatch::live`] counters) from another thread while the job runs.
///
/// ```
/// let watch = std::sync::Arc::new(squall::mapreduce::JobWatch::default());
/// assert!(watch.status().is_none(), "no job started yet");
/// assert!(watch.live().snapshot().is_none());
/// ```
#[derive(Default)]
pub struct JobWatch {
    live: Arc<LiveCounters>,
    job: Mutex<Option<(String, Arc<JobTracker>)>>,
}

impl std::fmt::Debug for JobWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobWatch").finish_non_exhaustive()
    }
}

impl JobWatch {
    /// The live counters of the topology the job runs as (one spout, map, reduce and commit
    /// bolts).
    pub fn live(&self) -> &Arc<LiveCounters> {
        &self.live
    }

    /// The job's tasks and counters now; `None` before the job planned its splits.
    pub fn status(&self) -> Option<JobStatus> {
        let (name, tracker) = self.job.lock().unwrap_or_else(|p| p.into_inner()).clone()?;
        let (maps, reduces) = tracker.tasks();
        Some(JobStatus {
            name,
            progress: tracker.progress(),
            maps,
            reduces,
            counters: tracker.counters(),
        })
    }

    pub(crate) fn attach(&self, name: &str, tracker: Arc<JobTracker>) {
        *self.job.lock().unwrap_or_else(|p| p.into_inner()) = Some((name.to_string(), tracker));
    }
}
