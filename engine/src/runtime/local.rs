//! Local mode: run a topology in this process, on one actix arbiter per worker.
//!
//! The actix `System` lives on its own thread, so `run` can be called from any thread,
//! including from inside another async runtime; the caller's thread only waits on the
//! controller channel.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix::{Arbiter, Recipient, System};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::launch::launch;
use super::node::LaunchEnv;
use super::run_report::{ComponentReport, RunReport};
use super::stats::{new_histogram, TaskEvent, TaskStats};
use crate::report::Timeline;
use crate::transport::message::Control;
use crate::{Config, RunError, Topology};

/// Runs topologies in this process (Storm's `LocalCluster`).
///
/// ```
/// use squall::{Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector, TopologyBuilder};
///
/// struct Count { next: u64, end: u64 }
/// impl Spout for Count {
///     type Output = u64;
///     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
///         if self.next < self.end {
///             out.emit(self.next);
///             self.next += 1;
///         }
///         Ok(())
///     }
///     fn is_finished(&self) -> bool { self.next == self.end }
/// }
/// struct Sink;
/// impl Bolt for Sink {
///     type Input = u64;
///     type Output = ();
///     fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> { Ok(()) }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut builder = TopologyBuilder::new("count");
/// let numbers = builder.set_spout("numbers", 1, || Count { next: 0, end: 1000 });
/// builder.set_bolt("sink", 2, || Sink).shuffle_grouping(&numbers);
/// let report = LocalCluster::new(Config::default()).run(builder.build()?)?;
/// assert_eq!(report.component("sink").map(|c| c.executed), Some(1000));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct LocalCluster {
    config: Config,
}

impl LocalCluster {
    /// A local cluster running topologies with `config`.
    pub fn new(config: Config) -> Self {
        LocalCluster { config }
    }

    /// The settings runs use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs a bounded topology until every spout has finished and every tuple is processed.
    pub fn run(&self, topology: Topology) -> Result<RunReport, RunError> {
        self.spawn(topology)?.join()
    }

    /// Runs a topology for `duration`, then drains it (spouts stop, in-flight tuples finish,
    /// `finish` hooks run) and returns its report. Ends earlier if the topology completes.
    pub fn run_for(&self, topology: Topology, duration: Duration) -> Result<RunReport, RunError> {
        let mut running = self.spawn(topology)?;
        if running.wait_for(duration)? {
            return running.join();
        }
        running.shutdown()
    }

    /// Starts a topology and returns at once; stop it with [`RunningTopology::shutdown`] or
    /// wait for it with [`RunningTopology::join`].
    pub fn spawn(&self, topology: Topology) -> Result<RunningTopology, RunError> {
        let config = Arc::new(self.config.clone());
        let name = topology.name.clone();
        let components: Vec<(String, usize)> = topology
            .nodes
            .iter()
            .map(|n| (n.id().to_string(), n.parallelism()))
            .collect();
        let order = topology.order.clone();
        let total_tasks = components.iter().map(|(_, p)| p).sum();
        let (events_tx, events) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let workers = config.workers.max(1);
        let drain_timeout = config.drain_timeout;
        let start = Instant::now();
        let thread = std::thread::Builder::new()
            .name(format!("squall-{name}"))
            .spawn(move || {
                let system = System::new();
                let launched = system.block_on(async move {
                    let arbiters: Vec<Arbiter> = (0..workers).map(|_| Arbiter::new()).collect();
                    let env = LaunchEnv {
                        topology: topology.name.as_str().into(),
                        workers: arbiters.iter().map(|a| a.handle()).collect(),
                        config,
                        epoch: start,
                        events: events_tx,
                    };
                    let spouts = launch(&topology, &env).map(|started| {
                        let controls = |spout: bool| {
                            started
                                .iter()
                                .zip(&topology.nodes)
                                .filter(|(_, n)| n.is_spout() == spout)
                                .flat_map(|(s, _)| s.control.clone())
                                .collect::<Vec<Recipient<Control>>>()
                        };
                        (controls(true), controls(false))
                    });
                    (arbiters, spouts)
                });
                let _ = ready_tx.send((System::current(), launched));
                let _ = system.run();
            })
            .map_err(|e| RunError::Runtime(format!("cannot start the system thread: {e}")))?;
        let (system, (arbiters, spouts)) = ready_rx
            .recv()
            .map_err(|_| RunError::Runtime("the system thread stopped while starting".into()))?;
        let mut running = RunningTopology {
            name,
            components,
            order,
            system,
            thread: Some(thread),
            arbiters,
            spouts: Vec::new(),
            bolts: Vec::new(),
            events,
            remaining: total_tasks,
            stats: Vec::new(),
            start,
            drain_timeout,
        };
        (running.spouts, running.bolts) = match spouts {
            Ok(s) => s,
            Err(e) => {
                running.teardown();
                return Err(e);
            }
        };
        Ok(running)
    }
}

/// A topology running in this process.
pub struct RunningTopology {
    name: String,
    components: Vec<(String, usize)>,
    order: Vec<usize>,
    system: System,
    thread: Option<JoinHandle<()>>,
    arbiters: Vec<Arbiter>,
    spouts: Vec<Recipient<Control>>,
    /// Held so that no bolt task stops before it reports its end: actix stops an actor whose
    /// addresses are all dropped, and a bolt's producers drop theirs when they end, while the
    /// bolt may still hold unexecuted input.
    bolts: Vec<Recipient<Control>>,
    events: Receiver<TaskEvent>,
    /// Tasks that have not reported their end.
    remaining: usize,
    stats: Vec<TaskStats>,
    start: Instant,
    drain_timeout: Duration,
}

impl RunningTopology {
    /// Waits up to `timeout` for the topology to complete by itself; true if it did.
    pub fn wait_for(&mut self, timeout: Duration) -> Result<bool, RunError> {
        let deadline = Instant::now() + timeout;
        while self.remaining > 0 {
            match self.events.recv_deadline(deadline) {
                Ok(event) => self.handle(event)?,
                Err(RecvTimeoutError::Timeout) => return Ok(false),
                Err(RecvTimeoutError::Disconnected) => {
                    self.teardown();
                    return Err(RunError::Runtime("every task vanished".into()));
                }
            }
        }
        Ok(true)
    }

    /// Waits until the topology completes by itself (bounded topologies).
    pub fn join(mut self) -> Result<RunReport, RunError> {
        while self.remaining > 0 {
            match self.events.recv() {
                Ok(event) => self.handle(event)?,
                Err(_) => {
                    self.teardown();
                    return Err(RunError::Runtime("every task vanished".into()));
                }
            }
        }
        Ok(self.finish())
    }

    /// Drains the topology: spouts stop emitting, in-flight tuples are processed, `finish`
    /// hooks run in topological order; then returns the report.
    pub fn shutdown(mut self) -> Result<RunReport, RunError> {
        for spout in &self.spouts {
            spout.do_send(Control::Drain);
        }
        if !self.wait_for(self.drain_timeout)? {
            self.teardown();
            return Err(RunError::Runtime(format!(
                "the drain did not finish within {:?}",
                self.drain_timeout
            )));
        }
        Ok(self.finish())
    }

    fn handle(&mut self, event: TaskEvent) -> Result<(), RunError> {
        match event {
            TaskEvent::Done(stats) => {
                self.remaining = self.remaining.saturating_sub(1);
                self.stats.push(stats);
                Ok(())
            }
            TaskEvent::Failed(error) => {
                self.teardown();
                Err(error)
            }
        }
    }

    fn finish(&mut self) -> RunReport {
        let elapsed = self.start.elapsed();
        self.teardown();
        let mut latency = new_histogram();
        let mut timeline = Timeline::new();
        let mut components: Vec<ComponentReport> = self
            .order
            .iter()
            .map(|&i| ComponentReport {
                id: self.components[i].0.clone(),
                tasks: self.components[i].1,
                emitted: 0,
                executed: 0,
                elapsed: Duration::ZERO,
                restarts: 0,
                execute_latency: new_histogram(),
            })
            .collect();
        for &i in &self.order {
            let pos = self.order.iter().position(|&o| o == i).unwrap_or(0);
            let tasks: Vec<&TaskStats> = self.stats.iter().filter(|s| s.node == i).collect();
            let c = &mut components[pos];
            c.emitted = tasks.iter().map(|s| s.emitted).sum();
            c.executed = tasks.iter().map(|s| s.executed).sum();
            if let (Some(first), Some(last)) = (
                tasks.iter().map(|s| s.started).min(),
                tasks.iter().map(|s| s.ended).max(),
            ) {
                c.elapsed = last.saturating_duration_since(first);
            }
            for s in tasks {
                // Both histograms auto-resize, so adding cannot fail on range.
                let _ = latency.add(&s.latency);
                let _ = c.execute_latency.add(&s.execute);
                timeline.merge(&s.timeline);
            }
        }
        RunReport {
            topology: self.name.clone(),
            elapsed,
            components,
            latency,
            timeline,
        }
    }

    /// Stops every worker and the system thread, and waits for them.
    fn teardown(&mut self) {
        self.spouts.clear();
        self.bolts.clear();
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
        for arbiter in self.arbiters.drain(..) {
            let _ = arbiter.join();
        }
        self.system.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningTopology {
    fn drop(&mut self) {
        self.teardown();
    }
}
