//! What every task carries from the launcher: identity, settings, clock and the controller's
//! channel.

use std::sync::Arc;
use std::time::Instant;

use actix::Recipient;
use crossbeam_channel::Sender;

use crate::component::TaskContext;
use crate::runtime::control::acker::{AckOp, AckOps};
use crate::runtime::control::checkpoint::TaskRecord;
use crate::runtime::core::hook::HookFailure;
use crate::runtime::observability::stats::{TaskEvent, TaskStats};
use crate::{Config, Guarantee, RunError, TaskId};

/// Shared by the spout and bolt executors.
pub(crate) struct TaskEnv {
    pub ctx: TaskContext,
    pub config: Arc<Config>,
    /// The run's time origin: tuple emit times are nanoseconds since it.
    pub epoch: Instant,
    /// Index of the component in the topology's declaration order.
    pub node: usize,
    /// To the controller. It carries a bounded number of events per task: one end, one crash
    /// before each restart, one record per checkpoint (one checkpoint is in flight at a time).
    pub events: Sender<TaskEvent>,
    /// The acker tasks (empty without acking); tree `root` belongs to `root % len`.
    pub ackers: Arc<Vec<Recipient<AckOps>>>,
    /// This task's index among all spout tasks (spouts), for the ackers' replies.
    pub spout_index: u32,
}

impl TaskEnv {
    pub(crate) fn task_id(&self) -> TaskId {
        TaskId {
            component: self.ctx.component.to_string(),
            task: self.ctx.task,
        }
    }

    /// A seed for this task's ids, distinct per task.
    pub(crate) fn seed(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        (&*self.ctx.component, self.ctx.task, self.epoch).hash(&mut h);
        h.finish()
    }

    /// True when tuple trees are tracked (at-least-once with ackers).
    pub(crate) fn tracking(&self) -> bool {
        self.config.guarantee == Guarantee::AtLeastOnce && !self.ackers.is_empty()
    }

    /// Sends ack ops to their ackers, merging the ops of one root into one.
    pub(crate) fn send_acks(&self, ops: &mut Vec<AckOp>) {
        let n = self.ackers.len() as u64;
        if ops.is_empty() || n == 0 {
            ops.clear();
            return;
        }
        let mut per_acker: Vec<Vec<AckOp>> = vec![Vec::new(); n as usize];
        for op in ops.drain(..) {
            let list = &mut per_acker[(op.root() % n) as usize];
            match (list.last_mut(), op) {
                (Some(AckOp::Ack { root, xor }), AckOp::Ack { root: r, xor: x }) if *root == r => {
                    *xor ^= x;
                }
                _ => list.push(op),
            }
        }
        for (acker, list) in self.ackers.iter().zip(per_acker) {
            if !list.is_empty() {
                acker.do_send(AckOps(list));
            }
        }
    }

    /// True when the run takes checkpoints.
    pub(crate) fn checkpointing(&self) -> bool {
        self.config.guarantee != Guarantee::AtMostOnce
    }

    /// Reports something no restart can fix; the run ends with it.
    pub(crate) fn report_fatal(&self, hook: &'static str, failure: &HookFailure) {
        let _ = self.events.send(TaskEvent::Failed(RunError::TaskFailed {
            task: self.task_id(),
            hook,
            message: failure.describe(),
        }));
    }

    /// Reports a crashed hook to the supervisor.
    pub(crate) fn report_crash(
        &self,
        gen: u64,
        hook: &'static str,
        failure: &HookFailure,
        local: bool,
    ) {
        let _ = self.events.send(TaskEvent::Crashed {
            task: (self.node, self.ctx.task),
            gen,
            hook,
            message: failure.describe(),
            local,
        });
    }

    /// Reports the task's record for a checkpoint.
    pub(crate) fn report_snapshot(&self, gen: u64, checkpoint: u64, record: TaskRecord) {
        let _ = self.events.send(TaskEvent::Snapshot {
            task: (self.node, self.ctx.task),
            gen,
            checkpoint,
            record,
        });
    }

    /// Asks for a checkpoint now (see `TaskEvent::AwaitingAcks`).
    pub(crate) fn report_awaiting_acks(&self) {
        let _ = self.events.send(TaskEvent::AwaitingAcks);
    }

    /// Asks for one checkpoint now (see `TaskEvent::AwaitingCommit`).
    pub(crate) fn report_awaiting_commit(&self) {
        let _ = self.events.send(TaskEvent::AwaitingCommit);
    }

    /// Reports the task's end with its counters.
    pub(crate) fn report_done(&self, gen: u64, stats: TaskStats, record: Option<TaskRecord>) {
        let _ = self.events.send(TaskEvent::Done {
            task: (self.node, self.ctx.task),
            gen,
            stats: Box::new(stats),
            record,
        });
    }
}
