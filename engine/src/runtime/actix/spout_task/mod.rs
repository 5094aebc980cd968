//! The executor of one spout task: an actix actor that polls `next_tuple` while it has credit.

mod messages;
mod trees;

pub(crate) use messages::Wake;
use messages::{yield_then_poll, Poll};

use std::sync::Arc;
use std::time::Instant;

use actix::fut::ActorFutureExt;
use actix::{Actor, AsyncContext, Context, Handler, Message, SpawnHandle};

use crate::component::{collector::origin_of, Spout, SpoutCollector, SpoutWaker};
use crate::runtime::actix::env::TaskEnv;
use crate::runtime::actix::task_core::{Outcomes, Phase, TaskCore};
use crate::runtime::control::acker::TreeDone;
use crate::runtime::control::checkpoint::TaskRecord;
use crate::runtime::core::hook::{self, HookFailure};
use crate::runtime::core::{Progress, SpoutClock};
use crate::runtime::launch::wire::Wire;
use crate::runtime::observability::metrics::TaskMetrics;
use crate::transport::message::{Control, Credit, Restart};
use crate::window::Watermarks;
use crate::Guarantee;

/// Builds a fresh spout instance for a task (at start, and on restart).
pub(crate) type SpoutFactory<S> = Arc<dyn Fn() -> S + Send + Sync>;

pub(crate) struct SpoutTask<S: Spout> {
    /// Identity, outbox, ack tracker, generation, phase and metrics, as every task has.
    core: TaskCore<S::Output>,
    factory: SpoutFactory<S>,
    spout: Option<Box<S>>,
    /// A `Poll` is queued or timed; never queue two.
    poll_scheduled: bool,
    /// Asleep until the spout's waker (or this fallback timer) fires; see `SpoutWaker`.
    asleep: Option<SpawnHandle>,
    /// Asked the controller for a checkpoint since the last emit.
    awaiting_acks: bool,
    acked: u64,
    failed: u64,
    /// Where the spout is in its input: replays, rewinds and what is committed.
    progress: Progress,
    /// The record taken when the spout finished, before `close`.
    final_record: Option<TaskRecord>,
    /// Told to drain: after a rollback the spout seals again instead of running on.
    drained: bool,
    /// Asked the controller for a checkpoint since the last commit (exactly-once).
    awaiting_commit: bool,
    /// `Drained` went out since the last emit.
    drained_sent: bool,
    /// The watermark generator, when the spout declared event time.
    clock: Option<SpoutClock<S::Output>>,
    /// Took a savepoint: emits nothing until a restart.
    suspended: bool,
}

impl<S: Spout> SpoutTask<S> {
    pub(crate) fn new(
        env: TaskEnv,
        factory: SpoutFactory<S>,
        watermarks: Option<Watermarks<S::Output>>,
    ) -> Self {
        let metrics = TaskMetrics::spout(&env);
        SpoutTask {
            core: TaskCore::new(env, metrics),
            factory,
            spout: None,
            poll_scheduled: false,
            asleep: None,
            awaiting_acks: false,
            acked: 0,
            failed: 0,
            progress: Progress::default(),
            final_record: None,
            drained: false,
            awaiting_commit: false,
            clock: watermarks.map(SpoutClock::new),
            drained_sent: false,
            suspended: false,
        }
    }

    fn schedule_poll(&mut self, ctx: &mut Context<Self>) {
        if let Some(sleep) = self.asleep.take() {
            ctx.cancel_future(sleep);
            self.poll_scheduled = false;
        }
        if !self.poll_scheduled {
            self.poll_scheduled = true;
            ctx.notify(Poll);
        }
    }

    /// A hook failed: drop the instance and wait for the supervisor.
    fn fail(&mut self, hook: &'static str, failure: HookFailure, _ctx: &mut Context<Self>) {
        self.spout = None;
        self.core.crash(hook, &failure, true);
    }

    /// Builds a fresh instance, opens and activates it.
    fn build(&mut self) -> Result<(), (&'static str, HookFailure)> {
        let factory = self.factory.clone();
        let mut spout = hook::call_infallible(|| factory()).map_err(|f| ("factory", f))?;
        let task_ctx = self.core.env.ctx.clone();
        hook::call(|| spout.open(&task_ctx)).map_err(|f| ("open", f))?;
        hook::call_infallible(|| spout.activate()).map_err(|f| ("activate", f))?;
        self.spout = Some(Box::new(spout));
        Ok(())
    }

    /// The task's record: for checkpoint `checkpoint`, or the final one when `None`.
    fn record(&mut self, checkpoint: Option<u64>) -> Result<TaskRecord, HookFailure> {
        let finished = checkpoint.is_none();
        let state = match (self.spout.as_mut(), checkpoint) {
            (Some(spout), Some(id)) => hook::call(|| spout.snapshot_for(id))?,
            (Some(spout), None) => hook::call(|| spout.snapshot())?,
            (None, _) => None,
        };
        Ok(TaskRecord {
            state,
            finished,
            closed: Vec::new(),
            clock: self.clock.as_ref().and_then(SpoutClock::position),
        })
    }

    fn checkpoint(&mut self, id: u64, ctx: &mut Context<Self>) {
        if !matches!(self.core.phase, Phase::Running | Phase::Sealing) {
            // A finished spout's final record stands in for it.
            return;
        }
        match self.record(Some(id)) {
            Ok(record) => self.core.env.report_snapshot(self.core.gen, id, record),
            Err(f) => return self.fail("snapshot", f, ctx),
        }
        self.progress.checkpoint_taken(id, self.core.out.emitted);
        self.core.out.barrier(id);
    }

    fn restart(&mut self, r: Restart, ctx: &mut Context<Self>) {
        self.core.restart(&r);
        self.suspended = false;
        self.drained_sent = false;
        if r.rollback {
            // Exactly once the spout is rewound to the checkpoint: what it emitted since goes
            // out again. At least once it keeps going and replays what fails.
            let rewind = self.core.env.config.guarantee != Guarantee::AtLeastOnce;
            self.progress
                .rollback(r.checkpoint, rewind, self.core.out.emitted);
            // A request the controller dropped for the rollback is asked again when needed.
            self.awaiting_commit = false;
            if rewind {
                // The spout emits again what came after the checkpoint: so does its clock.
                let at = r.record.as_ref().and_then(|rec| rec.clock);
                if let Some(clock) = self.clock.as_mut() {
                    clock.restore(at);
                }
            }
        }
        // The consumers start the new generation from their checkpointed watermark: send
        // this task's again.
        if let Some(clock) = &self.clock {
            self.core.out.set_watermark(clock.watermark());
        }
        if self.core.env.config.guarantee == Guarantee::AtLeastOnce {
            return self.recover_trees(r, ctx);
        }
        // A spout that finished was closed: only a fresh instance can run again.
        let closed = matches!(self.core.phase, Phase::Draining | Phase::Done);
        // The spout rewinds by restoring the position its checkpoint holds. One that keeps
        // none (`snapshot` gave `None`) cannot rewind in place: the instance kept would go on
        // from where it stopped, losing what it emitted after the checkpoint while that counts
        // as committed. It starts its input over with a fresh instance, as without a complete
        // checkpoint: what came before the checkpoint goes out again too, nothing is lost.
        let no_position = r.rollback
            && r.record
                .as_ref()
                .is_none_or(|rec| rec.state.is_none() && !rec.finished);
        if r.fresh || self.spout.is_none() || (r.rollback && closed) || no_position {
            if no_position {
                self.progress.start_over();
            }
            self.spout = None;
            if let Err((hook, f)) = self.build() {
                return self.fail(hook, f, ctx);
            }
        }
        if r.rollback {
            if let Some(rec) = r.record {
                if let (Some(state), Some(spout)) = (rec.state, self.spout.as_mut()) {
                    if let Err(f) = hook::call(|| spout.restore(state)) {
                        return self.fail("restore", f, ctx);
                    }
                }
                if rec.finished {
                    self.core.phase = Phase::Done;
                    return self.report_done(Some(TaskRecord {
                        finished: true,
                        ..TaskRecord::default()
                    }));
                }
            }
        }
        if self.drained {
            // Told to drain before the failure: emit nothing more, seal what was restored.
            return self.seal(ctx);
        }
        self.core.phase = Phase::Running;
        self.schedule_poll(ctx);
    }

    fn report_done(&mut self, record: Option<TaskRecord>) {
        self.core.metrics.spout_emitted(self.core.out.emitted);
        let outcomes = Outcomes {
            acked: self.acked,
            failed: self.failed,
            replayed: self.progress.replayed(),
            ..Outcomes::default()
        };
        self.core.report_done(outcomes, record);
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        if let Some(waker) = &self.core.env.ctx.waker {
            waker.polling();
        }
        self.core.metrics.spout_emitted(self.core.out.emitted);
        self.poll_spout(ctx);
        self.core.send_acks();
    }

    /// Asks the controller for a checkpoint, once per stretch of waiting: the open trees'
    /// acks may be held by stateful bolts until one completes.
    fn await_acks(&mut self) {
        if !self.awaiting_acks {
            self.awaiting_acks = true;
            self.core.env.report_awaiting_acks();
        }
    }

    /// Exactly-once: the spout says its source waits for a commit, and one would help.
    fn awaits_commit(&self) -> bool {
        self.core.env.config.guarantee == Guarantee::ExactlyOnce
            && self.progress.uncommitted(self.core.out.emitted)
            && self.spout.as_ref().is_some_and(|s| s.awaits_commit())
    }

    /// True while `max_spout_pending` trees are open.
    fn at_pending_cap(&self) -> bool {
        self.core
            .env
            .config
            .max_spout_pending
            .is_some_and(|cap| self.core.acks.open_trees() >= cap)
    }

    /// Registers the trees `next_tuple` opened; acks at once what is not tracked.
    fn register(&mut self, origin: u64) -> Result<(), HookFailure> {
        let mut now = Vec::new();
        let spout_index = self.core.env.spout_index;
        self.core
            .acks
            .register_opened(spout_index, origin, &mut now);
        if let (false, Some(spout)) = (now.is_empty(), self.spout.as_mut()) {
            hook::call_infallible(|| now.into_iter().for_each(|id| spout.ack(id)))?;
        }
        Ok(())
    }

    fn poll_spout(&mut self, ctx: &mut Context<Self>) {
        if self.core.phase != Phase::Running
            || self.suspended
            || self.core.out.is_blocked()
            || self.at_pending_cap()
        {
            return;
        }
        let track = self.core.env.config.track_latency;
        let epoch = self.core.env.epoch;
        let wake = Instant::now();
        for _ in 0..self.core.env.config.batch_size {
            let before = self.core.out.emitted;
            let origin = if track {
                origin_of(epoch, Instant::now())
            } else {
                0
            };
            let Some(spout) = self.spout.as_mut() else {
                return;
            };
            let mut collector = SpoutCollector {
                out: &mut self.core.out,
                origin,
                epoch,
                acks: &mut self.core.acks,
                clock: self.clock.as_mut(),
            };
            if let Err(f) = hook::call(|| spout.next_tuple(&mut collector)) {
                return self.fail("next_tuple", f, ctx);
            }
            if let Some(msg) = self.core.out.take_failure() {
                return self.fail("next_tuple", HookFailure::Error(msg), ctx);
            }
            let new = self.core.out.emitted - before;
            if new > 0 {
                self.drained_sent = false;
            }
            if let (true, Some(clock)) = (new > 0, self.clock.as_mut()) {
                clock.active(wake);
                if clock.sync_due(wake) {
                    self.core.out.sync_watermark();
                }
            }
            let opened = self.core.acks.opened().iter().map(|&(id, _, _)| id);
            let again = self.progress.emitted(new, opened);
            if again > 0 {
                self.core.metrics.add_outcomes(0, 0, again, 0);
            }
            if !self.core.acks.opened().is_empty() {
                if let Err(f) = self.register(origin) {
                    return self.fail("ack", f, ctx);
                }
            }
            let Some(spout) = self.spout.as_mut() else {
                return;
            };
            if spout.is_finished() {
                if self.core.acks.open_trees() == 0 {
                    return self.seal(ctx);
                }
                // At least once: finish only when every tree is acked (a failed one may be
                // replayed); checkpoints go on meanwhile, releasing stateful bolts' acks, and
                // bolts holding anchors release them at `end_of_input`.
                self.drain_downstream();
                self.core.out.flush();
                self.await_acks();
                return;
            }
            if self.at_pending_cap() {
                self.core.out.flush();
                return;
            }
            if self.core.out.emitted == before {
                // Nothing ready: send what we have now, and look again after the idle wait.
                if self.core.acks.open_trees() > 0
                    && self.spout.as_ref().is_some_and(|s| s.is_exhausted())
                {
                    self.drain_downstream();
                }
                self.core.out.flush();
                if let Some(clock) = self.clock.as_mut() {
                    if clock.idle_due(Instant::now()) {
                        self.core.out.idle();
                    }
                }
                if self.core.acks.open_trees() > 0 {
                    self.await_acks();
                }
                if self.awaits_commit() {
                    self.await_commit();
                }
                self.poll_scheduled = true;
                if let Some(waker) = self.core.env.ctx.waker.as_ref().filter(|w| w.used()) {
                    if !waker.arm() {
                        return yield_then_poll(ctx);
                    }
                    let fallback = SpoutWaker::FALLBACK.max(self.core.env.config.idle_wait);
                    self.asleep = Some(ctx.run_later(fallback, |task, ctx| {
                        task.asleep = None;
                        task.poll_scheduled = false;
                        task.poll(ctx);
                    }));
                    return;
                }
                if self.core.env.config.idle_wait.is_zero() {
                    // Timers tick in whole milliseconds: yield to the worker's other tasks and
                    // poll again (a `notify` would be handled before the actor ever yields).
                    return yield_then_poll(ctx);
                }
                ctx.run_later(self.core.env.config.idle_wait, |task, ctx| {
                    task.poll_scheduled = false;
                    task.poll(ctx);
                });
                return;
            }
            if self.core.out.is_blocked() {
                // A credit will reschedule the poll.
                return;
            }
        }
        self.core.out.linger(wake, self.core.env.config.linger);
        self.schedule_poll(ctx);
    }

    /// The spout's input is at its end and trees are open: tells the bolts once (until it
    /// emits again), so that those holding anchors release them.
    fn drain_downstream(&mut self) {
        if !self.drained_sent {
            self.drained_sent = true;
            self.core.out.end_of_input();
        }
    }

    /// The spout is finished or told to drain. Exactly-once, every emit must be committed
    /// before `close` (a broker spout acknowledges in `commit`): when some are not, ask for a
    /// checkpoint at once and wait for it in `Sealing`; `committed` finishes the task.
    fn seal(&mut self, ctx: &mut Context<Self>) {
        if self.core.env.config.guarantee != Guarantee::ExactlyOnce
            || !self.progress.uncommitted(self.core.out.emitted)
        {
            return self.finish(ctx);
        }
        self.core.phase = Phase::Sealing;
        self.core.out.flush();
        self.await_commit();
    }

    /// Exactly-once: asks for a checkpoint now, once per commit.
    fn await_commit(&mut self) {
        if !self.awaiting_commit {
            self.awaiting_commit = true;
            self.core.env.report_awaiting_commit();
        }
    }

    /// Checkpoint `id` is complete everywhere: commit the spout, and finish a sealing task
    /// once that covers every emit.
    fn committed(&mut self, id: u64, ctx: &mut Context<Self>) {
        self.progress.committed(id);
        if !matches!(self.core.phase, Phase::Running | Phase::Sealing) {
            // Closed (or crashed): nothing to commit; a rollback restores a complete state.
            return;
        }
        if let Some(spout) = self.spout.as_mut() {
            if let Err(f) = hook::call(|| spout.commit(id)) {
                return self.fail("commit", f, ctx);
            }
        }
        self.awaiting_commit = false;
        if self.core.phase == Phase::Sealing {
            if !self.progress.uncommitted(self.core.out.emitted) {
                return self.finish(ctx);
            }
            // That checkpoint began before the last emit: ask for the next one at once.
            self.await_commit();
        }
    }

    /// The spout is finished or told to drain (and sealed): flush, send end-of-stream, close.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.core.phase = Phase::Draining;
        self.core.out.finish();
        if self.core.env.checkpointing() {
            match self.record(None) {
                Ok(r) => self.final_record = Some(r),
                Err(f) => return self.fail("snapshot", f, ctx),
            }
        }
        if let Some(spout) = self.spout.as_mut() {
            if let Err(f) = hook::call_infallible(|| spout.close()) {
                return self.fail("close", f, ctx);
            }
        }
        self.maybe_done(ctx);
    }

    fn maybe_done(&mut self, _ctx: &mut Context<Self>) {
        if self.core.phase != Phase::Draining || !self.core.out.is_drained() {
            return;
        }
        // Kept: a rollback may revive and end this task again.
        let record = self.final_record.clone();
        self.core.phase = Phase::Done;
        self.report_done(record);
    }
}
