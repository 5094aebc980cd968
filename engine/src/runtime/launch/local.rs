//! Local mode: run a topology in this process, on one actix arbiter per worker.
//!
//! The actix `System` lives on its own thread, so `run` can be called from any thread,
//! including from inside another async runtime; the caller's thread only waits on the
//! controller channel.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::boot::{boot, BootEnv};
use crate::runtime::control::control_plane::ControlPlane;
use crate::runtime::control::controller::{Controller, Shape};
use crate::runtime::observability::run_report::RunReport;
use crate::{Config, RunError, Topology};
use actix::{Arbiter, System};

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

    /// Runs a topology until it completes by itself or the process receives SIGINT or SIGTERM;
    /// then drains it (as [`RunningTopology::shutdown`]) and returns its report, with
    /// [`RunReport::interrupted`] naming the signal. A second signal ends the process at once
    /// (see [`crate::runtime::catch_stop_signals`]). Live topologies use it to run until told to stop.
    ///
    /// ```
    /// # use squall::{Config, LocalCluster, Spout, SpoutCollector, ComponentError, TopologyBuilder};
    /// # struct Once(bool);
    /// # impl Spout for Once {
    /// #     type Output = u64;
    /// #     fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
    /// #         if !self.0 { out.emit(1); self.0 = true; }
    /// #         Ok(())
    /// #     }
    /// #     fn is_finished(&self) -> bool { self.0 }
    /// # }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut builder = TopologyBuilder::new("once");
    /// builder.set_spout("one", 1, || Once(false));
    /// let report = LocalCluster::new(Config::default()).run_until_signal(builder.build()?)?;
    /// assert_eq!(report.interrupted, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_until_signal(&self, topology: Topology) -> Result<RunReport, RunError> {
        crate::runtime::catch_stop_signals()?;
        self.spawn(topology)?.until_signal()
    }

    /// Starts a topology and returns at once; stop it with [`RunningTopology::shutdown`] or
    /// wait for it with [`RunningTopology::join`].
    pub fn spawn(&self, topology: Topology) -> Result<RunningTopology, RunError> {
        let config = Arc::new(self.config.clone());
        if let Some(live) = &config.live {
            live.board().begin(topology.graph(), config.guarantee);
        }
        let name = topology.name.clone();
        let topology_name = topology.name.clone();
        let components: Vec<(String, usize)> = topology
            .nodes
            .iter()
            .map(|n| (n.id().to_string(), n.parallelism()))
            .collect();
        let is_spout = topology.nodes.iter().map(|n| n.is_spout()).collect();
        let order = topology.order.clone();
        let strategies = topology.strategies.clone();
        let (events_tx, events) = crossbeam_channel::unbounded();
        let drain_timeout = config.drain_timeout;
        let start = Instant::now();
        let shape = Shape {
            name,
            components,
            order,
            is_spout,
            strategies,
        };
        let mut controller = Controller::new(shape, events, &config, start);
        let requests = events_tx.clone();
        let booted = boot(
            topology,
            BootEnv {
                config,
                epoch: start,
                events: events_tx,
                remote: None,
                restore: None,
            },
        )?;
        controller.set_controls(booted.controls);
        let mut running = RunningTopology {
            plane: None,
            system: booted.system,
            thread: Some(booted.thread),
            arbiters: booted.arbiters,
            drain_timeout,
        };
        match ControlPlane::start(controller, requests, &topology_name) {
            Ok(plane) => running.plane = Some(plane),
            Err(e) => {
                running.teardown();
                return Err(e);
            }
        }
        Ok(running)
    }
}

/// How often a run waiting for a stop signal looks at the flag: short against a person's
/// patience, long against the controller's event handling.
const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// A topology running in this process.
pub struct RunningTopology {
    /// The controller's thread: supervises the tasks and coordinates checkpoints whether or
    /// not anyone waits; the controller holds every task's control address, so that no task
    /// stops before the run ends (actix stops an actor whose addresses are all dropped, and a
    /// bolt's producers drop theirs when they end). `None` only while starting.
    plane: Option<ControlPlane>,
    system: System,
    thread: Option<JoinHandle<()>>,
    arbiters: Vec<Arbiter>,
    drain_timeout: Duration,
}

impl RunningTopology {
    /// A booted topology, controlled by `plane` (`None`: by a controller elsewhere).
    pub(crate) fn booted(
        booted: crate::runtime::launch::boot::Booted,
        plane: Option<ControlPlane>,
        drain_timeout: Duration,
    ) -> Self {
        RunningTopology {
            plane,
            system: booted.system,
            thread: Some(booted.thread),
            arbiters: booted.arbiters,
            drain_timeout,
        }
    }

    /// Waits up to `timeout` for the run to end; `Some` with its outcome once it has (never
    /// without a controller here).
    pub(crate) fn poll_end(&mut self, timeout: Duration) -> Option<Result<RunReport, RunError>> {
        let plane = self.plane.as_mut()?;
        if !plane.wait(Some(timeout)) {
            return None;
        }
        Some(self.finish())
    }

    /// Tears the topology down now.
    pub(crate) fn abort(mut self) {
        self.teardown();
    }

    /// Waits up to `timeout` for the topology to complete by itself; true if it did.
    pub fn wait_for(&mut self, timeout: Duration) -> Result<bool, RunError> {
        let Some(plane) = self.plane.as_mut() else {
            return Ok(true);
        };
        if !plane.wait(Some(timeout)) {
            return Ok(false);
        }
        match plane.failure() {
            Some(e) => {
                self.teardown();
                Err(e)
            }
            None => Ok(true),
        }
    }

    /// Waits until the topology completes by itself (bounded topologies).
    pub fn join(mut self) -> Result<RunReport, RunError> {
        if let Some(plane) = self.plane.as_mut() {
            plane.wait(None);
        }
        self.finish()
    }

    /// Waits until the topology completes by itself, or drains it as [`Self::shutdown`] does
    /// once a stop signal has been received (see [`crate::runtime::catch_stop_signals`]).
    pub fn until_signal(mut self) -> Result<RunReport, RunError> {
        loop {
            if let Some(signal) = crate::runtime::stop_requested() {
                let mut report = self.shutdown()?;
                report.interrupted = Some(signal);
                return Ok(report);
            }
            if self.wait_for(SIGNAL_POLL)? {
                return self.join();
            }
        }
    }

    /// Drains the topology: spouts stop emitting, in-flight tuples are processed, `finish`
    /// hooks run in topological order; then returns the report.
    pub fn shutdown(mut self) -> Result<RunReport, RunError> {
        if let Some(plane) = &self.plane {
            plane.drain();
        }
        if !self.wait_for(self.drain_timeout)? {
            self.teardown();
            return Err(RunError::DrainTimeout {
                timeout: self.drain_timeout,
            });
        }
        self.finish()
    }

    /// The outcome of a run that ended, after tearing it down.
    fn finish(&mut self) -> Result<RunReport, RunError> {
        let outcome = match self.plane.as_mut() {
            Some(plane) => plane.take(),
            None => Err(RunError::Runtime("the run never started".into())),
        };
        self.teardown();
        outcome
    }

    /// Stops the control plane, every worker and the system thread, and waits for them.
    fn teardown(&mut self) {
        if let Some(plane) = self.plane.as_mut() {
            plane.stop();
        }
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
