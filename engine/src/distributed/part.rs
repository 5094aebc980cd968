//! A part: the local tasks of one incarnation of a distributed run, booted like a local run,
//! with the frames from other processes delivered to them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use actix::Recipient;
use crossbeam_channel::Sender;

use super::forms::{ControlForm, EventForm};
use super::frames::{decode_credit, is_batch, FrameError};
use super::placement::{LinkInlet, RemoteEnv};
use super::{CheckpointStore, Fabric, PartSpec, Route, TaskIndex};
use crate::runtime::control::checkpoint::decode_checkpoint;
use crate::runtime::control::control_plane::ControlPlane;
use crate::runtime::control::controller::{Controller, Shape};
use crate::runtime::launch::boot::{boot, BootEnv};
use crate::runtime::observability::stats::TaskEvent;
use crate::runtime::RunningTopology;
use crate::transport::message::{Control, Credit};
use crate::{Config, Guarantee, RunError, RunReport, Topology};

/// A part running in this process (see [`super::start_part`]).
///
/// Shared between the threads that deliver frames and the one that waits on it: every method
/// takes `&self`.
pub struct Part {
    /// `None` once ended or stopped. Locked only by `wait` and `stop`.
    running: Mutex<Option<RunningTopology>>,
    leader: bool,
    epoch: Instant,
    /// The events queue: the controller's, or the forwarder's to the leader.
    events: Sender<TaskEvent>,
    inlets: HashMap<TaskIndex, Vec<LinkInlet>>,
    /// By flat task (local tasks only are used).
    credits: Vec<Recipient<Credit>>,
    controls: Vec<Recipient<Control>>,
    remote: Arc<RemoteEnv>,
}

impl Part {
    /// Hands a frame that arrived for this part to its task (or to the controller). `done` is
    /// called once the frame has been processed (data: once the consumer task executed the
    /// batch and returned its credit), so that the fabric can acknowledge it to the broker.
    /// A frame for a task that is not here (a stale one) is acknowledged and dropped.
    pub fn deliver(&self, route: Route, frame: &[u8], done: Box<dyn FnOnce() + Send>) {
        if let Err(e) = self.route(route, frame, done) {
            // A frame that cannot be read is a bug or a foreign writer on our subjects: the
            // run fails with the reason rather than lose what the frame held.
            let _ = self
                .events
                .send(TaskEvent::Failed(RunError::Runtime(format!(
                    "a frame for {route:?} could not be read: {e}"
                ))));
        }
    }

    fn route(
        &self,
        route: Route,
        frame: &[u8],
        done: Box<dyn FnOnce() + Send>,
    ) -> Result<(), FrameError> {
        match route {
            Route::Data { to } => {
                let link = frame
                    .get(1..5)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_le_bytes)
                    .ok_or_else(|| FrameError("a data frame without its link".into()))?;
                let Some(l) = self
                    .inlets
                    .get(&to)
                    .and_then(|links| links.get(link as usize))
                else {
                    done();
                    return Ok(());
                };
                if is_batch(frame) {
                    // Acknowledged when the consumer returns the batch's credit.
                    self.remote.unprocessed.push(l.producer, l.credit, done);
                    (l.inlet)(frame)
                } else {
                    let delivered = (l.inlet)(frame);
                    done();
                    delivered
                }
            }
            Route::Credit { to } => {
                let (edge, target) = decode_credit(frame)?;
                if let Some(c) = self.credits.get(to as usize) {
                    c.do_send(Credit { edge, target });
                }
                done();
                Ok(())
            }
            Route::Control { to } => {
                let form: ControlForm =
                    rmp_serde::from_slice(frame).map_err(|e| FrameError(e.to_string()))?;
                if let Some(c) = self.controls.get(to as usize) {
                    c.do_send(form.into());
                }
                done();
                Ok(())
            }
            Route::Event => {
                if self.leader {
                    let form: EventForm =
                        rmp_serde::from_slice(frame).map_err(|e| FrameError(e.to_string()))?;
                    let _ = self.events.send(form.into_event(self.epoch));
                }
                done();
                Ok(())
            }
        }
    }

    /// Leader only: drains the whole deployment (spouts stop, what is in flight finishes).
    pub fn drain(&self) {
        if self.leader {
            // The leader's events queue is the controller's.
            let _ = self.events.send(TaskEvent::Drain);
        }
    }

    /// Leader only: takes a savepoint, a checkpoint after whose barrier the spouts emit
    /// nothing more, so that the next incarnation resumes from it with nothing to replay (a
    /// worker leaving gracefully). Returns its id once it is complete and stored, or `None`
    /// after `timeout` (or when this part does not lead).
    pub fn savepoint(&self, timeout: Duration) -> Option<u64> {
        if !self.leader {
            return None;
        }
        let (reply, id) = crossbeam_channel::bounded(1);
        self.events.send(TaskEvent::Savepoint(reply)).ok()?;
        id.recv_timeout(timeout).ok()
    }

    /// Leader only: waits up to `timeout` for the deployment to end; `Some` once it has, with
    /// the run's report (every part's tasks counted) or the failure that ended it. Other
    /// parts wait out `timeout` and return `None`.
    pub fn wait(&self, timeout: Duration) -> Option<Result<RunReport, RunError>> {
        if !self.leader {
            std::thread::sleep(timeout);
            return None;
        }
        let mut running = self.running.lock().ok()?;
        let ended = running.as_mut()?.poll_end(timeout)?;
        *running = None;
        Some(ended)
    }

    /// Stops every local task and the controller, if here, and waits for them (for at most
    /// one `wait` timeout more, if another thread is in `wait`). Stopping twice is harmless.
    pub fn stop(&self) {
        let running = self.running.lock().ok().and_then(|mut r| r.take());
        if let Some(r) = running {
            r.abort();
        }
    }
}

/// Starts a part (see [`super::start_part`]).
pub(crate) fn start(
    topology: Topology,
    config: Config,
    spec: PartSpec,
    fabric: Arc<dyn Fabric>,
    store: Arc<dyn CheckpointStore>,
) -> Result<Part, RunError> {
    if config.guarantee == Guarantee::AtLeastOnce {
        return Err(RunError::Runtime(
            "at-least-once does not run across processes yet: use exactly-once (the default) \
             or at-most-once"
                .into(),
        ));
    }
    let components: Vec<(String, usize)> = topology
        .nodes
        .iter()
        .map(|n| (n.id().to_string(), n.parallelism()))
        .collect();
    let tasks: usize = components.iter().map(|c| c.1).sum();
    if spec.local.len() != tasks {
        return Err(RunError::Runtime(format!(
            "the placement names {} tasks, the topology has {tasks}",
            spec.local.len()
        )));
    }
    let restore = match &spec.restore {
        Some((id, blob)) => Some((*id, decode_checkpoint(blob).map_err(RunError::Runtime)?)),
        None => None,
    };
    let parallelism: Vec<usize> = components.iter().map(|c| c.1).collect();
    let remote = Arc::new(RemoteEnv::new(
        fabric.clone(),
        spec.local.clone(),
        &parallelism,
    ));
    let ago = SystemTime::now()
        .duration_since(spec.epoch)
        .unwrap_or_default();
    let epoch = Instant::now().checked_sub(ago).unwrap_or_else(Instant::now);
    let config = Arc::new(config);
    let (events_tx, events) = crossbeam_channel::unbounded();
    let mut controller = spec.leader.then(|| {
        let shape = Shape {
            name: topology.name.clone(),
            components: components.clone(),
            order: topology.order.clone(),
            is_spout: topology.nodes.iter().map(|n| n.is_spout()).collect(),
            strategies: topology.strategies.clone(),
        };
        let mut c = Controller::new(shape, events.clone(), &config, epoch);
        c.set_store(store);
        if let Some((id, records)) = &restore {
            c.resume(*id, records.clone());
        }
        c
    });
    if !spec.leader {
        forward_events(events, fabric, epoch, &topology.name)?;
    }
    let name = topology.name.clone();
    let drain_timeout = config.drain_timeout;
    let mut booted = boot(
        topology,
        BootEnv {
            config,
            epoch,
            events: events_tx.clone(),
            remote: Some(remote.clone()),
            restore,
        },
    )?;
    let credits = booted.credits.iter().flatten().cloned().collect();
    let controls: Vec<Recipient<Control>> = booted.controls.iter().flatten().cloned().collect();
    let inlets = booted
        .inlets
        .drain(..)
        .collect::<HashMap<TaskIndex, Vec<LinkInlet>>>();
    let plane = match controller.take() {
        Some(mut c) => {
            c.set_controls(booted.controls.clone());
            Some(ControlPlane::start(c, events_tx.clone(), &name)?)
        }
        None => None,
    };
    Ok(Part {
        running: Mutex::new(Some(RunningTopology::booted(booted, plane, drain_timeout))),
        leader: spec.leader,
        epoch,
        events: events_tx,
        inlets,
        credits,
        controls,
        remote,
    })
}

/// A part without the controller sends its tasks' events to the leader's part.
fn forward_events(
    events: crossbeam_channel::Receiver<TaskEvent>,
    fabric: Arc<dyn Fabric>,
    epoch: Instant,
    name: &str,
) -> Result<(), RunError> {
    std::thread::Builder::new()
        .name(format!("squall-events-{name}"))
        .spawn(move || {
            for event in events {
                let Some(form) = EventForm::of(&event, epoch) else {
                    continue;
                };
                match rmp_serde::to_vec(&form) {
                    Ok(frame) => fabric.send(Route::Event, frame),
                    Err(e) => eprintln!("squall: cannot encode a task event: {e}"),
                }
            }
        })
        .map(|_| ())
        .map_err(|e| RunError::Runtime(format!("cannot start the event forwarder: {e}")))
}
