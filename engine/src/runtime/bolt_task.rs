//! The executor of one bolt task: an actix actor that executes its inbox while its outputs have
//! credit, returns a credit per executed batch, and finishes once every input has ended.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, ActorContext, AsyncContext, Context, Handler, Message};

use super::env::TaskEnv;
use super::hook::{self, HookFailure};
use super::metrics::TaskMetrics;
use super::output::Output;
use super::stats::TaskStats;
use super::wire::{InputLink, Wire};
use crate::component::{collector::origin_of, Bolt, BoltCollector};
use crate::transport::codec::decode_batch;
use crate::transport::message::{Control, Credit, Inbound, Payload};
use crate::transport::Batch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Unwired,
    Running,
    /// `finish` ran; waiting for credit to send what is left and end-of-stream.
    Draining,
    Done,
}

/// Execute queued input.
struct Drain;

impl Message for Drain {
    type Result = ();
}

/// Builds a fresh bolt instance for a task (at start, and on restart).
pub(crate) type BoltFactory<B> = Arc<dyn Fn() -> B + Send + Sync>;

pub(crate) struct BoltTask<B: Bolt> {
    env: TaskEnv,
    factory: BoltFactory<B>,
    bolt: Option<Box<B>>,
    out: Output<B::Output>,
    inputs: Vec<InputLink>,
    /// Received but not yet executed; `None` marks end-of-stream on that link. Bounded by the
    /// credits of the input links.
    inbox: VecDeque<(u32, Option<Batch<B::Input>>)>,
    /// Input links that have not ended.
    open_links: usize,
    phase: Phase,
    /// A `Drain` is queued; never queue two.
    drain_scheduled: bool,
    partial_since: Option<Instant>,
    executed: u64,
    started: Instant,
    metrics: TaskMetrics,
}

impl<B: Bolt> BoltTask<B> {
    pub(crate) fn new(env: TaskEnv, factory: BoltFactory<B>) -> Self {
        let batch_size = env.config.batch_size;
        BoltTask {
            metrics: TaskMetrics::bolt(&env),
            env,
            factory,
            bolt: None,
            out: Output::unwired(batch_size),
            inputs: Vec::new(),
            inbox: VecDeque::new(),
            open_links: 0,
            phase: Phase::Unwired,
            drain_scheduled: false,
            partial_since: None,
            executed: 0,
            started: Instant::now(),
        }
    }

    fn schedule_drain(&mut self, ctx: &mut Context<Self>) {
        if !self.drain_scheduled {
            self.drain_scheduled = true;
            ctx.notify(Drain);
        }
    }

    fn fail(&mut self, hook: &'static str, failure: HookFailure, ctx: &mut Context<Self>) {
        self.phase = Phase::Done;
        self.env.report_failure(hook, &failure);
        ctx.stop();
    }

    fn drain(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running {
            return;
        }
        let wake = Instant::now();
        let mut executed_batches = 0;
        while !self.out.is_blocked() && executed_batches < self.env.config.batches_per_wake {
            let Some((link, item)) = self.inbox.pop_front() else {
                break;
            };
            match item {
                Some(batch) => {
                    if let Err(f) = self.execute_batch(link, batch) {
                        return self.fail("execute", f, ctx);
                    }
                    executed_batches += 1;
                }
                None => self.open_links = self.open_links.saturating_sub(1),
            }
        }
        if self.open_links == 0 && self.inbox.is_empty() {
            return self.finish(ctx);
        }
        if self.inbox.is_empty() {
            // Idle: nothing more to batch with, so send partial batches now.
            self.out.flush();
            self.partial_since = None;
            return;
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
        if !self.out.is_blocked() {
            self.schedule_drain(ctx);
        }
    }

    fn execute_batch(&mut self, link: u32, batch: Batch<B::Input>) -> Result<(), HookFailure> {
        let Some(bolt) = self.bolt.as_mut() else {
            return Ok(());
        };
        let Some(input) = self.inputs.get(link as usize) else {
            return Err(HookFailure::Error(format!("batch on unknown link {link}")));
        };
        let timer = self.metrics.batch_started();
        let tuples = batch.values.len() as u64;
        let now = if self.env.config.track_latency {
            origin_of(self.env.epoch, Instant::now())
        } else {
            0
        };
        for (value, origin) in batch.values.into_iter().zip(batch.origins) {
            let before = self.out.emitted;
            let mut collector = BoltCollector {
                out: &mut self.out,
                origin,
                source: Some(&input.source),
            };
            hook::call(|| bolt.execute(value, &mut collector))?;
            self.executed += 1;
            // A tuple that caused no emit ends its branch of the tree here.
            if origin != 0 && self.out.emitted == before {
                self.metrics.record_latency(now, origin);
            }
        }
        if let Some(msg) = self.out.failure.take() {
            return Err(HookFailure::Error(msg));
        }
        input.credit_to.do_send(input.credit);
        let queued = self.inbox.len();
        self.metrics
            .batch_done(timer, tuples, self.out.emitted, queued);
        Ok(())
    }

    /// Every input ended: run `finish`, flush, and pass end-of-stream on.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        if let Some(bolt) = self.bolt.as_mut() {
            let mut collector = BoltCollector {
                out: &mut self.out,
                origin: 0,
                source: None,
            };
            if let Err(f) = hook::call(|| bolt.finish(&mut collector)) {
                return self.fail("finish", f, ctx);
            }
            if let Some(msg) = self.out.failure.take() {
                return self.fail("finish", HookFailure::Error(msg), ctx);
            }
            if let Err(f) = hook::call_infallible(|| bolt.cleanup()) {
                return self.fail("cleanup", f, ctx);
            }
        }
        self.phase = Phase::Draining;
        self.out.finish();
        self.maybe_done(ctx);
    }

    fn maybe_done(&mut self, ctx: &mut Context<Self>) {
        if self.phase == Phase::Draining && self.out.is_drained() {
            self.phase = Phase::Done;
            let measured = self.metrics.finish(self.out.emitted);
            self.env.report_done(TaskStats {
                node: self.env.node,
                emitted: self.out.emitted,
                executed: self.executed,
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

impl<B: Bolt> Actor for BoltTask<B> {
    type Context = Context<Self>;
}

impl<B: Bolt> Handler<Wire<B::Output>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, wire: Wire<B::Output>, ctx: &mut Context<Self>) {
        let config = &self.env.config;
        self.out = Output::new(
            wire.edges,
            self.env.ctx.task,
            self.env.ctx.worker,
            config.batch_size,
            config.max_batches_in_flight,
            config.always_serialize,
        );
        self.open_links = wire.inputs.len();
        self.inputs = wire.inputs;
        let factory = self.factory.clone();
        let mut bolt = match hook::call_infallible(|| factory()) {
            Ok(b) => b,
            Err(f) => return self.fail("factory", f, ctx),
        };
        let task_ctx = self.env.ctx.clone();
        if let Err(f) = hook::call(|| bolt.prepare(&task_ctx)) {
            return self.fail("prepare", f, ctx);
        }
        self.bolt = Some(Box::new(bolt));
        self.started = Instant::now();
        self.phase = Phase::Running;
        // Input may have arrived before the wiring.
        if !self.inbox.is_empty() || self.open_links == 0 {
            self.schedule_drain(ctx);
        }
    }
}

impl<B: Bolt> Handler<Inbound<B::Input>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, msg: Inbound<B::Input>, ctx: &mut Context<Self>) {
        let item = match msg.payload {
            Payload::Batch(b) => Some(b),
            Payload::Encoded(bytes) => match decode_batch(&bytes) {
                Ok(b) => Some(b),
                Err(e) => return self.fail("decode", HookFailure::Error(e.to_string()), ctx),
            },
            Payload::Eos => None,
        };
        self.inbox.push_back((msg.link, item));
        if self.phase == Phase::Running {
            self.schedule_drain(ctx);
        }
    }
}

impl<B: Bolt> Handler<Drain> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, _: Drain, ctx: &mut Context<Self>) {
        self.drain_scheduled = false;
        self.drain(ctx);
    }
}

impl<B: Bolt> Handler<Credit> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, credit: Credit, ctx: &mut Context<Self>) {
        let unblocked = self.out.credit(credit.edge, credit.target);
        match self.phase {
            Phase::Running if unblocked => self.schedule_drain(ctx),
            Phase::Draining => self.maybe_done(ctx),
            _ => {}
        }
    }
}

impl<B: Bolt> Handler<Control> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, _: Control, _: &mut Context<Self>) {
        // Bolts drain when their inputs end; nothing to do on a drain request.
    }
}
