//! Where a task runs.

use std::sync::Arc;

/// What a task knows about itself (Storm's `TopologyContext`, reduced to what is useful).
#[derive(Debug, Clone)]
pub struct TaskContext {
    pub(crate) topology: Arc<str>,
    pub(crate) component: Arc<str>,
    pub(crate) task: usize,
    pub(crate) tasks: usize,
    pub(crate) worker: usize,
    pub(crate) restarts: u32,
    pub(crate) guarantee: crate::Guarantee,
    /// Spout tasks only: wakes the task when its source has input.
    pub(crate) waker: Option<super::SpoutWaker>,
    /// The task's named counts (shared by the clones of this context, so they outlive an
    /// instance that crashed).
    pub(crate) counters: super::Counters,
}

impl TaskContext {
    /// Builds a context by hand, for unit-testing a spout or bolt outside a topology.
    pub fn new(topology: &str, component: &str, task: usize, tasks: usize) -> Self {
        TaskContext {
            topology: topology.into(),
            component: component.into(),
            task,
            tasks,
            worker: 0,
            restarts: 0,
            guarantee: crate::Guarantee::AtMostOnce,
            waker: None,
            counters: super::Counters::default(),
        }
    }

    /// The topology's name.
    pub fn topology(&self) -> &str {
        &self.topology
    }

    /// The component's id as declared.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// This task's index within its component, from 0.
    pub fn task_index(&self) -> usize {
        self.task
    }

    /// How many tasks the component has (its parallelism).
    pub fn component_tasks(&self) -> usize {
        self.tasks
    }

    /// The worker (arbiter thread) this task runs on.
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// How many times this task was restarted before this instance was built (0 at first
    /// start). A fresh instance after a restart in at-most-once mode starts without the state
    /// of the one it replaces, and may need to know it.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The run's processing guarantee.
    pub fn guarantee(&self) -> crate::Guarantee {
        self.guarantee
    }

    /// For a spout: a waker its input thread calls when it hands over a message, so the task
    /// sleeps while there is nothing to emit instead of polling (see [`super::SpoutWaker`]).
    /// Taking it is what makes the task sleep. `None` for bolts and for a hand-built context.
    pub fn waker(&self) -> Option<super::SpoutWaker> {
        let waker = self.waker.clone()?;
        waker.mark_used();
        Some(waker)
    }

    /// This task's counter named `name` (made at 0 on first use; the same counter every time,
    /// also for the instance that replaces this one after a restart). The run's
    /// [`crate::RunReport::counters`] sums each name over every task of the topology,
    /// including tasks that ran in other processes: count there what a run's summary needs.
    pub fn counter(&self, name: &str) -> super::Counter {
        self.counters.get(name)
    }

    /// Every counter of this task, by name.
    pub fn counters(&self) -> Vec<(String, u64)> {
        self.counters.values()
    }

    /// The same context with a different guarantee and restart count (unit tests).
    pub fn with_recovery(mut self, guarantee: crate::Guarantee, restarts: u32) -> Self {
        self.guarantee = guarantee;
        self.restarts = restarts;
        self
    }
}
