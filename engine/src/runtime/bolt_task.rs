//! The executor of one bolt task: an actix actor that executes its inbox while its outputs have
//! credit, returns a credit per executed batch, snapshots at checkpoint barriers, and finishes
//! once every input has ended.
//!
//! A panic in a hook does not end the actor: the task drops the user instance, reports the
//! crash and waits; the supervisor answers with a `Restart` (a fresh instance; exactly once, a
//! rollback of every task to the last complete checkpoint; at least once, this task's state
//! from that checkpoint, after it failed the trees its crash lost). The actor, its address, its
//! inbox and the links to it stay the same throughout.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, AsyncContext, Context, Handler, Message};
use rustc_hash::FxHashMap;

use super::acker::AckOp;
use super::chaos::{ChaosMemory, ChaosMonkey};
use super::checkpoint::TaskRecord;
use super::env::TaskEnv;
use super::hook::{self, HookFailure};
use super::inbox::{Alignment, Arrival, Inbox, Item};
use super::metrics::TaskMetrics;
use super::output::{Output, Tracking};
use super::run_report::DeadLetter;
use super::stats::TaskStats;
use super::wire::{InputLink, Wire};
use crate::component::{collector::origin_of, Anchor, Bolt, BoltCollector};
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
    started: Instant,
    /// Counters, gauges, execute time and end-to-end latency.
    metrics: TaskMetrics,
    /// Ops the collector recorded for the tuple being executed.
    explicit: Vec<AckOp>,
    /// Ops to send to the ackers at the end of this wake-up.
    acks: Vec<AckOp>,
    /// The bolt keeps state: its acks wait for the checkpoint holding their effect.
    stateful: bool,
    /// Acks of inputs executed since the last snapshot.
    held: Vec<AckOp>,
    /// Acks of inputs in a snapshot, by checkpoint, released when it completes.
    awaiting: Vec<(u64, Vec<AckOp>)>,
    /// The task saw an `Err` and fingerprints its inputs.
    careful: bool,
    /// Failures per input fingerprint (at least once).
    attempts: FxHashMap<u64, u32>,
    /// A stateful bolt executed an untracked tuple since its last snapshot: no replay would
    /// bring it back if the state were lost.
    untracked_held: bool,
    /// The last checkpoint whose snapshot holds such a tuple, until it completes.
    untracked_awaiting: Option<u64>,
}

impl<B: Bolt> BoltTask<B> {
    pub(crate) fn new(env: TaskEnv, factory: BoltFactory<B>, chaos_memory: ChaosMemory) -> Self {
        let batch_size = env.config.batch_size;
        let metrics = TaskMetrics::bolt(&env);
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
            started: Instant::now(),
            metrics,
            explicit: Vec::new(),
            acks: Vec::new(),
            stateful: false,
            held: Vec::new(),
            awaiting: Vec::new(),
            careful: false,
            attempts: FxHashMap::default(),
            untracked_held: false,
            untracked_awaiting: None,
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
        let local = self.fail_lost_trees();
        self.env.report_crash(self.gen, hook, &failure, local);
    }

    /// At least once, the instance is gone: fail now, and only, the trees whose work went with
    /// it: the tuple being executed (its emits may be partial) and, for a stateful bolt, the
    /// tuples whose acks wait for a checkpoint (the fresh instance restores the last complete
    /// one, without their effect). What is still queued stays in the inbox for the fresh
    /// instance, and every other task keeps its trees. Returns false when that cannot bring
    /// back all that was lost: an untracked tuple (no tree to fail) was executing, or is in
    /// the lost state of a stateful bolt; then every task must roll back.
    fn fail_lost_trees(&mut self) -> bool {
        let Some(tracking) = self.out.tracking.as_mut() else {
            return false;
        };
        let untracked_executing = tracking.current.iter().any(|a| a.ids.is_empty());
        let mut roots: Vec<u64> = tracking
            .current
            .drain(..)
            .flat_map(|a| a.ids.into_iter().map(|(root, _)| root))
            .collect();
        let untracked_lost =
            std::mem::take(&mut self.untracked_held) || self.untracked_awaiting.take().is_some();
        self.explicit.clear();
        let held = std::mem::take(&mut self.held);
        let awaiting = std::mem::take(&mut self.awaiting);
        roots.extend(
            held.iter()
                .chain(awaiting.iter().flat_map(|(_, ops)| ops))
                .map(AckOp::root),
        );
        roots.sort_unstable();
        roots.dedup();
        self.acks
            .extend(roots.into_iter().map(|root| AckOp::Fail { root }));
        self.env.send_acks(&mut self.acks);
        !untracked_executing && !untracked_lost
    }

    /// Builds a fresh instance and prepares it.
    fn build(&mut self) -> Result<(), (&'static str, HookFailure)> {
        let factory = self.factory.clone();
        let mut bolt = hook::call_infallible(|| factory()).map_err(|f| ("factory", f))?;
        let task_ctx = self.env.ctx.clone();
        hook::call(|| bolt.prepare(&task_ctx)).map_err(|f| ("prepare", f))?;
        if self.env.tracking() {
            // Whether the bolt keeps state decides when its acks may go out.
            self.stateful = hook::call(|| bolt.snapshot())
                .map_err(|f| ("snapshot", f))?
                .is_some();
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
        self.env.send_acks(&mut self.acks);
    }

    fn drain_inbox(&mut self, ctx: &mut Context<Self>) {
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
        if !self.held.is_empty() {
            self.awaiting.push((id, std::mem::take(&mut self.held)));
        }
        if std::mem::take(&mut self.untracked_held) {
            self.untracked_awaiting = Some(id);
        }
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
        mut batch: Batch<B::Input>,
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
        let timer = self.metrics.batch_started();
        let count = batch.values.len() as u64;
        let trees = std::mem::take(&mut batch.trees);
        let tree_ends = std::mem::take(&mut batch.tree_ends);
        let tracking = self.out.tracking.is_some();
        let mut tuples = batch.values.into_iter().zip(batch.origins).enumerate();
        while let Some((i, (value, origin))) = tuples.next() {
            if let Some(t) = self.out.tracking.as_mut() {
                let start = match i.checked_sub(1) {
                    Some(p) => tree_ends.get(p).map_or(0, |&e| e as usize),
                    None => 0,
                };
                let end = tree_ends.get(i).map_or(start, |&e| e as usize);
                t.current.clear();
                t.current
                    .push(Anchor::new(trees.get(start..end).unwrap_or(&[])));
            }
            if let Some(chaos) = self.chaos.as_mut() {
                if chaos.strikes(&value) {
                    let f = HookFailure::Panic("chaos: injected panic".into());
                    // As with a real panic, the tuple in hand is lost (unless a rollback or a
                    // replay brings it back); the rest of the batch waits.
                    let rest = tuples.map(|(_, t)| t);
                    let rest = remainder(rest, &trees, &tree_ends, i);
                    stash(&mut self.inbox, link, self.gen, rest);
                    return Err(("execute", f));
                }
            }
            let before = self.out.emitted;
            let mut collector = BoltCollector {
                out: &mut self.out,
                origin,
                source: Some(&input.source),
                acks: &mut self.explicit,
            };
            // A task that has seen an `Err` fingerprints its inputs from then on, to count a
            // replayed tuple's attempts and keep its payload; encoding every tuple of every
            // task would cost more than the rest of the hot path.
            let payload = if self.careful {
                rmp_serde::to_vec(&value).ok()
            } else {
                None
            };
            let result = hook::call(|| bolt.execute(value, &mut collector));
            let anchor = self.out.tracking.as_mut().and_then(|t| t.current.pop());
            if self.stateful && anchor.as_ref().is_some_and(|a| a.ids.is_empty()) {
                self.untracked_held = true;
            }
            match result {
                Ok(()) => {
                    if let Some(a) = anchor {
                        acks_of(a, &mut self.explicit);
                    }
                }
                Err(HookFailure::Error(error)) => {
                    self.careful = true;
                    self.failed += 1;
                    self.metrics.add_outcomes(0, 1, 0, 0);
                    let attempts = match &payload {
                        Some(p) => {
                            let n = self.attempts.entry(fingerprint(p)).or_insert(0);
                            *n += 1;
                            *n
                        }
                        None => 1,
                    };
                    let give_up =
                        !tracking || attempts >= self.env.config.max_tuple_attempts.max(1);
                    if give_up {
                        // Given up on: a dead letter with its MessagePack payload (empty for
                        // the first failure a task sees, before it fingerprints), and the
                        // tree is acked so the spout stops replaying it.
                        if self.dead_letters.len() < DEAD_LETTERS_KEPT {
                            self.dead_letters.push(DeadLetter {
                                component: self.env.ctx.component.to_string(),
                                task: self.env.ctx.task,
                                payload: payload.unwrap_or_default(),
                                error,
                                attempts,
                            });
                        }
                        if let Some(a) = anchor {
                            acks_of(a, &mut self.explicit);
                        }
                    } else if let Some(a) = anchor {
                        // Storm's `fail`: the spout replays the tree.
                        for (root, _) in a.ids {
                            self.explicit.push(AckOp::Fail { root });
                        }
                    }
                    route_acks(
                        &mut self.explicit,
                        &mut self.acks,
                        &mut self.held,
                        self.stateful,
                    );
                    continue;
                }
                Err(panic) => {
                    // The tuple's tree fails with the crash (`fail_lost_trees`).
                    if let (Some(a), Some(t)) = (anchor, self.out.tracking.as_mut()) {
                        t.current.push(a);
                    }
                    // The rest of the batch waits for the fresh instance (without a rollback
                    // nothing else would bring it back).
                    let rest = tuples.map(|(_, t)| t);
                    let rest = remainder(rest, &trees, &tree_ends, i);
                    stash(&mut self.inbox, link, self.gen, rest);
                    return Err(("execute", panic));
                }
            }
            route_acks(
                &mut self.explicit,
                &mut self.acks,
                &mut self.held,
                self.stateful,
            );
            self.executed += 1;
            // Without acking, a tuple that caused no emit ends its branch of the tree here;
            // with acking the spout records the latency when the whole tree completes.
            if !tracking && origin != 0 && self.out.emitted == before {
                self.metrics.record_latency(now, origin);
            }
        }
        if let Some(msg) = self.out.failure.take() {
            return Err(("emit", HookFailure::Error(msg)));
        }
        let queued = self.inbox.len();
        self.metrics
            .batch_done(timer, count, self.out.emitted, queued);
        Ok(())
    }

    /// Every input ended: run `finish`, flush, and pass end-of-stream on.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        if let Some(bolt) = self.bolt.as_mut() {
            let mut collector = BoltCollector {
                out: &mut self.out,
                origin: 0,
                source: None,
                acks: &mut self.explicit,
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
        let measured = self.metrics.finish(self.out.emitted);
        let stats = TaskStats {
            emitted: self.out.emitted,
            executed: self.executed,
            acked: 0,
            failed: self.failed,
            replayed: 0,
            started: self.started,
            ended: Instant::now(),
            latency: measured.latency,
            timeline: measured.timeline,
            execute: measured.execute,
            dead_letters: std::mem::take(&mut self.dead_letters),
        };
        self.env.report_done(self.gen, stats, record);
    }

    fn restart(&mut self, r: Restart, ctx: &mut Context<Self>) {
        if r.restarts > self.env.ctx.restarts {
            self.metrics.add_outcomes(0, 0, 0, 1);
        }
        self.env.ctx.restarts = r.restarts;
        if r.rollback {
            self.gen = r.gen;
            self.out.reset(r.gen);
            for link in self.inbox.drop_older_than(r.gen) {
                self.return_credit(link);
            }
            // Acks not sent belong to trees the spouts fail and replay now.
            self.acks.clear();
            self.held.clear();
            self.awaiting.clear();
            self.untracked_held = false;
            self.untracked_awaiting = None;
            self.explicit.clear();
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
            self.phase = Phase::Done;
            let record = self.record(true).ok();
            return self.report_done(record);
        }
        self.phase = Phase::Running;
        self.schedule_drain(ctx);
    }
}

/// What is left of a batch after its tuple `crashed`, with the trees of those tuples (they
/// stay tracked: the fresh instance acks them).
fn remainder<T>(
    rest: impl Iterator<Item = (T, u64)>,
    trees: &[(u64, u64)],
    tree_ends: &[u32],
    crashed: usize,
) -> Batch<T> {
    let (values, origins) = rest.unzip();
    let mut batch = Batch::from_parts(values, origins);
    if let Some(&from) = tree_ends.get(crashed) {
        batch.trees = trees.get(from as usize..).unwrap_or(&[]).to_vec();
        batch.tree_ends = tree_ends
            .get(crashed + 1..)
            .unwrap_or(&[])
            .iter()
            .map(|&e| e - from)
            .collect();
    }
    batch
}

/// Puts what is left of a batch back in front of the inbox, for the fresh instance.
fn stash<T>(inbox: &mut Inbox<T>, link: u32, gen: u64, rest: Batch<T>) {
    if !rest.is_empty() {
        inbox.unpop((link, gen, Item::Remainder(rest)));
    }
}

/// The ack ops of a tuple: its edge id XOR the edges anchored to it, per root.
fn acks_of(anchor: Anchor, ops: &mut Vec<AckOp>) {
    for (root, edge) in anchor.ids {
        ops.push(AckOp::Ack {
            root,
            xor: edge ^ anchor.ack_val,
        });
    }
}

/// Sorts the ops of the last tuple: fails go out at once; acks of a stateful bolt wait for
/// the checkpoint that holds their effect (at least once), others go out with the next send.
fn route_acks(
    explicit: &mut Vec<AckOp>,
    acks: &mut Vec<AckOp>,
    held: &mut Vec<AckOp>,
    stateful: bool,
) {
    if explicit.is_empty() {
        return;
    }
    for op in explicit.drain(..) {
        match op {
            AckOp::Ack { .. } if stateful => held.push(op),
            _ => acks.push(op),
        }
    }
}

fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    bytes.hash(&mut h);
    h.finish()
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
        self.out.declare(&wire.streams);
        if self.env.tracking() {
            self.out.tracking = Some(Tracking::new(self.env.seed()));
        }
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
                // The checkpoint holds the effect of these inputs: their acks may go out.
                let (ready, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.awaiting)
                    .into_iter()
                    .partition(|(c, _)| *c <= id);
                self.awaiting = later;
                if self.untracked_awaiting.is_some_and(|c| c <= id) {
                    self.untracked_awaiting = None;
                }
                self.acks.extend(ready.into_iter().flat_map(|(_, ops)| ops));
                self.env.send_acks(&mut self.acks);
                if let Some(bolt) = self.bolt.as_mut() {
                    if let Err(f) = hook::call(|| bolt.commit(id)) {
                        self.crash("commit", f);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remainder_of_a_crashed_batch_keeps_its_trees() {
        // Tuples 10, 11, 12 with trees [a], [b, c], [d]; 10 crashed.
        let trees = [(1, 1), (2, 2), (3, 3), (4, 4)];
        let ends = [1, 3, 4];
        let rest = remainder([(11, 0), (12, 0)].into_iter(), &trees, &ends, 0);
        assert_eq!(rest.values, [11, 12]);
        assert_eq!(rest.trees, [(2, 2), (3, 3), (4, 4)]);
        assert_eq!(rest.tree_ends, [2, 3]);
        let untracked = remainder([(11u8, 0)].into_iter(), &[], &[], 0);
        assert!(untracked.trees.is_empty() && untracked.tree_ends.is_empty());
    }
}
