//! The executor of one spout task: an actix actor that polls `next_tuple` while it has credit.

use std::sync::Arc;
use std::time::Instant;

use actix::fut::ActorFutureExt;
use actix::{Actor, AsyncContext, Context, Handler, Message, SpawnHandle};
use rustc_hash::{FxHashMap, FxHashSet};

use super::acker::{AckOp, TreeDone};
use super::checkpoint::TaskRecord;
use super::env::TaskEnv;
use super::hook::{self, HookFailure};
use super::metrics::TaskMetrics;
use super::output::Output;
use super::stats::TaskStats;
use super::wire::Wire;
use crate::component::{collector::origin_of, MessageId, Spout, SpoutCollector, SpoutWaker};
use crate::transport::message::{Control, Credit, Restart};
use crate::Guarantee;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Started, waiting for its wiring.
    Unwired,
    Running,
    /// A hook failed; waiting for the supervisor's restart.
    Crashed,
    /// Exactly-once: finished emitting (or told to drain), waiting for a checkpoint that
    /// covers every emit to complete, so that the spout is committed before it closes.
    Sealing,
    /// Finished emitting; waiting for credit to send what is left and end-of-stream.
    Draining,
    Done,
}

/// Poll the spout again.
struct Poll;

/// From the spout's [`crate::SpoutWaker`]: its source has input (sent only while the task
/// sleeps, at most one at a time).
pub(crate) struct Wake;

impl Message for Wake {
    type Result = ();
}

impl Message for Poll {
    type Result = ();
}

/// Builds a fresh spout instance for a task (at start, and on restart).
pub(crate) type SpoutFactory<S> = Arc<dyn Fn() -> S + Send + Sync>;

pub(crate) struct SpoutTask<S: Spout> {
    env: TaskEnv,
    factory: SpoutFactory<S>,
    spout: Option<Box<S>>,
    out: Output<S::Output>,
    phase: Phase,
    /// A `Poll` is queued or timed; never queue two.
    poll_scheduled: bool,
    /// Asleep until the spout's waker (or this fallback timer) fires; see `SpoutWaker`.
    asleep: Option<SpawnHandle>,
    /// Message ids emitted during the current `next_tuple` call: (id, root, xor of edges).
    tracked: Vec<(MessageId, u64, u64)>,
    /// Trees opened and not yet completed or failed: root -> (message id, emit time).
    pending: FxHashMap<u64, (MessageId, u64)>,
    /// `Init` ops not yet sent to the ackers.
    inits: Vec<AckOp>,
    /// Asked the controller for a checkpoint since the last emit.
    awaiting_acks: bool,
    acked: u64,
    failed: u64,
    /// Counters and gauges, and the completion latency of the trees acked here.
    metrics: TaskMetrics,
    /// When the oldest tuple of the open batches was emitted (linger).
    partial_since: Option<Instant>,
    started: Instant,
    /// The generation this task is in (see `Output::reset`).
    gen: u64,
    /// Tuples emitted when each uncommitted checkpoint was taken: a rollback to one of them
    /// counts what came after as replayed.
    emitted_at: Vec<Mark>,
    /// The position when this generation began.
    gen_start: u64,
    /// Tuples emitted again: counted when they are emitted, not when their replay is decided,
    /// so a spout whose `fail` drops the tuple counts nothing.
    replayed: u64,
    /// How far into its input the spout is, in emits: rewound with the spout, so an emit at a
    /// position at or below `high_water` repeats one made before.
    position: u64,
    /// The furthest position reached.
    high_water: u64,
    /// Message ids failed back to the spout: emitting one again is a replay.
    replay_ids: FxHashSet<MessageId>,
    /// The record taken when the spout finished, before `close`.
    final_record: Option<TaskRecord>,
    /// Tuples emitted when the last committed snapshot was taken (or when the checkpoint
    /// rolled back to was): exactly-once, a spout seals once this reaches `out.emitted`.
    committed: u64,
    /// Told to drain: after a rollback the spout seals again instead of running on.
    drained: bool,
    /// Asked the controller for a checkpoint since the last commit (exactly-once).
    awaiting_commit: bool,
}

/// Where a spout task stood when it took part in a checkpoint.
struct Mark {
    checkpoint: u64,
    /// Tuples emitted so far.
    emitted: u64,
    /// Its position in its input (see `SpoutTask::position`).
    position: u64,
}

impl<S: Spout> SpoutTask<S> {
    pub(crate) fn new(env: TaskEnv, factory: SpoutFactory<S>) -> Self {
        let batch_size = env.config.batch_size;
        let metrics = TaskMetrics::spout(&env);
        SpoutTask {
            env,
            factory,
            spout: None,
            out: Output::unwired(batch_size),
            phase: Phase::Unwired,
            poll_scheduled: false,
            asleep: None,
            tracked: Vec::new(),
            pending: FxHashMap::default(),
            inits: Vec::new(),
            awaiting_acks: false,
            acked: 0,
            failed: 0,
            metrics,
            partial_since: None,
            started: Instant::now(),
            gen: 0,
            emitted_at: Vec::new(),
            gen_start: 0,
            replayed: 0,
            position: 0,
            high_water: 0,
            replay_ids: FxHashSet::default(),
            final_record: None,
            committed: 0,
            drained: false,
            awaiting_commit: false,
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
        self.phase = Phase::Crashed;
        self.spout = None;
        self.partial_since = None;
        self.env.report_crash(self.gen, hook, &failure, true);
    }

    /// Builds a fresh instance, opens and activates it.
    fn build(&mut self) -> Result<(), (&'static str, HookFailure)> {
        let factory = self.factory.clone();
        let mut spout = hook::call_infallible(|| factory()).map_err(|f| ("factory", f))?;
        let task_ctx = self.env.ctx.clone();
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
        })
    }

    fn checkpoint(&mut self, id: u64, ctx: &mut Context<Self>) {
        if !matches!(self.phase, Phase::Running | Phase::Sealing) {
            // A finished spout's final record stands in for it.
            return;
        }
        match self.record(Some(id)) {
            Ok(record) => self.env.report_snapshot(self.gen, id, record),
            Err(f) => return self.fail("snapshot", f, ctx),
        }
        self.emitted_at.push(Mark {
            checkpoint: id,
            emitted: self.out.emitted,
            position: self.position,
        });
        self.out.barrier(id);
        self.partial_since = None;
    }

    fn restart(&mut self, r: Restart, ctx: &mut Context<Self>) {
        if r.restarts > self.env.ctx.restarts {
            self.metrics.add_outcomes(0, 0, 0, 1);
        }
        self.env.ctx.restarts = r.restarts;
        if r.rollback {
            self.gen = r.gen;
            self.out.reset(r.gen);
            self.partial_since = None;
            // What was emitted since the checkpoint rolled back to (or since this generation
            // began) goes out again.
            let position = r
                .checkpoint
                .and_then(|c| self.emitted_at.iter().find(|m| m.checkpoint == c))
                .map_or(self.gen_start, |m| m.position.max(self.gen_start));
            if self.env.config.guarantee != Guarantee::AtLeastOnce {
                // The spout is rewound to the checkpoint: its next emits repeat earlier ones.
                self.position = position;
            }
            self.emitted_at.clear();
            self.gen_start = self.position;
            // The checkpoint restored is complete: nothing before this point is uncommitted.
            self.committed = self.out.emitted;
            // A request the controller dropped for the rollback is asked again when needed.
            self.awaiting_commit = false;
        }
        if self.env.config.guarantee == Guarantee::AtLeastOnce {
            return self.recover_trees(r, ctx);
        }
        // A spout that finished was closed: only a fresh instance can run again.
        let closed = matches!(self.phase, Phase::Draining | Phase::Done);
        if r.fresh || self.spout.is_none() || (r.rollback && closed) {
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
                    self.phase = Phase::Done;
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
        self.phase = Phase::Running;
        self.schedule_poll(ctx);
    }

    /// At least once, when this spout task restarts: the spout is not rewound; every tree it
    /// still has open fails at once (a fresh instance does not know their message ids; one
    /// kept replays them in `fail`). A spout that finished with every tree acked stays done.
    fn recover_trees(&mut self, r: Restart, ctx: &mut Context<Self>) {
        let failed: Vec<MessageId> = self.pending.drain().map(|(_, (id, _))| id).collect();
        self.failed += failed.len() as u64;
        let n = failed.len() as u64;
        self.metrics.add_outcomes(0, n, 0, 0);
        let closed = matches!(self.phase, Phase::Draining | Phase::Done);
        if closed && failed.is_empty() {
            // Finished with every tree acked: all of it is in the checkpoint rolled back to.
            // End-of-stream goes out again, since that checkpoint may predate it (a consumer
            // that already closed the link ignores the second one).
            self.phase = Phase::Draining;
            self.out.finish();
            return self.maybe_done(ctx);
        }
        if r.fresh || self.spout.is_none() || closed {
            // A new instance starts over from the beginning: more duplicates, nothing lost.
            self.replay_ids.clear();
            self.position = 0;
            self.spout = None;
            if let Err((hook, f)) = self.build() {
                return self.fail(hook, f, ctx);
            }
        } else if let Some(spout) = self.spout.as_mut() {
            self.replay_ids.extend(failed.iter().copied());
            if let Err(f) =
                hook::call_infallible(|| failed.into_iter().for_each(|id| spout.fail(id)))
            {
                return self.fail("fail", f, ctx);
            }
        }
        self.phase = Phase::Running;
        self.schedule_poll(ctx);
    }

    /// Trees the ackers saw complete or fail: the spout's `ack` and `fail` run here.
    fn tree_done(&mut self, done: TreeDone, ctx: &mut Context<Self>) {
        let now = origin_of(self.env.epoch, Instant::now());
        let mut acked = Vec::with_capacity(done.completed.len());
        for root in done.completed {
            if let Some((id, origin)) = self.pending.remove(&root) {
                if origin != 0 {
                    self.metrics.record_latency(now, origin);
                }
                acked.push(id);
            }
        }
        let failed: Vec<MessageId> = done
            .failed
            .iter()
            .filter_map(|root| self.pending.remove(root).map(|(id, _)| id))
            .collect();
        self.acked += acked.len() as u64;
        self.failed += failed.len() as u64;
        self.replay_ids.extend(failed.iter().copied());
        self.awaiting_acks = false;
        let (a, f) = (acked.len() as u64, failed.len() as u64);
        self.metrics.add_outcomes(a, f, 0, 0);
        if let Some(spout) = self.spout.as_mut() {
            let called = hook::call_infallible(|| {
                acked.into_iter().for_each(|id| spout.ack(id));
                failed.into_iter().for_each(|id| spout.fail(id));
            });
            if let Err(f) = called {
                return self.fail("ack", f, ctx);
            }
        }
        if self.phase == Phase::Running {
            self.schedule_poll(ctx);
        }
    }

    fn report_done(&mut self, record: Option<TaskRecord>) {
        self.metrics.spout_emitted(self.out.emitted);
        let measured = self.metrics.finish(self.out.emitted);
        let stats = TaskStats {
            emitted: self.out.emitted,
            executed: 0,
            acked: self.acked,
            failed: self.failed,
            replayed: self.replayed,
            started: self.started,
            ended: Instant::now(),
            latency: measured.latency,
            timeline: measured.timeline,
            execute: measured.execute,
            dead_letters: Vec::new(),
        };
        self.env.report_done(self.gen, stats, record);
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        if let Some(waker) = &self.env.ctx.waker {
            waker.polling();
        }
        self.metrics.spout_emitted(self.out.emitted);
        self.poll_spout(ctx);
        self.env.send_acks(&mut self.inits);
    }

    /// Asks the controller for a checkpoint, once per stretch of waiting: the open trees'
    /// acks may be held by stateful bolts until one completes.
    fn await_acks(&mut self) {
        if !self.awaiting_acks {
            self.awaiting_acks = true;
            self.env.report_awaiting_acks();
        }
    }

    /// Exactly-once: the spout says its source waits for a commit, and one would help.
    fn awaits_commit(&self) -> bool {
        self.env.config.guarantee == Guarantee::ExactlyOnce
            && self.committed < self.out.emitted
            && self.spout.as_ref().is_some_and(|s| s.awaits_commit())
    }

    /// True while `max_spout_pending` trees are open.
    fn at_pending_cap(&self) -> bool {
        self.env
            .config
            .max_spout_pending
            .is_some_and(|cap| self.pending.len() >= cap)
    }

    fn count_replays(&mut self, n: u64) {
        if n > 0 {
            self.replayed += n;
            self.metrics.add_outcomes(0, 0, n, 0);
        }
    }

    /// Registers the trees `next_tuple` opened; acks at once what is not tracked.
    fn register(&mut self, origin: u64) -> Result<(), HookFailure> {
        let mut now = Vec::new();
        let mut replays = 0;
        for &(msg_id, _, _) in &self.tracked {
            if self.replay_ids.remove(&msg_id) {
                replays += 1;
            }
        }
        self.count_replays(replays);
        for (msg_id, root, xor) in self.tracked.drain(..) {
            if root == 0 || xor == 0 {
                // Untracked, or nobody subscribed: the tree is complete as it is.
                now.push(msg_id);
            } else {
                self.pending.insert(root, (msg_id, origin));
                self.inits.push(AckOp::Init {
                    root,
                    xor,
                    spout: self.env.spout_index,
                });
            }
        }
        if let (false, Some(spout)) = (now.is_empty(), self.spout.as_mut()) {
            hook::call_infallible(|| now.into_iter().for_each(|id| spout.ack(id)))?;
        }
        Ok(())
    }

    fn poll_spout(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running || self.out.is_blocked() || self.at_pending_cap() {
            return;
        }
        let track = self.env.config.track_latency;
        let epoch = self.env.epoch;
        let wake = Instant::now();
        for _ in 0..self.env.config.batch_size {
            let before = self.out.emitted;
            let origin = if track {
                origin_of(epoch, Instant::now())
            } else {
                0
            };
            let Some(spout) = self.spout.as_mut() else {
                return;
            };
            let mut collector = SpoutCollector {
                out: &mut self.out,
                origin,
                epoch,
                tracked: &mut self.tracked,
            };
            if let Err(f) = hook::call(|| spout.next_tuple(&mut collector)) {
                return self.fail("next_tuple", f, ctx);
            }
            if let Some(msg) = self.out.failure.take() {
                return self.fail("next_tuple", HookFailure::Error(msg), ctx);
            }
            let new = self.out.emitted - before;
            if new > 0 {
                let again = new.min(self.high_water.saturating_sub(self.position));
                self.position += new;
                self.high_water = self.high_water.max(self.position);
                self.count_replays(again);
            }
            if !self.tracked.is_empty() {
                if let Err(f) = self.register(origin) {
                    return self.fail("ack", f, ctx);
                }
            }
            let Some(spout) = self.spout.as_mut() else {
                return;
            };
            if spout.is_finished() {
                if self.pending.is_empty() {
                    return self.seal(ctx);
                }
                // At least once: finish only when every tree is acked (a failed one may be
                // replayed); checkpoints go on meanwhile, releasing stateful bolts' acks.
                self.out.flush();
                self.partial_since = None;
                self.await_acks();
                return;
            }
            if self.at_pending_cap() {
                self.out.flush();
                self.partial_since = None;
                return;
            }
            if self.out.emitted == before {
                // Nothing ready: send what we have now, and look again after the idle wait.
                self.out.flush();
                self.partial_since = None;
                if !self.pending.is_empty() {
                    self.await_acks();
                }
                if self.awaits_commit() {
                    self.await_commit();
                }
                self.poll_scheduled = true;
                if let Some(waker) = self.env.ctx.waker.as_ref().filter(|w| w.used()) {
                    if !waker.arm() {
                        return yield_then_poll(ctx);
                    }
                    let fallback = SpoutWaker::FALLBACK.max(self.env.config.idle_wait);
                    self.asleep = Some(ctx.run_later(fallback, |task, ctx| {
                        task.asleep = None;
                        task.poll_scheduled = false;
                        task.poll(ctx);
                    }));
                    return;
                }
                if self.env.config.idle_wait.is_zero() {
                    // Timers tick in whole milliseconds: yield to the worker's other tasks and
                    // poll again (a `notify` would be handled before the actor ever yields).
                    return yield_then_poll(ctx);
                }
                ctx.run_later(self.env.config.idle_wait, |task, ctx| {
                    task.poll_scheduled = false;
                    task.poll(ctx);
                });
                return;
            }
            if self.out.is_blocked() {
                // A credit will reschedule the poll.
                return;
            }
        }
        if self.out.has_partial() {
            match self.partial_since {
                None => self.partial_since = Some(wake),
                Some(since) if since.elapsed() >= self.env.config.linger => {
                    self.out.flush();
                    self.partial_since = None;
                }
                Some(_) => {}
            }
        }
        self.schedule_poll(ctx);
    }

    /// The spout is finished or told to drain. Exactly-once, every emit must be committed
    /// before `close` (a broker spout acknowledges in `commit`): when some are not, ask for a
    /// checkpoint at once and wait for it in `Sealing`; `committed` finishes the task.
    fn seal(&mut self, ctx: &mut Context<Self>) {
        if self.env.config.guarantee != Guarantee::ExactlyOnce || self.committed >= self.out.emitted
        {
            return self.finish(ctx);
        }
        self.phase = Phase::Sealing;
        self.out.flush();
        self.partial_since = None;
        self.await_commit();
    }

    /// Exactly-once: asks for a checkpoint now, once per commit.
    fn await_commit(&mut self) {
        if !self.awaiting_commit {
            self.awaiting_commit = true;
            self.env.report_awaiting_commit();
        }
    }

    /// Checkpoint `id` is complete everywhere: commit the spout, and finish a sealing task
    /// once that covers every emit.
    fn committed(&mut self, id: u64, ctx: &mut Context<Self>) {
        if let Some(m) = self.emitted_at.iter().find(|m| m.checkpoint == id) {
            self.committed = self.committed.max(m.emitted);
        }
        self.emitted_at.retain(|m| m.checkpoint >= id);
        if !matches!(self.phase, Phase::Running | Phase::Sealing) {
            // Closed (or crashed): nothing to commit; a rollback restores a complete state.
            return;
        }
        if let Some(spout) = self.spout.as_mut() {
            if let Err(f) = hook::call(|| spout.commit(id)) {
                return self.fail("commit", f, ctx);
            }
        }
        self.awaiting_commit = false;
        if self.phase == Phase::Sealing {
            if self.committed >= self.out.emitted {
                return self.finish(ctx);
            }
            // That checkpoint began before the last emit: ask for the next one at once.
            self.await_commit();
        }
    }

    /// The spout is finished or told to drain (and sealed): flush, send end-of-stream, close.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.phase = Phase::Draining;
        self.out.finish();
        if self.env.checkpointing() {
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
        if self.phase != Phase::Draining || !self.out.is_drained() {
            return;
        }
        // Kept: a rollback may revive and end this task again.
        let record = self.final_record.clone();
        self.phase = Phase::Done;
        self.report_done(record);
    }
}

/// Polls again once every other task of the worker has had its turn.
fn yield_then_poll<S: Spout>(ctx: &mut Context<SpoutTask<S>>) {
    let yielded = actix::fut::wrap_future::<_, SpoutTask<S>>(tokio::task::yield_now());
    ctx.spawn(yielded.map(|(), task, ctx| {
        task.poll_scheduled = false;
        task.poll(ctx);
    }));
}

impl<S: Spout> Actor for SpoutTask<S> {
    type Context = Context<Self>;
}

impl<S: Spout> Handler<Wire<S::Output>> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, wire: Wire<S::Output>, ctx: &mut Context<Self>) {
        let config = &self.env.config;
        self.out = Output::new(
            wire.edges,
            self.env.ctx.task,
            self.env.ctx.worker,
            config.batch_size,
            config.max_batches_in_flight,
            config.always_serialize,
        );
        self.out.declare(&wire.streams);
        if self.env.tracking() {
            self.out.tracking = Some(super::output::Tracking::new(self.env.seed()));
        }
        self.started = Instant::now();
        if let Err((hook, f)) = self.build() {
            return self.fail(hook, f, ctx);
        }
        self.phase = Phase::Running;
        self.schedule_poll(ctx);
    }
}

impl<S: Spout> Handler<Wake> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        // Only a sleeping task is woken; an awake one polls anyway.
        if self.asleep.is_some() {
            self.schedule_poll(ctx);
        }
    }
}

impl<S: Spout> Handler<Poll> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, _: Poll, ctx: &mut Context<Self>) {
        self.poll_scheduled = false;
        self.poll(ctx);
    }
}

impl<S: Spout> Handler<TreeDone> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, done: TreeDone, ctx: &mut Context<Self>) {
        self.tree_done(done, ctx);
    }
}

impl<S: Spout> Handler<Credit> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, credit: Credit, ctx: &mut Context<Self>) {
        let unblocked = self.out.credit(credit.edge, credit.target);
        match self.phase {
            Phase::Running if unblocked => self.schedule_poll(ctx),
            Phase::Draining => self.maybe_done(ctx),
            _ => {}
        }
    }
}

impl<S: Spout> Handler<Control> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, control: Control, ctx: &mut Context<Self>) {
        match control {
            Control::Drain => {
                self.drained = true;
                if self.phase == Phase::Running {
                    if let Some(spout) = self.spout.as_mut() {
                        if let Err(f) = hook::call_infallible(|| spout.deactivate()) {
                            return self.fail("deactivate", f, ctx);
                        }
                    }
                    self.seal(ctx);
                }
            }
            Control::Checkpoint(id) => self.checkpoint(id, ctx),
            Control::Committed(id) => self.committed(id, ctx),
            Control::Restart(r) => self.restart(r, ctx),
        }
    }
}
