//! Starting a topology's tasks on an actix system of their own: one arbiter per worker, the
//! ackers, and the launch. Local runs and the parts of a distributed run boot the same way.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use actix::{Actor, Addr, Arbiter, Recipient, System};
use crossbeam_channel::Sender;

use super::node::LaunchEnv;
use super::start::launch;
use crate::distributed::{LinkInlet, RemoteEnv, TaskIndex};
use crate::runtime::control::acker::{Acker, SpoutTable};
use crate::runtime::control::checkpoint::TaskRecord;
use crate::runtime::observability::stats::TaskEvent;
use crate::transport::message::{Control, Credit, Restart};
use crate::{Config, Guarantee, RunError, Topology};

/// What a boot needs besides the topology.
pub(crate) struct BootEnv {
    pub config: Arc<Config>,
    /// The run's time origin.
    pub epoch: Instant,
    /// Where tasks report.
    pub events: Sender<TaskEvent>,
    /// A distributed part: which tasks run here, how to reach the others.
    pub remote: Option<Arc<RemoteEnv>>,
    /// A checkpoint to restore every task from before it runs.
    pub restore: Option<(u64, Vec<TaskRecord>)>,
}

/// A booted topology: its system and workers, and every task's addresses.
pub(crate) struct Booted {
    pub system: System,
    pub thread: JoinHandle<()>,
    pub arbiters: Vec<Arbiter>,
    /// Per component, per task: the task's control address (a forwarder for a task in
    /// another process).
    pub controls: Vec<Vec<Recipient<Control>>>,
    /// Per component, per task: where its credits go.
    pub credits: Vec<Vec<Recipient<Credit>>>,
    /// Per local bolt task with producers elsewhere: its inlets, one per input link.
    pub inlets: Vec<(TaskIndex, Vec<LinkInlet>)>,
}

/// Starts an actix system on a thread of its own and launches `topology` on it.
pub(crate) fn boot(topology: Topology, env: BootEnv) -> Result<Booted, RunError> {
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
    let workers = env.config.workers.max(1);
    let name = topology.name.clone();
    let thread = std::thread::Builder::new()
        .name(format!("squall-{name}"))
        .spawn(move || {
            let system = System::new();
            let launched = system.block_on(async move {
                let arbiters: Vec<Arbiter> = (0..workers).map(|_| Arbiter::new()).collect();
                let ackers = start_ackers(&env.config, &arbiters);
                let mut spout_bases = Vec::new();
                let mut spout_tasks = 0u32;
                for n in &topology.nodes {
                    spout_bases.push(spout_tasks);
                    if n.is_spout() {
                        spout_tasks += n.parallelism() as u32;
                    }
                }
                let launch_env = LaunchEnv {
                    topology: topology.name.as_str().into(),
                    workers: arbiters.iter().map(|a| a.handle()).collect(),
                    config: env.config,
                    epoch: env.epoch,
                    events: env.events,
                    ackers: Arc::new(ackers.iter().map(|a| a.clone().recipient()).collect()),
                    spout_bases,
                    remote: env.remote,
                };
                let mut bases = Vec::new();
                let mut next = 0;
                for n in &topology.nodes {
                    bases.push(next);
                    next += n.parallelism();
                }
                let restore = |node: usize, task: usize| -> Option<Restart> {
                    let (id, records) = env.restore.as_ref()?;
                    // `fresh: false`: the instance the wiring builds is the one restored.
                    Some(Restart {
                        gen: 0,
                        fresh: false,
                        rollback: true,
                        checkpoint: Some(*id),
                        record: records.get(bases[node] + task).cloned(),
                        restarts: 0,
                    })
                };
                // The ackers learn where every spout task is before any task is wired, so no
                // tree can complete for a spout they do not know yet.
                let launched = launch(
                    &topology,
                    &launch_env,
                    |started| {
                        let table: Vec<_> =
                            started.iter().flat_map(|s| s.tree_done.clone()).collect();
                        for acker in &ackers {
                            acker.do_send(SpoutTable(table.clone()));
                        }
                    },
                    &restore,
                );
                let controls = launched.started.iter().map(|s| s.control.clone()).collect();
                let credits = launched.started.iter().map(|s| s.credit.clone()).collect();
                (arbiters, controls, credits, launched.inlets)
            });
            let _ = ready_tx.send((System::current(), launched));
            let _ = system.run();
        })
        .map_err(|e| RunError::Runtime(format!("cannot start the system thread: {e}")))?;
    let (system, (arbiters, controls, credits, inlets)) = ready_rx
        .recv()
        .map_err(|_| RunError::Runtime("the system thread stopped while starting".into()))?;
    Ok(Booted {
        system,
        thread,
        arbiters,
        controls,
        credits,
        inlets,
    })
}

/// Starts the acker tasks of an at-least-once run, one per `Config::ackers`, spread over the
/// workers.
fn start_ackers(config: &Config, arbiters: &[Arbiter]) -> Vec<Addr<Acker>> {
    if config.guarantee != Guarantee::AtLeastOnce || arbiters.is_empty() {
        return Vec::new();
    }
    let timeout = config.message_timeout;
    (0..config.ackers)
        .map(|i| {
            let arbiter = &arbiters[i % arbiters.len()];
            Acker::start_in_arbiter(&arbiter.handle(), move |_| Acker::new(timeout))
        })
        .collect()
}
