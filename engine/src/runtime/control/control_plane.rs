//! The control plane on a thread of its own: supervision (restarts and their backoff),
//! checkpoints, tuple timeouts and the drain go on whether or not the caller of
//! [`crate::LocalCluster::spawn`] is waiting on the run.

use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::controller::{Controller, Wait};
use crate::runtime::observability::stats::TaskEvent;
use crate::{RunError, RunReport};

/// The handle's side of the controller thread.
pub(crate) struct ControlPlane {
    /// Into the controller's event queue, beside the tasks' events: drain and stop requests.
    requests: Sender<TaskEvent>,
    /// The run's outcome, sent once when the controller returns.
    outcome: Receiver<Result<RunReport, RunError>>,
    /// The outcome once received (a caller may wait several times before taking it).
    ended: Option<Result<RunReport, RunError>>,
    thread: Option<JoinHandle<()>>,
}

impl ControlPlane {
    /// Runs `controller` on a thread until every task finished, a failure ended the run, or
    /// [`ControlPlane::stop`]; `requests` must feed the controller's event queue.
    pub(crate) fn start(
        mut controller: Controller,
        requests: Sender<TaskEvent>,
        topology: &str,
    ) -> Result<Self, RunError> {
        let (outcome_tx, outcome) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name(format!("squall-control-{topology}"))
            .spawn(move || {
                let outcome = match controller.wait(None) {
                    Ok(Wait::Complete) => Ok(controller.report()),
                    Ok(Wait::Stopped | Wait::Timeout) => Err(RunError::Runtime(
                        "the run was stopped before it completed".into(),
                    )),
                    Err(e) => Err(e),
                };
                // Dropping the controller lets the tasks' actors stop with their addresses.
                drop(controller);
                let _ = outcome_tx.send(outcome);
            })
            .map_err(|e| RunError::Runtime(format!("cannot start the control thread: {e}")))?;
        Ok(ControlPlane {
            requests,
            outcome,
            ended: None,
            thread: Some(thread),
        })
    }

    /// Asks the controller to drain the topology.
    pub(crate) fn drain(&self) {
        let _ = self.requests.send(TaskEvent::Drain);
    }

    /// Waits up to `timeout` (forever with `None`) for the run to end; true once it has.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> bool {
        if self.ended.is_some() {
            return true;
        }
        let received = match timeout {
            Some(t) => self.outcome.recv_timeout(t),
            None => self
                .outcome
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        self.ended = match received {
            Ok(outcome) => Some(outcome),
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => Some(Err(RunError::Runtime(
                "the control thread ended without an outcome".into(),
            ))),
        };
        true
    }

    /// The run's failure, if it ended with one (the outcome stays for `take`).
    pub(crate) fn failure(&self) -> Option<RunError> {
        match &self.ended {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// Takes the outcome of a run that ended (see [`ControlPlane::wait`]).
    pub(crate) fn take(&mut self) -> Result<RunReport, RunError> {
        self.ended.take().unwrap_or_else(|| {
            Err(RunError::Runtime(
                "the run's outcome was taken twice".into(),
            ))
        })
    }

    /// Stops the controller thread (if the run has not ended) and waits for it.
    pub(crate) fn stop(&mut self) {
        let _ = self.requests.send(TaskEvent::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
