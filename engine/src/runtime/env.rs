//! What every task carries from the launcher: identity, settings, clock and the controller's
//! channel.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;

use super::hook::HookFailure;
use super::stats::{TaskEvent, TaskStats};
use crate::component::TaskContext;
use crate::{Config, RunError, TaskId};

/// Shared by the spout and bolt executors.
pub(crate) struct TaskEnv {
    pub ctx: TaskContext,
    pub config: Arc<Config>,
    /// The run's time origin: tuple emit times are nanoseconds since it.
    pub epoch: Instant,
    /// Index of the component in the topology's declaration order.
    pub node: usize,
    /// To the controller; it holds at most one final event per task, so it never grows.
    pub events: Sender<TaskEvent>,
}

impl TaskEnv {
    pub(crate) fn task_id(&self) -> TaskId {
        TaskId {
            component: self.ctx.component.to_string(),
            task: self.ctx.task,
        }
    }

    /// Reports a failed hook to the controller.
    pub(crate) fn report_failure(&self, hook: &'static str, failure: &HookFailure) {
        let _ = self.events.send(TaskEvent::Failed(RunError::TaskFailed {
            task: self.task_id(),
            hook,
            message: failure.describe(),
        }));
    }

    /// Reports the task's final counters.
    pub(crate) fn report_done(&self, stats: TaskStats) {
        let _ = self.events.send(TaskEvent::Done(stats));
    }
}
