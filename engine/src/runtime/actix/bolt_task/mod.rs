//! The executor of one bolt task: an actix actor that executes its inbox while its outputs have
//! credit, returns a credit per executed batch, snapshots at checkpoint barriers, and finishes
//! once every input has ended.
//!
//! A panic in a hook does not end the actor: the task drops the user instance, reports the
//! crash and waits; the supervisor answers with a `Restart` (a fresh instance; exactly once, a
//! rollback of every task to the last complete checkpoint; at least once, this task's state
//! from that checkpoint, after it failed the trees its crash lost). The actor, its address, its
//! inbox and the links to it stay the same throughout.

mod execute;
mod messages;
mod time;

use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, AsyncContext, Context, Handler, Message, SpawnHandle};

use crate::component::{collector::origin_of, Bolt, BoltCollector, Tuple};
use crate::runtime::actix::env::TaskEnv;
use crate::runtime::actix::task_core::{self, Outcomes, Phase, TaskCore};
use crate::runtime::control::checkpoint::TaskRecord;
use crate::runtime::core::chaos::{ChaosMemory, ChaosMonkey};
use crate::runtime::core::hook::{self, HookFailure};
use crate::runtime::core::inbox::{Arrival, Inbox, Item};
use crate::runtime::core::{Failures, InputClock};
use crate::runtime::launch::subscription::Convert;
use crate::runtime::launch::wire::{InputLink, WireBolt};
use crate::runtime::observability::metrics::TaskMetrics;
use crate::transport::codec::decode_batch;
use crate::transport::message::{Control, Credit, Inbound, Payload, Restart};
use crate::transport::Batch;
use crate::Guarantee;

/// Execute queued input.
struct Drain;

impl Message for Drain {
    type Result = ();
}

/// Builds a fresh bolt instance for a task (at start, and on restart).
pub(crate) type BoltFactory<B> = Arc<dyn Fn() -> B + Send + Sync>;

pub(crate) struct BoltTask<B: Bolt> {
    /// Identity, outbox, ack tracker, generation, phase and metrics, as every task has.
    core: TaskCore<B::Output>,
    factory: BoltFactory<B>,
    bolt: Option<Box<B>>,
    inputs: Vec<InputLink>,
    inbox: Inbox<B::Input>,
    /// A `Drain` is queued; never queue two.
    drain_scheduled: bool,
    chaos: Option<ChaosMonkey>,
    executed: u64,
    /// Inputs whose `execute` returned an `Err`: attempts and dead letters.
    failures: Failures,
    /// The task's input watermark (event time).
    clock: InputClock,
    /// The tick timer, once the bolt asked for ticks.
    ticks: Option<SpawnHandle>,
    /// Per input link: it delivered `Drained` and no tuple since.
    drained: Vec<bool>,
    /// Per input link, how to convert what arrives into the bolt's input (see `WireBolt`).
    converts: Vec<Option<Arc<dyn std::any::Any + Send + Sync>>>,
}

impl<B: Bolt> BoltTask<B> {
    pub(crate) fn new(env: TaskEnv, factory: BoltFactory<B>, chaos_memory: ChaosMemory) -> Self {
        let metrics = TaskMetrics::bolt(&env);
        let chaos = env
            .config
            .chaos
            .map(|c| ChaosMonkey::new(c, &env.ctx.component, chaos_memory));
        BoltTask {
            core: TaskCore::new(env, metrics),
            factory,
            bolt: None,
            inputs: Vec::new(),
            inbox: Inbox::new(),
            drain_scheduled: false,
            chaos,
            executed: 0,
            failures: Failures::default(),
            clock: InputClock::default(),
            ticks: None,
            converts: Vec::new(),
            drained: Vec::new(),
        }
    }

    fn schedule_drain(&mut self, ctx: &mut Context<Self>) {
        if !self.drain_scheduled {
            self.drain_scheduled = true;
            ctx.notify(Drain);
        }
    }

    /// A hook failed: drop the instance and wait for the supervisor.
    fn crash(&mut self, hook: &'static str, failure: HookFailure) {
        self.bolt = None;
        // A task that has seen watermarks cannot restart alone: watermarks already in its
        // inbox would overtake the replays of what it lost and make them late. A rollback of
        // every task drops them, and the spouts hold theirs behind the replays.
        let local = self.core.acks.fail_lost() && self.clock.current() == 0;
        self.core.send_acks();
        self.core.crash(hook, &failure, local);
    }

    /// Builds a fresh instance and prepares it.
    fn build(&mut self) -> Result<(), (&'static str, HookFailure)> {
        let factory = self.factory.clone();
        let mut bolt = hook::call_infallible(|| factory()).map_err(|f| ("factory", f))?;
        let task_ctx = self.core.env.ctx.clone();
        hook::call(|| bolt.prepare(&task_ctx)).map_err(|f| ("prepare", f))?;
        if self.core.env.tracking() {
            // Whether the bolt keeps state decides when its acks may go out.
            let stateful = hook::call(|| bolt.snapshot())
                .map_err(|f| ("snapshot", f))?
                .is_some();
            self.core.acks.set_stateful(stateful);
        }
        self.bolt = Some(Box::new(bolt));
        Ok(())
    }

    fn return_credit(&self, link: u32) {
        if let Some(input) = self.inputs.get(link as usize) {
            input.credit_to.do_send(input.credit);
        }
    }

    fn drain(&mut self, ctx: &mut Context<Self>) {
        self.drain_inbox(ctx);
        self.core.send_acks();
    }

    fn drain_inbox(&mut self, ctx: &mut Context<Self>) {
        if self.core.phase != Phase::Running {
            return;
        }
        let wake = Instant::now();
        let mut executed_batches = 0;
        while !self.core.out.is_blocked()
            && executed_batches < self.core.env.config.batches_per_wake
        {
            let Some((link, gen, item)) = self.inbox.pop() else {
                break;
            };
            if gen < self.core.gen {
                if matches!(item, Item::Batch(_)) {
                    self.return_credit(link);
                }
                continue;
            }
            if gen > self.core.gen {
                // Sent after a rollback this task has not heard of yet: wait for the restart.
                self.inbox.unpop((link, gen, item));
                return;
            }
            let aligning = self.core.env.config.guarantee == Guarantee::ExactlyOnce;
            if aligning && self.inbox.is_aligned_link(link) {
                self.inbox.hold((link, gen, item));
                continue;
            }
            match item {
                Item::Batch(batch) => {
                    self.return_credit(link);
                    if let Err((hook, f)) = self.execute_batch(link, batch) {
                        return self.crash(hook, f);
                    }
                    executed_batches += 1;
                }
                Item::Remainder(batch) => {
                    if let Err((hook, f)) = self.execute_batch(link, batch) {
                        return self.crash(hook, f);
                    }
                }
                Item::Barrier(id) => self.inbox.barrier(link, id),
                Item::Eos => {
                    if let Some(c) = self.inbox.closed.get_mut(link as usize) {
                        *c = true;
                    }
                    if self.inbox.open_links() > 0 {
                        if let Err(f) = self.maybe_end_of_input() {
                            return self.crash("end_of_input", f);
                        }
                        let moved = self.clock.close(link);
                        if let Err(f) = self.watermark_moved(moved) {
                            return self.crash("on_watermark", f);
                        }
                    }
                }
                Item::Watermark(w) => {
                    let moved = self.clock.mark(link, w);
                    if let Err(f) = self.watermark_moved(moved) {
                        return self.crash("on_watermark", f);
                    }
                }
                Item::Drained => {
                    if let Some(d) = self.drained.get_mut(link as usize) {
                        *d = true;
                    }
                    if let Err(f) = self.maybe_end_of_input() {
                        return self.crash("end_of_input", f);
                    }
                }
                Item::Idle => {
                    let moved = self.clock.idle(link);
                    if let Err(f) = self.watermark_moved(moved) {
                        return self.crash("on_watermark", f);
                    }
                }
            }
            if self.inbox.alignment_complete() {
                if let Err(f) = self.complete_checkpoint() {
                    return self.crash("snapshot", f);
                }
            }
            if self.core.phase != Phase::Running {
                return;
            }
        }
        if self.inbox.open_links() == 0 && self.inbox.is_empty() {
            return self.finish(ctx);
        }
        if self.inbox.nothing_ready() {
            // Idle, or waiting for a barrier: nothing more to batch with, so send partial
            // batches now. The next arrival schedules a drain; rescheduling here would spin
            // without yielding the worker to the tasks that send what we wait for.
            self.core.out.flush();
            return;
        }
        self.core.out.linger(wake, self.core.env.config.linger);
        if !self.core.out.is_blocked() {
            self.schedule_drain(ctx);
        }
    }

    /// Every open link delivered the barrier: snapshot, report, pass the barrier on.
    fn complete_checkpoint(&mut self) -> Result<(), HookFailure> {
        let Some(id) = self.inbox.alignment.as_ref().map(|a| a.id) else {
            return Ok(());
        };
        let record = self.record(false)?;
        self.core.env.report_snapshot(self.core.gen, id, record);
        self.core.acks.snapshot_taken(id);
        self.core.out.barrier(id);
        self.inbox.release();
        Ok(())
    }

    fn record(&mut self, finished: bool) -> Result<TaskRecord, HookFailure> {
        let state = match self.bolt.as_mut() {
            Some(bolt) => hook::call(|| bolt.snapshot())?,
            None => None,
        };
        let closed = (0..self.inbox.closed.len() as u32)
            .filter(|&l| self.inbox.closed[l as usize])
            .collect();
        Ok(TaskRecord {
            state,
            finished,
            closed,
            clock: Some(self.clock.current()),
        })
    }

    /// Every input ended: run `finish`, flush, and pass end-of-stream on.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        if let Some(bolt) = self.bolt.as_mut() {
            let mut collector = BoltCollector {
                out: &mut self.core.out,
                origin: 0,
                source: None,
                acks: &mut self.core.acks,
            };
            let finished = hook::call(|| bolt.finish(&mut collector));
            self.core.acks.end_hook();
            if let Err(f) = finished {
                return self.crash("finish", f);
            }
            if let Some(msg) = self.core.out.take_failure() {
                return self.crash("finish", HookFailure::Error(msg));
            }
            if let Err(f) = hook::call_infallible(|| bolt.cleanup()) {
                return self.crash("cleanup", f);
            }
        }
        self.core.phase = Phase::Draining;
        self.core.out.finish();
        self.maybe_done(ctx);
    }

    fn maybe_done(&mut self, _ctx: &mut Context<Self>) {
        if self.core.phase != Phase::Draining || !self.core.out.is_drained() {
            return;
        }
        let record = if self.core.env.checkpointing() {
            match self.record(true) {
                Ok(r) => Some(r),
                Err(f) => return self.crash("snapshot", f),
            }
        } else {
            None
        };
        self.core.phase = Phase::Done;
        self.report_done(record);
    }

    fn report_done(&mut self, record: Option<TaskRecord>) {
        let outcomes = Outcomes {
            executed: self.executed,
            failed: self.failures.failed,
            dead_letters: std::mem::take(&mut self.failures.dead_letters),
            ..Outcomes::default()
        };
        self.core.report_done(outcomes, record);
    }

    fn restart(&mut self, r: Restart, ctx: &mut Context<Self>) {
        self.core.restart(&r);
        if r.rollback {
            for link in self.inbox.drop_older_than(r.gen) {
                self.return_credit(link);
            }
            let closed = r.record.as_ref().map_or(&[][..], |rec| &rec.closed[..]);
            self.inbox.reopen(self.inputs.len(), closed);
            // The input watermark as it was at the checkpoint; the producers send theirs
            // again in the new generation.
            let at = r.record.as_ref().and_then(|rec| rec.clock).unwrap_or(0);
            self.clock = InputClock::new(self.inputs.len(), at);
            self.drained = vec![false; self.inputs.len()];
            for &l in closed {
                self.clock.close(l);
            }
            self.core.out.set_watermark(at);
        }
        if r.fresh || self.bolt.is_none() {
            self.bolt = None;
            if let Err((hook, f)) = self.build() {
                return self.crash(hook, f);
            }
        }
        let mut finished = false;
        // A rollback restores every task; at least once, a restarted task alone restores its
        // own state from the last complete checkpoint.
        if r.rollback || r.fresh {
            if let Some(rec) = r.record {
                finished = r.rollback && rec.finished;
                if let (Some(state), Some(bolt)) = (rec.state, self.bolt.as_mut()) {
                    if let Err(f) = hook::call(|| bolt.restore(state)) {
                        return self.crash("restore", f);
                    }
                }
            }
        }
        if finished {
            self.core.phase = Phase::Done;
            let record = self.record(true).ok();
            return self.report_done(record);
        }
        self.arm_ticks(ctx);
        self.core.phase = Phase::Running;
        self.schedule_drain(ctx);
    }
}
