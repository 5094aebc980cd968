//! What every executor holds, spout or bolt: its identity and settings, the outbox, the ack
//! tracker, the generation it is in, and what it reports. The executors keep only what
//! differs (a spout's trees and positions, a bolt's inbox and dead letters).

use std::time::Instant;

use super::env::TaskEnv;
use crate::component::{BoltCollector, Tuple};
use crate::runtime::control::checkpoint::TaskRecord;
use crate::runtime::core::hook::{self, HookFailure};
use crate::runtime::core::{AckTracker, Output};
use crate::runtime::launch::streams::SideSpec;
use crate::runtime::launch::wire::EdgeSpec;
use crate::runtime::observability::metrics::TaskMetrics;
use crate::runtime::observability::run_report::DeadLetter;
use crate::runtime::observability::stats::TaskStats;
use crate::transport::message::Restart;
use crate::ComponentError;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Started, waiting for its wiring.
    Unwired,
    Running,
    /// A hook failed; waiting for the supervisor's restart.
    Crashed,
    /// Spouts, exactly-once: finished emitting (or told to drain), waiting for a checkpoint
    /// that covers every emit to complete, so that the spout is committed before it closes.
    Sealing,
    /// Finished (`finish` ran, or the spout ended); waiting for credit to send what is left
    /// and end-of-stream.
    Draining,
    Done,
}

/// A task's counts of what happened to its tuples, for its final report.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub executed: u64,
    pub acked: u64,
    pub failed: u64,
    pub replayed: u64,
    pub dead_letters: Vec<DeadLetter>,
}

/// The state spout and bolt executors share.
pub(crate) struct TaskCore<T: Tuple> {
    pub env: TaskEnv,
    /// Everything the task emits goes through it.
    pub out: Output<T>,
    /// The task's side of the tuple trees (at-least-once).
    pub acks: AckTracker,
    /// The generation this task is in: what it sends carries it, and arrivals of older ones
    /// are dropped (see `Output::reset`).
    pub gen: u64,
    pub phase: Phase,
    /// When the task was wired: its report's start time.
    pub started: Instant,
    /// Counters, gauges, execute time and end-to-end latency.
    pub metrics: TaskMetrics,
}

impl<T: Tuple> TaskCore<T> {
    /// The core of a task not wired yet.
    pub(crate) fn new(env: TaskEnv, metrics: TaskMetrics) -> Self {
        TaskCore {
            out: Output::unwired(env.config.batch_size),
            acks: AckTracker::new(env.tracking(), env.seed()),
            env,
            gen: 0,
            phase: Phase::Unwired,
            started: Instant::now(),
            metrics,
        }
    }

    /// Builds the outbox from the task's default-stream edges and the named streams its
    /// component declared (a local link to every consumer task); the task's clock starts.
    pub(crate) fn wire(&mut self, edges: Vec<(u32, EdgeSpec<T>)>, sides: Vec<Box<dyn SideSpec>>) {
        let config = &self.env.config;
        let (task, worker) = (self.env.ctx.task, self.env.ctx.worker);
        let credits = config.max_batches_in_flight;
        self.out = Output::new(
            edges
                .into_iter()
                .map(|(id, e)| e.into_out_edge(task, id))
                .collect(),
            sides
                .into_iter()
                .map(|s| s.build(task, worker, credits))
                .collect(),
            task,
            worker,
            config.batch_size,
            credits,
            config.always_serialize,
        );
        self.started = Instant::now();
    }

    /// What every restart does first: count it, and on a rollback enter the new generation
    /// (what was not sent is dropped, and so are acks of trees the spouts now fail).
    pub(crate) fn restart(&mut self, r: &Restart) {
        if r.restarts > self.env.ctx.restarts {
            self.metrics.add_outcomes(0, 0, 0, 1);
        }
        self.env.ctx.restarts = r.restarts;
        if r.rollback {
            self.gen = r.gen;
            self.out.reset(r.gen);
            self.acks.rollback();
        }
    }

    /// A hook failed: the task waits for the supervisor. `local`: restarting this task alone
    /// brings back all that the crash lost (see `TaskEvent::Crashed`).
    pub(crate) fn crash(&mut self, hook: &'static str, failure: &HookFailure, local: bool) {
        self.phase = Phase::Crashed;
        if let HookFailure::Fatal(_) = failure {
            return self.env.report_fatal(hook, failure);
        }
        self.env.report_crash(self.gen, hook, failure, local);
    }

    /// Sends the ack ops ready for the ackers.
    pub(crate) fn send_acks(&mut self) {
        self.env.send_acks(self.acks.outgoing());
    }

    /// The task is done: reports its counters, and its final record when checkpointing.
    pub(crate) fn report_done(&mut self, outcomes: Outcomes, record: Option<TaskRecord>) {
        self.phase = Phase::Done;
        let measured = self.metrics.finish(self.out.emitted);
        let stats = TaskStats {
            emitted: self.out.emitted,
            executed: outcomes.executed,
            acked: outcomes.acked,
            failed: outcomes.failed,
            replayed: outcomes.replayed,
            started: self.started,
            ended: Instant::now(),
            latency: measured.latency,
            timeline: measured.timeline,
            execute: measured.execute,
            dead_letters: outcomes.dead_letters,
            counters: self.env.ctx.counters(),
        };
        self.env.report_done(self.gen, stats, record);
    }
}

/// Runs a bolt hook that has no input tuple (`on_tick`, `on_watermark`): its emits descend
/// from nothing. An emit that could not be encoded fails the hook.
pub(crate) fn call_bolt<T: Tuple>(
    core: &mut TaskCore<T>,
    f: impl FnOnce(&mut BoltCollector<'_, T>) -> Result<(), ComponentError>,
) -> Result<(), HookFailure> {
    let mut collector = BoltCollector {
        out: &mut core.out,
        origin: 0,
        source: None,
        acks: &mut core.acks,
    };
    let called = hook::call(|| f(&mut collector));
    core.acks.end_hook();
    called?;
    match core.out.take_failure() {
        Some(msg) => Err(HookFailure::Error(msg)),
        None => Ok(()),
    }
}
