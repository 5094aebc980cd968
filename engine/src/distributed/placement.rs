//! A part's view of the whole topology: which tasks run here, how to reach the others, and
//! which delivered data frames wait for their consumer's credit before the fabric may
//! acknowledge them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix::{Actor, ArbiterHandle, Recipient};

use super::forms::ControlForm;
use super::frames::{decode_data, encode_credit, FrameError};
use super::remote::Forward;
use super::{Fabric, Route, TaskIndex};
use crate::transport::message::{Control, Credit, Inbound};
use crate::Tuple;

/// Delivers one data frame to a bolt task, decoding its header (the batch stays encoded;
/// the task decodes it as the producer's type).
pub(crate) type Inlet = Box<dyn Fn(&[u8]) -> Result<(), FrameError> + Send + Sync>;

/// The inlet of a task that takes `X` from its producers.
pub(crate) fn inlet<X: Tuple>(to: Recipient<Inbound<X>>) -> Inlet {
    Box::new(move |frame| {
        let (link, gen, payload) = decode_data::<X>(frame)?;
        to.do_send(Inbound { link, gen, payload });
        Ok(())
    })
}

/// One input link of a local task whose producer runs in another process.
pub(crate) struct LinkInlet {
    pub inlet: Inlet,
    /// The producer task.
    pub producer: TaskIndex,
    /// The credit the consumer returns for each batch on this link.
    pub credit: Credit,
}

/// What the fabric must be told once a frame has been processed.
pub(crate) type Done = Box<dyn FnOnce() + Send>;

/// Data frames delivered and not yet processed, per (producer task, edge, consumer task):
/// the consumer returns one credit per batch, in order, and each credit releases the oldest.
#[derive(Default)]
pub(crate) struct Unprocessed {
    waiting: Mutex<HashMap<(TaskIndex, u32, u32), VecDeque<Done>>>,
}

impl Unprocessed {
    pub(crate) fn push(&self, producer: TaskIndex, credit: Credit, done: Done) {
        if let Ok(mut w) = self.waiting.lock() {
            w.entry((producer, credit.edge, credit.target))
                .or_default()
                .push_back(done);
        }
    }

    fn pop(&self, producer: TaskIndex, credit: Credit) -> Option<Done> {
        self.waiting
            .lock()
            .ok()?
            .get_mut(&(producer, credit.edge, credit.target))?
            .pop_front()
    }
}

/// Which tasks of a distributed run are in this process, and the fabric to the others.
pub(crate) struct RemoteEnv {
    pub fabric: Arc<dyn Fabric>,
    /// Per flat task, true when it runs here.
    local: Vec<bool>,
    /// The flat index of each component's task 0, in declaration order.
    bases: Vec<u32>,
    pub unprocessed: Arc<Unprocessed>,
}

impl RemoteEnv {
    pub(crate) fn new(fabric: Arc<dyn Fabric>, local: Vec<bool>, parallelism: &[usize]) -> Self {
        let mut bases = Vec::with_capacity(parallelism.len());
        let mut next = 0u32;
        for p in parallelism {
            bases.push(next);
            next += *p as u32;
        }
        RemoteEnv {
            fabric,
            local,
            bases,
            unprocessed: Arc::default(),
        }
    }

    /// The flat index of component `node`'s task 0.
    pub(crate) fn base(&self, node: usize) -> u32 {
        self.bases.get(node).copied().unwrap_or(0)
    }

    pub(crate) fn is_local(&self, node: usize, task: usize) -> bool {
        let flat = self.base(node) as usize + task;
        self.local.get(flat).copied().unwrap_or(false)
    }

    /// Forwarders for task `task` of `node`, which runs in another process: the credits its
    /// consumers here return go to it as credit frames (and release the frames they were for,
    /// so the fabric can acknowledge them), and the controller's commands as control frames.
    pub(crate) fn proxies(
        &self,
        arbiter: &ArbiterHandle,
        node: usize,
        task: usize,
    ) -> (Recipient<Credit>, Recipient<Control>) {
        let flat = self.base(node) + task as u32;
        let fabric = self.fabric.clone();
        let unprocessed = self.unprocessed.clone();
        let credit = Forward::start_in_arbiter(arbiter, move |_| {
            Forward::new(move |c: Credit| {
                if let Some(done) = unprocessed.pop(flat, c) {
                    done();
                }
                fabric.send(Route::Credit { to: flat }, encode_credit(c.edge, c.target));
            })
        });
        let fabric = self.fabric.clone();
        let control = Forward::start_in_arbiter(arbiter, move |_| {
            Forward::new(
                move |c: Control| match rmp_serde::to_vec(&ControlForm::from(&c)) {
                    Ok(frame) => fabric.send(Route::Control { to: flat }, frame),
                    Err(e) => {
                        eprintln!("squall: cannot encode a control message for task {flat}: {e}")
                    }
                },
            )
        });
        (credit.recipient(), control.recipient())
    }
}
