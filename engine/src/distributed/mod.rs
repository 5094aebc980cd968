//! One topology spread over several processes: each process runs a *part* (the tasks assigned
//! to it) and reaches the others' tasks through a [`Fabric`].
//!
//! The engine knows nothing of the broker: `squall-cluster` implements [`Fabric`] and
//! [`CheckpointStore`] on NATS JetStream, decides which process runs which task, and starts a
//! part in every process with [`start_part`]. Inside a part, tasks in the same process keep
//! their in-process links; an edge to a task in another process is a remote link that sends
//! its batches, barriers, watermarks and end-of-stream as frames ([`Route::Data`]) to that
//! task, and gets its credit back as frames ([`Route::Credit`]) once the consumer processed
//! them. One process, the *leader*, runs the controller: the other parts send it their tasks'
//! events ([`Route::Event`]) and it sends them control messages ([`Route::Control`]), so
//! checkpoints, supervision and the drain work across processes as they do in one.
//!
//! A part belongs to one *incarnation* of a deployment: when the set of processes changes,
//! every part of the old incarnation is stopped and a new one starts everywhere, restoring the
//! last complete checkpoint (the frames of different incarnations never meet, as the fabric
//! keeps them apart).

mod forms;
mod frames;
mod part;
mod placement;
mod remote;

use std::sync::Arc;
use std::time::SystemTime;

use crate::{Config, RunError, Topology};

pub use part::Part;
pub(crate) use placement::{inlet, Inlet, LinkInlet, RemoteEnv};
pub(crate) use remote::RemoteLink;

/// A flat task index: the tasks of every component in declaration order, component by
/// component (component 0's tasks first).
pub type TaskIndex = u32;

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// Data, barriers, watermarks and end-of-stream for task `to`.
    Data {
        /// The consumer task.
        to: TaskIndex,
    },
    /// Credit returned to producer task `to` by a consumer that processed its data.
    Credit {
        /// The producer task.
        to: TaskIndex,
    },
    /// A command of the controller for task `to`.
    Control {
        /// The task.
        to: TaskIndex,
    },
    /// A task's event for the controller, in the leader's part.
    Event,
}

impl Route {
    /// The task a frame on this route is for (`None` for the leader's events).
    pub fn task(self) -> Option<TaskIndex> {
        match self {
            Route::Data { to } | Route::Credit { to } | Route::Control { to } => Some(to),
            Route::Event => None,
        }
    }
}

/// Carries frames between the parts of one incarnation of a deployment.
///
/// Frames sent on one route by one sender must arrive in the order sent, and none may be lost
/// or duplicated while the incarnation lives (a lost frame stalls the part; the incarnation is
/// then replaced, which recovers from the last checkpoint). `send` must not block for long: it
/// is called from the tasks' threads (buffer, and publish from a thread of your own).
pub trait Fabric: Send + Sync + 'static {
    /// Sends `frame` to whichever part runs `route`'s task (the leader's part for
    /// [`Route::Event`]).
    fn send(&self, route: Route, frame: Vec<u8>);
}

/// Where the complete checkpoints of a deployment are kept, outside any process.
pub trait CheckpointStore: Send + Sync + 'static {
    /// Stores complete checkpoint `id` (`blob` holds every task's record), replacing the one
    /// before. Called by the leader's controller thread; may block until the store has it.
    fn save(&self, id: u64, blob: Vec<u8>) -> Result<(), String>;
}

/// What a part is: which tasks of the topology run here, and whether here is the leader.
#[derive(Debug, Clone)]
pub struct PartSpec {
    /// The deployment's incarnation (for messages and generations).
    pub incarnation: u64,
    /// Per flat task ([`TaskIndex`]), true when it runs in this process.
    pub local: Vec<bool>,
    /// This process runs the controller (checkpoints, supervision, the report).
    pub leader: bool,
    /// The last complete checkpoint as [`CheckpointStore::save`] stored it, to restore every
    /// local task from (`None`: start from the beginning).
    pub restore: Option<(u64, Vec<u8>)>,
    /// When the deployment started, the same in every process: tuples' emit times are taken
    /// against it, so latency measured in one process of a tuple emitted in another holds.
    pub epoch: SystemTime,
}

/// Starts this process's part of `topology`: the tasks `spec` marks local, wired to each other
/// in-process and to the other parts' tasks through `fabric`; the controller too when `spec`
/// says this part leads, storing complete checkpoints in `store`.
///
/// Every process of an incarnation must build the same topology (same components,
/// parallelism and subscriptions) with the same `config`.
pub fn start_part(
    topology: Topology,
    config: Config,
    spec: PartSpec,
    fabric: Arc<dyn Fabric>,
    store: Arc<dyn CheckpointStore>,
) -> Result<Part, RunError> {
    part::start(topology, config, spec, fabric, store)
}

/// Every task of `topology` by its [`TaskIndex`]: (component id, task number within it).
pub fn tasks(topology: &Topology) -> Vec<(String, usize)> {
    topology
        .nodes
        .iter()
        .flat_map(|n| (0..n.parallelism()).map(move |t| (n.id().to_string(), t)))
        .collect()
}
