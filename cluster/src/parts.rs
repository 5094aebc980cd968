//! This process's part of one incarnation of a deployment: the engine's [`Part`], the
//! consumers feeding it, its fabric, and, when it leads, the thread waiting for the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use squall::distributed::{self, Part, PartSpec};
use squall::{RunError, RunReport};
use tokio::sync::mpsc::UnboundedSender;

use crate::assignment::Assignment;
use crate::buckets::Cluster;
use crate::checkpoint::{self, JetStreamCheckpoints};
use crate::deployment::Deployment;
use crate::fabric::JetStreamFabric;
use crate::inbox::{Deliver, Inbox};
use crate::registry::{Registry, Summary};
use crate::subjects;

/// How the leader's part ended, for the worker to record.
pub struct Ended {
    /// The deployment.
    pub deployment: String,
    /// The incarnation whose leader saw the end.
    pub incarnation: u64,
    /// The report, or the failure that ended it.
    pub result: Result<RunReport, RunError>,
    /// Turns the report into the text `run` prints.
    pub summary: Summary,
}

/// Why a part did not start.
#[derive(Debug)]
pub enum StartError {
    /// The deployment cannot run (its options, its topology): one sentence for its failure.
    Failed(String),
    /// The broker did not answer in time or refused for now (a server under load, or away):
    /// worth another try at the next look.
    Broker(String),
}

impl StartError {
    fn broker(e: impl std::fmt::Display) -> Self {
        StartError::Broker(e.to_string())
    }
}

/// A part running in this process.
pub struct RunningPart {
    /// Its incarnation.
    pub incarnation: u64,
    /// The submission it belongs to.
    pub submitted_ms: u64,
    /// Whether it runs the controller.
    pub leader: bool,
    /// Shared by the consumers (deliver), the leader's waiting thread and the worker.
    part: Arc<Part>,
    inboxes: Vec<Inbox>,
    drain: Arc<AtomicBool>,
    /// Tells the leader's thread to stop waiting (the part is being stopped).
    quit: Arc<AtomicBool>,
    waiter: Option<std::thread::JoinHandle<()>>,
    fabric: Arc<JetStreamFabric>,
}

/// How long the leader's thread waits for the end before it looks at its flags again.
const WAIT_SLICE: Duration = Duration::from_millis(50);

impl RunningPart {
    /// Starts `me`'s part of `deployment` as `assignment` says: prepares the topology from
    /// the registry, restores the last checkpoint, starts the engine's part, then the
    /// consumers of its tasks' frames (and of the controller's events when leading). Errors
    /// are one sentence, for the deployment's failure.
    pub async fn start(
        cluster: &Cluster,
        registry: &Registry,
        name: &str,
        deployment: &Deployment,
        assignment: &Assignment,
        me: &str,
        ended: UnboundedSender<Ended>,
    ) -> Result<RunningPart, StartError> {
        let prepared = tokio::task::block_in_place(|| {
            registry.prepare(&deployment.topology, &deployment.options)
        })
        .map_err(StartError::Failed)?;
        let incarnation = assignment.incarnation;
        let restore = checkpoint::load(
            &cluster.checkpoints,
            &cluster.restores,
            name,
            deployment.submitted_ms,
            incarnation,
        )
        .await
        .map_err(StartError::broker)?;
        let leader = assignment.leader == me;
        let local = assignment.local(me);
        let spec = PartSpec {
            incarnation,
            local: local.clone(),
            leader,
            restore,
            epoch: epoch(deployment.submitted_ms),
        };
        let runtime = tokio::runtime::Handle::current();
        crate::frame_stream::ensure(&cluster.frames, name, cluster.replicas)
            .await
            .map_err(StartError::broker)?;
        let fabric = Arc::new(JetStreamFabric::start(
            cluster.frames.clone(),
            &runtime,
            name,
            incarnation,
        ));
        let store = Arc::new(JetStreamCheckpoints::new(
            cluster.checkpoints.clone(),
            cluster.restores.clone(),
            name,
            deployment.submitted_ms,
            incarnation,
            runtime.clone(),
        ));
        let part = tokio::task::block_in_place(|| {
            distributed::start_part(
                prepared.topology,
                prepared.config,
                spec,
                fabric.clone(),
                store,
            )
        })
        .map_err(|e| StartError::Failed(e.to_string()))?;
        let part = Arc::new(part);
        let mut running = RunningPart {
            incarnation,
            submitted_ms: deployment.submitted_ms,
            leader,
            part: part.clone(),
            inboxes: Vec::new(),
            drain: Arc::new(AtomicBool::new(false)),
            quit: Arc::new(AtomicBool::new(false)),
            waiter: None,
            fabric,
        };
        let deliver: Deliver = Arc::new(move |route, frame, done| {
            part.deliver(route, frame, done);
        });
        let mut filters: Vec<(String, String)> = local
            .iter()
            .enumerate()
            .filter(|(_, here)| **here)
            .map(|(task, _)| {
                let task = task as u32;
                (
                    subjects::task_filter(name, incarnation, task),
                    format!("{me}_{incarnation}_{task}"),
                )
            })
            .collect();
        if leader {
            filters.push((
                subjects::route(name, incarnation, squall::distributed::Route::Event),
                format!("{me}_{incarnation}_leader"),
            ));
        }
        for (filter, consumer) in filters {
            match Inbox::start(&cluster.frames, name, filter, consumer, deliver.clone()).await {
                Ok(inbox) => running.inboxes.push(inbox),
                Err(e) => {
                    running.stop(cluster).await;
                    return Err(StartError::broker(e));
                }
            }
        }
        if leader {
            purge_before(cluster, name, incarnation).await;
            running.waiter = Some(spawn_waiter(
                running.part.clone(),
                running.drain.clone(),
                running.quit.clone(),
                name.to_string(),
                incarnation,
                prepared.summary,
                ended,
            ));
        }
        Ok(running)
    }

    /// Frames this part sent that the broker may not have stored (a failed publish, an
    /// acknowledgement that never came over a lost connection), and frames its consumers
    /// found missing: its incarnation cannot complete and must be replaced.
    pub fn lost_frames(&self) -> u64 {
        self.fabric.lost() + self.inboxes.iter().map(Inbox::gaps).sum::<u64>()
    }

    /// Leader: asks the deployment to drain (once `kill` asked for it).
    pub fn drain(&self) {
        self.drain.store(true, Ordering::SeqCst);
    }

    /// Leader: takes a savepoint (a checkpoint after which the spouts emit nothing), so the
    /// next incarnation resumes from it with nothing to replay; its id, or `None` when it
    /// did not complete within `timeout`.
    pub fn savepoint(&self, timeout: Duration) -> Option<u64> {
        let part = self.part.clone();
        tokio::task::block_in_place(move || part.savepoint(timeout))
    }

    /// Stops consuming, stops the engine's part and waits for it.
    pub async fn stop(mut self, cluster: &Cluster) {
        for inbox in self.inboxes.drain(..) {
            inbox.close(&cluster.frames).await;
        }
        self.quit.store(true, Ordering::SeqCst);
        let part = self.part.clone();
        let waiter = self.waiter.take();
        tokio::task::block_in_place(move || {
            part.stop();
            if let Some(waiter) = waiter {
                let _ = waiter.join();
            }
        });
    }
}

/// The leader's thread: drains when asked, and waits for the deployment to end.
fn spawn_waiter(
    part: Arc<Part>,
    drain: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    deployment: String,
    incarnation: u64,
    summary: Summary,
    ended: UnboundedSender<Ended>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut drained = false;
        while !quit.load(Ordering::SeqCst) {
            if !drained && drain.load(Ordering::SeqCst) {
                drained = true;
                part.drain();
            }
            if let Some(result) = part.wait(WAIT_SLICE) {
                let _ = ended.send(Ended {
                    deployment,
                    incarnation,
                    result,
                    summary,
                });
                return;
            }
        }
    })
}

/// Leader of a new incarnation: removes the frames of the one before (a forgotten older one
/// ages out with the stream's max age).
async fn purge_before(cluster: &Cluster, deployment: &str, incarnation: u64) {
    if incarnation < 2 {
        return;
    }
    if let Ok(stream) = cluster.js.get_stream(subjects::stream(deployment)).await {
        let _ = stream
            .purge()
            .filter(subjects::incarnation(deployment, incarnation - 1))
            .await;
    }
}

/// Removes what a deployment left on the broker: its assignment, checkpoints and stream.
pub async fn clean_up(cluster: &Cluster, deployment: &str) {
    let assigned = crate::records::read::<Assignment>(&cluster.assignments, deployment).await;
    if let Ok(Some((a, _))) = assigned {
        checkpoint::remove(
            &cluster.checkpoints,
            &cluster.restores,
            deployment,
            a.submitted_ms,
            a.incarnation,
        )
        .await;
    }
    let _ = crate::records::delete(&cluster.assignments, deployment).await;
    let _ = cluster.js.delete_stream(subjects::stream(deployment)).await;
}

/// The epoch of a submission, as every part takes it.
pub fn epoch(submitted_ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(submitted_ms)
}
