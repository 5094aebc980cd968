//! The executor of one bolt task: an actix actor that executes its inbox while its outputs have
//! credit, returns a credit per executed batch, snapshots at checkpoint barriers, and finishes
//! once every input has ended.
//!
//! A panic in a hook does not end the actor: the task drops the user instance, reports the
//! crash and waits; the supervisor answers with a `Restart` (a fresh instance, and in the
//! checkpointing modes a rollback to the last complete checkpoint). The actor, its address and
//! the links to it stay the same throughout.

use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, AsyncContext, Context, Handler, Message};
use hdrhistogram::Histogram;

use super::chaos::{ChaosMemory, ChaosMonkey};
use super::checkpoint::TaskRecord;
use super::env::TaskEnv;
use super::hook::{self, HookFailure};
use super::inbox::{Alignment, Arrival, Inbox, Item};
use super::output::Output;
use super::run_report::DeadLetter;
use super::stats::{new_histogram, record, TaskStats};
use super::wire::{InputLink, Wire};
use crate::component::{collector::origin_of, Bolt, BoltCollector};
use crate::transport::codec::decode_batch;
use crate::transport::message::{Control, Credit, Inbound, Payload, Restart};
use crate::transport::Batch;
use crate::Guarantee;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Unwired,
    Running,
    /// A hook failed; waiting for the supervisor's restart.
    Crashed,
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

/// Dead letters a task keeps for the report; `failed` counts every one.
const DEAD_LETTERS_KEPT: usize = 100;

pub(crate) struct BoltTask<B: Bolt> {
    env: TaskEnv,
    factory: BoltFactory<B>,
    bolt: Option<Box<B>>,
    out: Output<B::Output>,
    inputs: Vec<InputLink>,
    inbox: Inbox<B::Input>,
    /// The generation this task is in; arrivals of older ones are dropped.
    gen: u64,
    phase: Phase,
    /// A `Drain` is queued; never queue two.
    drain_scheduled: bool,
    partial_since: Option<Instant>,
    chaos: Option<ChaosMonkey>,
    executed: u64,
    failed: u64,
    dead_letters: Vec<DeadLetter>,
    latency: Histogram<u64>,
    started: Instant,
}

impl<B: Bolt> BoltTask<B> {
    pub(crate) fn new(env: TaskEnv, factory: BoltFactory<B>, chaos_memory: ChaosMemory) -> Self {
        let batch_size = env.config.batch_size;
        let chaos = env
            .config
            .chaos
            .map(|c| ChaosMonkey::new(c, &env.ctx.component, chaos_memory));
        BoltTask {
            env,
            factory,
            bolt: None,
            out: Output::unwired(batch_size),
            inputs: Vec::new(),
            inbox: Inbox::new(),
            gen: 0,
            phase: Phase::Unwired,
            drain_scheduled: false,
            partial_since: None,
            chaos,
            executed: 0,
            failed: 0,
            dead_letters: Vec::new(),
            latency: new_histogram(),
            started: Instant::now(),
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
        self.phase = Phase::Crashed;
        self.bolt = None;
        self.partial_since = None;
        self.env.report_crash(self.gen, hook, &failure);
    }

    /// Builds a fresh instance and prepares it.
    fn build(&mut self) -> Result<(), (&'static str, HookFailure)> {
        let factory = self.factory.clone();
        let mut bolt = hook::call_infallible(|| factory()).map_err(|f| ("factory", f))?;
        let task_ctx = self.env.ctx.clone();
        hook::call(|| bolt.prepare(&task_ctx)).map_err(|f| ("prepare", f))?;
        self.bolt = Some(Box::new(bolt));
        Ok(())
    }

    fn return_credit(&self, link: u32) {
        if let Some(input) = self.inputs.get(link as usize) {
            input.credit_to.do_send(input.credit);
        }
    }

    fn drain(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running {
            return;
        }
        let wake = Instant::now();
        let mut executed_batches = 0;
        while !self.out.is_blocked() && executed_batches < self.env.config.batches_per_wake {
            let Some((link, gen, item)) = self.inbox.pop() else {
                break;
            };
            if gen < self.gen {
                if matches!(item, Item::Batch(_)) {
                    self.return_credit(link);
                }
                continue;
            }
            if gen > self.gen {
                // Sent after a rollback this task has not heard of yet: wait for the restart.
                self.inbox.unpop((link, gen, item));
                return;
            }
            let aligning = self.env.config.guarantee == Guarantee::ExactlyOnce;
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
                Item::Barrier(id) => self.on_barrier(link, id),
                Item::Eos => {
                    if let Some(c) = self.inbox.closed.get_mut(link as usize) {
                        *c = true;
                    }
                }
            }
            if self.inbox.alignment_complete() {
                if let Err(f) = self.complete_checkpoint() {
                    return self.crash("snapshot", f);
                }
            }
            if self.phase != Phase::Running {
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

    fn on_barrier(&mut self, link: u32, id: u64) {
        let links = self.inputs.len();
        let a = self.inbox.alignment.get_or_insert_with(|| Alignment {
            id,
            seen: vec![false; links],
        });
        if a.id < id {
            // A newer barrier overtook an abandoned one: align on the newer.
            *a = Alignment {
                id,
                seen: vec![false; links],
            };
        }
        if a.id == id {
            if let Some(s) = a.seen.get_mut(link as usize) {
                *s = true;
            }
        }
    }

    /// Every open link delivered the barrier: snapshot, report, pass the barrier on.
    fn complete_checkpoint(&mut self) -> Result<(), HookFailure> {
        let Some(id) = self.inbox.alignment.as_ref().map(|a| a.id) else {
            return Ok(());
        };
        let record = self.record(false)?;
        self.env.report_snapshot(self.gen, id, record);
        self.out.barrier(id);
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
        })
    }

    fn execute_batch(
        &mut self,
        link: u32,
        batch: Batch<B::Input>,
    ) -> Result<(), (&'static str, HookFailure)> {
        let Some(bolt) = self.bolt.as_mut() else {
            return Ok(());
        };
        let Some(input) = self.inputs.get(link as usize) else {
            let f = HookFailure::Error(format!("batch on unknown link {link}"));
            return Err(("execute", f));
        };
        let now = if self.env.config.track_latency {
            origin_of(self.env.epoch, Instant::now())
        } else {
            0
        };
        let mut tuples = batch.values.into_iter().zip(batch.origins);
        while let Some((value, origin)) = tuples.next() {
            if let Some(chaos) = self.chaos.as_mut() {
                if chaos.strikes(&value) {
                    let f = HookFailure::Panic("chaos: injected panic".into());
                    // As with a real panic, the tuple in hand is lost (unless a rollback or a
                    // replay brings it back); the rest of the batch waits.
                    let (values, origins) = tuples.unzip();
                    let rest = Batch { values, origins };
                    if !rest.is_empty() {
                        self.inbox.unpop((link, self.gen, Item::Remainder(rest)));
                    }
                    return Err(("execute", f));
                }
            }
            let before = self.out.emitted;
            let mut collector = BoltCollector {
                out: &mut self.out,
                origin,
                source: Some(&input.source),
            };
            let payload = if self.dead_letters.len() < DEAD_LETTERS_KEPT {
                rmp_serde::to_vec(&value).ok()
            } else {
                None
            };
            match hook::call(|| bolt.execute(value, &mut collector)) {
                Ok(()) => {}
                Err(HookFailure::Error(error)) => {
                    // Storm's `fail`: the tuple is given up on (without tracking there is
                    // nothing to replay), kept as a dead letter with its MessagePack payload.
                    self.failed += 1;
                    if let Some(payload) = payload {
                        self.dead_letters.push(DeadLetter {
                            component: self.env.ctx.component.to_string(),
                            task: self.env.ctx.task,
                            payload,
                            error,
                            attempts: 1,
                        });
                    }
                    continue;
                }
                Err(panic) => {
                    // The rest of the batch waits for the fresh instance (without a rollback
                    // nothing else would bring it back).
                    let (values, origins) = tuples.unzip();
                    let rest = Batch { values, origins };
                    if !rest.is_empty() {
                        self.inbox.unpop((link, self.gen, Item::Remainder(rest)));
                    }
                    return Err(("execute", panic));
                }
            }
            self.executed += 1;
            // A tuple that caused no emit ends its branch of the tree here.
            if origin != 0 && self.out.emitted == before {
                record(&mut self.latency, now.saturating_sub(origin));
            }
        }
        if let Some(msg) = self.out.failure.take() {
            return Err(("emit", HookFailure::Error(msg)));
        }
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
                return self.crash("finish", f);
            }
            if let Some(msg) = self.out.failure.take() {
                return self.crash("finish", HookFailure::Error(msg));
            }
            if let Err(f) = hook::call_infallible(|| bolt.cleanup()) {
                return self.crash("cleanup", f);
            }
        }
        self.phase = Phase::Draining;
        self.out.finish();
        self.maybe_done(ctx);
    }

    fn maybe_done(&mut self, _ctx: &mut Context<Self>) {
        if self.phase != Phase::Draining || !self.out.is_drained() {
            return;
        }
        let record = if self.env.checkpointing() {
            match self.record(true) {
                Ok(r) => Some(r),
                Err(f) => return self.crash("snapshot", f),
            }
        } else {
            None
        };
        self.phase = Phase::Done;
        self.report_done(record);
    }

    fn report_done(&mut self, record: Option<TaskRecord>) {
        let latency = std::mem::replace(&mut self.latency, new_histogram());
        let stats = TaskStats {
            emitted: self.out.emitted,
            executed: self.executed,
            acked: 0,
            failed: self.failed,
            replayed: 0,
            started: self.started,
            ended: Instant::now(),
            latency,
            dead_letters: std::mem::take(&mut self.dead_letters),
        };
        self.env.report_done(self.gen, stats, record);
    }

    fn restart(&mut self, r: Restart, ctx: &mut Context<Self>) {
        self.env.ctx.restarts = r.restarts;
        if r.rollback {
            self.gen = r.gen;
            self.out.reset(r.gen);
            for link in self.inbox.drop_older_than(r.gen) {
                self.return_credit(link);
            }
            let closed = r.record.as_ref().map_or(&[][..], |rec| &rec.closed[..]);
            self.inbox.reopen(self.inputs.len(), closed);
            self.partial_since = None;
        }
        if r.fresh || self.bolt.is_none() {
            self.bolt = None;
            if let Err((hook, f)) = self.build() {
                return self.crash(hook, f);
            }
        }
        let mut finished = false;
        if r.rollback {
            if let Some(rec) = r.record {
                finished = rec.finished;
                if let (Some(state), Some(bolt)) = (rec.state, self.bolt.as_mut()) {
                    if let Err(f) = hook::call(|| bolt.restore(state)) {
                        return self.crash("restore", f);
                    }
                }
            }
        }
        if finished {
            self.phase = Phase::Done;
            let record = self.record(true).ok();
            return self.report_done(record);
        }
        self.phase = Phase::Running;
        self.schedule_drain(ctx);
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
        self.inbox.reopen(wire.inputs.len(), &[]);
        self.inputs = wire.inputs;
        self.started = Instant::now();
        if let Err((hook, f)) = self.build() {
            return self.crash(hook, f);
        }
        self.phase = Phase::Running;
        // Input may have arrived before the wiring.
        self.schedule_drain(ctx);
    }
}

impl<B: Bolt> Handler<Inbound<B::Input>> for BoltTask<B> {
    type Result = ();

    fn handle(&mut self, msg: Inbound<B::Input>, ctx: &mut Context<Self>) {
        let item = match msg.payload {
            Payload::Batch(b) => Item::Batch(b),
            Payload::Encoded(bytes) => match decode_batch(&bytes) {
                Ok(b) => Item::Batch(b),
                Err(e) => {
                    return self
                        .env
                        .report_fatal("decode", &HookFailure::Error(e.to_string()))
                }
            },
            Payload::Barrier(id) => Item::Barrier(id),
            Payload::Eos => Item::Eos,
        };
        if msg.gen < self.gen {
            if matches!(item, Item::Batch(_)) {
                self.return_credit(msg.link);
            }
            return;
        }
        let arrival: Arrival<B::Input> = (msg.link, msg.gen, item);
        self.inbox.push(arrival);
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

    fn handle(&mut self, control: Control, ctx: &mut Context<Self>) {
        match control {
            // Bolts drain when their inputs end; spouts start checkpoints.
            Control::Drain | Control::Checkpoint(_) => {}
            Control::Restart(r) => self.restart(r, ctx),
            Control::Committed(id) => {
                if let Some(bolt) = self.bolt.as_mut() {
                    if let Err(f) = hook::call(|| bolt.commit(id)) {
                        self.crash("commit", f);
                    }
                }
            }
        }
    }
}
