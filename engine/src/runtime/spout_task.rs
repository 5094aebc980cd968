//! The executor of one spout task: an actix actor that polls `next_tuple` while it has credit.

use std::sync::Arc;
use std::time::Instant;

use actix::fut::ActorFutureExt;
use actix::{Actor, ActorContext, AsyncContext, Context, Handler, Message};

use super::env::TaskEnv;
use super::hook::{self, HookFailure};
use super::metrics::TaskMetrics;
use super::output::Output;
use super::stats::TaskStats;
use super::wire::Wire;
use crate::component::{collector::origin_of, MessageId, Spout, SpoutCollector};
use crate::transport::message::{Control, Credit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Started, waiting for its wiring.
    Unwired,
    Running,
    /// Finished emitting; waiting for credit to send what is left and end-of-stream.
    Draining,
    Done,
}

/// Poll the spout again.
struct Poll;

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
    /// Message ids emitted during the current `next_tuple` call.
    tracked: Vec<MessageId>,
    /// When the oldest tuple of the open batches was emitted (linger).
    partial_since: Option<Instant>,
    started: Instant,
    metrics: TaskMetrics,
}

impl<S: Spout> SpoutTask<S> {
    pub(crate) fn new(env: TaskEnv, factory: SpoutFactory<S>) -> Self {
        let batch_size = env.config.batch_size;
        SpoutTask {
            metrics: TaskMetrics::spout(&env),
            env,
            factory,
            spout: None,
            out: Output::unwired(batch_size),
            phase: Phase::Unwired,
            poll_scheduled: false,
            tracked: Vec::new(),
            partial_since: None,
            started: Instant::now(),
        }
    }

    fn schedule_poll(&mut self, ctx: &mut Context<Self>) {
        if !self.poll_scheduled {
            self.poll_scheduled = true;
            ctx.notify(Poll);
        }
    }

    fn fail(&mut self, hook: &'static str, failure: HookFailure, ctx: &mut Context<Self>) {
        self.phase = Phase::Done;
        self.env.report_failure(hook, &failure);
        ctx.stop();
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        self.metrics.spout_emitted(self.out.emitted);
        if self.phase != Phase::Running || self.out.is_blocked() {
            return;
        }
        let Some(spout) = self.spout.as_mut() else {
            return;
        };
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
            // No acking in this mode: a tracked tuple counts as done once emitted (Storm with
            // zero ackers).
            if !self.tracked.is_empty() {
                let tracked = &mut self.tracked;
                let acked =
                    hook::call_infallible(|| tracked.drain(..).for_each(|id| spout.ack(id)));
                if let Err(f) = acked {
                    return self.fail("ack", f, ctx);
                }
            }
            if spout.is_finished() {
                return self.finish(ctx);
            }
            if self.out.emitted == before {
                // Nothing ready: send what we have now, and look again after the idle wait.
                self.out.flush();
                self.partial_since = None;
                self.poll_scheduled = true;
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

    /// The spout is finished or told to drain: flush, send end-of-stream, close.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.phase = Phase::Draining;
        self.out.finish();
        if let Some(spout) = self.spout.as_mut() {
            if let Err(f) = hook::call_infallible(|| spout.close()) {
                return self.fail("close", f, ctx);
            }
        }
        self.maybe_done(ctx);
    }

    fn maybe_done(&mut self, ctx: &mut Context<Self>) {
        if self.phase == Phase::Draining && self.out.is_drained() {
            self.phase = Phase::Done;
            self.metrics.spout_emitted(self.out.emitted);
            let measured = self.metrics.finish(self.out.emitted);
            self.env.report_done(TaskStats {
                node: self.env.node,
                emitted: self.out.emitted,
                executed: 0,
                started: self.started,
                ended: Instant::now(),
                latency: measured.latency,
                timeline: measured.timeline,
                execute: measured.execute,
            });
            ctx.stop();
        }
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
        let factory = self.factory.clone();
        let mut spout = match hook::call_infallible(|| factory()) {
            Ok(s) => s,
            Err(f) => return self.fail("factory", f, ctx),
        };
        let task_ctx = self.env.ctx.clone();
        if let Err(f) = hook::call(|| spout.open(&task_ctx)) {
            return self.fail("open", f, ctx);
        }
        if let Err(f) = hook::call_infallible(|| spout.activate()) {
            return self.fail("activate", f, ctx);
        }
        self.spout = Some(Box::new(spout));
        self.started = Instant::now();
        self.phase = Phase::Running;
        self.schedule_poll(ctx);
    }
}

impl<S: Spout> Handler<Poll> for SpoutTask<S> {
    type Result = ();

    fn handle(&mut self, _: Poll, ctx: &mut Context<Self>) {
        self.poll_scheduled = false;
        self.poll(ctx);
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
                if self.phase == Phase::Running {
                    if let Some(spout) = self.spout.as_mut() {
                        if let Err(f) = hook::call_infallible(|| spout.deactivate()) {
                            return self.fail("deactivate", f, ctx);
                        }
                    }
                    self.finish(ctx);
                }
            }
        }
    }
}
