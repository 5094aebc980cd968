//! The controller of a running topology: it collects what tasks report, supervises them, and
//! coordinates checkpoints. It runs on the control plane's thread (`control_plane`), driven by
//! the task events channel and two timers (the next restart, the next checkpoint); `report`
//! turns what the tasks reported into the run's report.

mod report;

use std::time::{Duration, Instant};

use actix::Recipient;
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::runtime::control::checkpoint::Coordinator;
use crate::runtime::control::supervisor::{targets, Supervisor, TaskRef};
use crate::runtime::observability::stats::{TaskEvent, TaskStats};
use crate::transport::message::{Control, Restart};
use crate::{Config, Guarantee, RunError, TaskId};

/// What a wait ended with.
pub(crate) enum Wait {
    /// Every task finished.
    Complete,
    /// The deadline passed first.
    Timeout,
    /// The run's handle asked the control plane to stop before the run completed.
    Stopped,
}

/// A restart the supervisor scheduled after a backoff.
struct PendingRestart {
    at: Instant,
    tasks: Vec<TaskRef>,
    /// Every task rolls back (always exactly once; at least once when a crash lost what
    /// failing its trees cannot replay).
    rollback: bool,
}

/// What the controller needs to know of a topology.
pub(crate) struct Shape {
    pub name: String,
    /// Component id and task count, in declaration order.
    pub components: Vec<(String, usize)>,
    pub order: Vec<usize>,
    pub is_spout: Vec<bool>,
    pub strategies: Vec<Option<crate::Strategy>>,
}

pub(crate) struct Controller {
    name: String,
    /// Component id and task count, in declaration order.
    components: Vec<(String, usize)>,
    order: Vec<usize>,
    is_spout: Vec<bool>,
    /// Flat task index of each component's task 0.
    base: Vec<usize>,
    controls: Vec<Vec<Recipient<Control>>>,
    events: Receiver<TaskEvent>,
    guarantee: Guarantee,
    /// Per component, the supervision strategy: its own, or the run's.
    strategies: Vec<crate::Strategy>,
    checkpoint_interval: Duration,
    /// The generation: bumped by every rollback.
    gen: u64,
    done: Vec<bool>,
    stats: Vec<Option<TaskStats>>,
    restarts: Vec<u32>,
    supervisor: Supervisor,
    coordinator: Coordinator,
    pending_restart: Option<PendingRestart>,
    next_checkpoint: Option<Instant>,
    rollbacks: u64,
    checkpoints: u64,
    start: Instant,
    /// A spout waits only for acks: checkpoint back to back.
    asap: bool,
    /// Exactly once, until then failures are recent: checkpoint back to back, so that the
    /// next rollback redoes only what came after the last crash, not everything since the
    /// last regular checkpoint (under repeated failures none would ever complete otherwise,
    /// and each rollback would redo more).
    failing_until: Option<Instant>,
    /// Where progress displays read restarts, checkpoints and rollbacks as they happen.
    live: Option<std::sync::Arc<crate::runtime::LiveCounters>>,
    /// Asked to stop (`TaskEvent::Stop`): `wait` returns at once.
    stopped: bool,
    /// A savepoint was asked for: whom to tell its id, and the id once triggered.
    savepoint: Option<(crossbeam_channel::Sender<u64>, Option<u64>)>,
}

impl Controller {
    pub(crate) fn new(
        shape: Shape,
        events: Receiver<TaskEvent>,
        config: &Config,
        start: Instant,
    ) -> Self {
        let Shape {
            name,
            components,
            order,
            is_spout,
            strategies,
        } = shape;
        let mut base = Vec::with_capacity(components.len());
        let mut names = Vec::new();
        for (id, p) in &components {
            base.push(names.len());
            names.extend((0..*p).map(|t| format!("{id}-{t}")));
        }
        let total = names.len();
        let checkpointing = config.guarantee != Guarantee::AtMostOnce;
        Controller {
            coordinator: Coordinator::new(config.state_backend.clone(), &name, names),
            name,
            components,
            order,
            is_spout,
            base,
            controls: Vec::new(),
            events,
            guarantee: config.guarantee,
            strategies: strategies
                .into_iter()
                .map(|s| s.unwrap_or(config.supervision.strategy))
                .collect(),
            checkpoint_interval: config.checkpoint_interval,
            gen: 0,
            done: vec![false; total],
            stats: (0..total).map(|_| None).collect(),
            restarts: vec![0; total],
            supervisor: Supervisor::new(config.supervision.clone()),
            pending_restart: None,
            next_checkpoint: checkpointing.then(|| start + config.checkpoint_interval),
            rollbacks: 0,
            checkpoints: 0,
            start,
            asap: false,
            failing_until: None,
            live: config.live.clone(),
            stopped: false,
            savepoint: None,
        }
    }

    /// A distributed run's leader: complete checkpoints go to `store` too.
    pub(crate) fn set_store(
        &mut self,
        store: std::sync::Arc<dyn crate::distributed::CheckpointStore>,
    ) {
        self.coordinator.set_store(store);
    }

    /// The run resumes from checkpoint `id` (every task restores its record before it runs).
    pub(crate) fn resume(
        &mut self,
        id: u64,
        records: Vec<crate::runtime::control::checkpoint::TaskRecord>,
    ) {
        self.coordinator.resume(id, records);
    }

    /// The tasks' control addresses, per component; held so that no task stops early (actix
    /// stops an actor whose addresses are all dropped).
    pub(crate) fn set_controls(&mut self, controls: Vec<Vec<Recipient<Control>>>) {
        self.controls = controls;
    }

    fn flat(&self, (node, task): TaskRef) -> usize {
        self.base.get(node).copied().unwrap_or(0) + task
    }

    fn is_complete(&self) -> bool {
        self.done.iter().all(|d| *d)
    }

    /// Tells every spout task to stop emitting and drain.
    pub(crate) fn drain(&self) {
        for (node, controls) in self.controls.iter().enumerate() {
            if self.is_spout[node] {
                controls.iter().for_each(|c| c.do_send(Control::Drain));
            }
        }
    }

    /// Processes events and timers until every task finished or `deadline` passed.
    pub(crate) fn wait(&mut self, deadline: Option<Instant>) -> Result<Wait, RunError> {
        while !self.is_complete() {
            let timer = [
                deadline,
                self.pending_restart.as_ref().map(|p| p.at),
                self.next_checkpoint,
            ]
            .into_iter()
            .flatten()
            .min();
            let event = match timer {
                Some(t) => self.events.recv_deadline(t),
                None => self
                    .events
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match event {
                Ok(event) => {
                    self.handle(event)?;
                    if self.stopped {
                        return Ok(Wait::Stopped);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    if self.pending_restart.as_ref().is_some_and(|p| p.at <= now) {
                        self.restart();
                    }
                    if self.next_checkpoint.is_some_and(|t| t <= now) {
                        self.trigger_checkpoint();
                    }
                    if deadline.is_some_and(|d| d <= now) {
                        return Ok(Wait::Timeout);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(RunError::Runtime("every task vanished".into()))
                }
            }
        }
        Ok(Wait::Complete)
    }

    fn handle(&mut self, event: TaskEvent) -> Result<(), RunError> {
        let rolls_back = self.guarantee != Guarantee::AtMostOnce;
        match event {
            TaskEvent::Done {
                task,
                gen,
                stats,
                record,
            } => {
                if gen < self.gen {
                    return Ok(());
                }
                let i = self.flat(task);
                self.done[i] = true;
                let mut stats = *stats;
                if let Some(old) = self.stats[i].take() {
                    // A task revived by a rollback ends again: its measurements add up (its
                    // counters are running totals already).
                    let _ = stats.latency.add(&old.latency);
                    let _ = stats.execute.add(&old.execute);
                    stats.timeline.merge(&old.timeline);
                    let mut letters = old.dead_letters;
                    letters.append(&mut stats.dead_letters);
                    stats.dead_letters = letters;
                }
                self.stats[i] = Some(stats);
                if let Some(record) = record {
                    let completed = self.coordinator.finished(i, record)?;
                    self.on_completed(completed);
                }
            }
            TaskEvent::Snapshot {
                task,
                gen,
                checkpoint,
                record,
            } => {
                if gen != self.gen {
                    return Ok(());
                }
                let i = self.flat(task);
                let completed = self.coordinator.record(checkpoint, i, record)?;
                self.on_completed(completed);
            }
            TaskEvent::Crashed {
                task,
                gen,
                hook,
                message,
                local,
            } => {
                if rolls_back && gen < self.gen {
                    // Crashed before hearing of a rollback that restarts it anyway.
                    return Ok(());
                }
                let now = Instant::now();
                let Some(backoff) = self.supervisor.on_failure(now) else {
                    let (component, _) = &self.components[task.0];
                    return Err(RunError::RestartIntensity {
                        task: TaskId {
                            component: component.clone(),
                            task: task.1,
                        },
                        restarts: self.supervisor.window_restarts(),
                        window_s: self.supervisor.window().as_secs_f64(),
                        message: format!("`{hook}` {message}"),
                    });
                };
                let strategy = self.strategies.get(task.0).copied().unwrap_or_default();
                let mut tasks = targets(
                    strategy,
                    task,
                    &self.order,
                    &self.components.iter().map(|c| c.1).collect::<Vec<_>>(),
                );
                let mut rollback = match self.guarantee {
                    Guarantee::ExactlyOnce => true,
                    Guarantee::AtLeastOnce => !local,
                    Guarantee::AtMostOnce => false,
                };
                let at = match self.pending_restart.take() {
                    Some(p) => {
                        for t in p.tasks {
                            if !tasks.contains(&t) {
                                tasks.push(t);
                            }
                        }
                        rollback |= p.rollback;
                        p.at.min(now + backoff)
                    }
                    None => now + backoff,
                };
                self.pending_restart = Some(PendingRestart {
                    at,
                    tasks,
                    rollback,
                });
            }
            TaskEvent::AwaitingAcks => {
                // Checkpoint at once, and keep checkpointing back to back from now on: the
                // spouts are out of input and only wait for acks.
                self.asap = true;
                if self.guarantee != Guarantee::AtMostOnce && self.pending_restart.is_none() {
                    self.next_checkpoint = Some(Instant::now());
                }
            }
            TaskEvent::AwaitingCommit => {
                if self.pending_restart.is_none() {
                    let now = Instant::now();
                    self.next_checkpoint = Some(self.next_checkpoint.map_or(now, |t| t.min(now)));
                }
            }
            TaskEvent::Failed(error) => return Err(error),
            TaskEvent::Drain => self.drain(),
            TaskEvent::Stop => self.stopped = true,
            TaskEvent::Savepoint(reply) => {
                self.savepoint = Some((reply, None));
                self.next_checkpoint = Some(Instant::now());
            }
        }
        Ok(())
    }

    fn on_completed(&mut self, completed: Option<u64>) {
        let Some(id) = completed else { return };
        self.checkpoints += 1;
        if let Some((reply, Some(asked))) = &self.savepoint {
            if id >= *asked {
                let _ = reply.send(id);
            }
        }
        if let Some(live) = &self.live {
            live.add_checkpoint();
        }
        for controls in &self.controls {
            controls
                .iter()
                .for_each(|c| c.do_send(Control::Committed(id)));
        }
        let now = Instant::now();
        let wait = if self.asap || self.failing_until.is_some_and(|t| now < t) {
            Duration::ZERO
        } else {
            self.checkpoint_interval
        };
        self.next_checkpoint = Some(now + wait);
    }

    fn trigger_checkpoint(&mut self) {
        self.next_checkpoint = None;
        if self.pending_restart.is_some() {
            self.next_checkpoint = Some(Instant::now() + self.checkpoint_interval);
            return;
        }
        let Some(id) = self.coordinator.begin() else {
            return;
        };
        // A savepoint asked for and not yet triggered is this checkpoint.
        let control = match self.savepoint.as_mut() {
            Some((_, asked @ None)) => {
                *asked = Some(id);
                Control::Savepoint(id)
            }
            _ => Control::Checkpoint(id),
        };
        for (node, controls) in self.controls.iter().enumerate() {
            if self.is_spout[node] {
                controls.iter().for_each(|c| c.do_send(control.clone()));
            }
        }
    }

    /// Runs the scheduled restart: fresh instances for the supervisor's chosen tasks, and
    /// exactly once a rollback of every task to the last complete checkpoint.
    fn restart(&mut self) {
        let Some(pending) = self.pending_restart.take() else {
            return;
        };
        for &t in &pending.tasks {
            let i = self.flat(t);
            if !(self.guarantee == Guarantee::AtMostOnce && self.done[i]) {
                self.restarts[i] += 1;
                if let Some(live) = &self.live {
                    live.add_restarts(1);
                }
            }
        }
        if !pending.rollback {
            // Only the chosen tasks restart: at most once empty; at least once each restores
            // its own state from the last complete checkpoint and has failed the trees its
            // crash lost, so no other task's trees are replayed.
            let complete = match self.guarantee {
                Guarantee::AtLeastOnce => self.coordinator.last_complete(),
                _ => None,
            };
            for &(node, task) in &pending.tasks {
                let i = self.flat((node, task));
                if self.done[i] {
                    continue;
                }
                if let Some(c) = self.controls.get(node).and_then(|c| c.get(task)) {
                    c.do_send(Control::Restart(Restart {
                        gen: self.gen,
                        fresh: true,
                        rollback: false,
                        checkpoint: complete.map(|(id, _)| id),
                        record: complete.and_then(|(_, r)| r.get(i).cloned()),
                        restarts: self.restarts[i],
                    }));
                }
            }
            return;
        }
        self.gen += 1;
        self.rollbacks += 1;
        if let Some((_, asked)) = self.savepoint.as_mut() {
            // The savepoint in flight is abandoned with the rest: the next checkpoint is it.
            *asked = None;
        }
        if let Some(live) = &self.live {
            live.add_rollback();
        }
        let complete = self.coordinator.rollback();
        for (node, controls) in self.controls.iter().enumerate() {
            for (task, c) in controls.iter().enumerate() {
                let i = self.base[node] + task;
                self.done[i] = false;
                let record = complete.as_ref().and_then(|(_, r)| r.get(i).cloned());
                // Without a complete checkpoint, stateful tasks start over from their initial
                // state; an at-least-once spout keeps its instance and replays its open trees.
                let from_scratch = complete.is_none()
                    && !(self.guarantee == Guarantee::AtLeastOnce && self.is_spout[node]);
                c.do_send(Control::Restart(Restart {
                    gen: self.gen,
                    fresh: from_scratch || pending.tasks.contains(&(node, task)),
                    rollback: true,
                    checkpoint: complete.as_ref().map(|(id, _)| *id),
                    record,
                    restarts: self.restarts[i],
                }));
            }
        }
        let now = Instant::now();
        self.failing_until = Some(now + 10 * self.checkpoint_interval);
        self.next_checkpoint = Some(now);
    }
}
