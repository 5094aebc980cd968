//! The one-time message that connects a started task to its neighbours.

use std::any::Any;
use std::sync::Arc;

use actix::{Message, Recipient};

use super::streams::SideSpec;
use crate::component::{Source, Tuple};
use crate::distributed::{Fabric, RemoteLink, TaskIndex};
use crate::runtime::actix::LocalLink;
use crate::runtime::core::{Link, OutEdge};
use crate::topology::Grouping;
use crate::transport::message::{Credit, Inbound, Restart};

/// One input link of a consumer task: whom to return credit to, and where tuples come from.
#[derive(Clone)]
pub(crate) struct InputLink {
    /// Which of the consumer's subscriptions the link belongs to.
    pub subscription: usize,
    pub credit_to: Recipient<Credit>,
    pub credit: Credit,
    pub source: Source,
}

/// Sent once to every task after all tasks have started: its outgoing edges (consumers'
/// addresses and groupings) and its input links. Tasks do nothing before they are wired.
pub(crate) struct Wire<T: Tuple> {
    /// The default stream's edges, each with its index among all of the producer's edges.
    pub edges: Vec<(u32, EdgeSpec<T>)>,
    /// Every named stream the component declared, typed, subscribed or not (an emit to any
    /// other name is an error rather than a silent drop).
    pub sides: Vec<Box<dyn SideSpec>>,
    pub inputs: Vec<InputLink>,
    /// Restore this before running (a part of a distributed run resuming its deployment's
    /// last checkpoint): applied as a rollback before the task takes its first step.
    pub restore: Option<Restart>,
}

impl<T: Tuple> Message for Wire<T> {
    type Result = ();
}

/// A bolt task's wiring: the [`Wire`], and per input link how to convert what arrives on it
/// into the bolt's input (`Convert<X, Input>` for a producer of `X`; `None`: no conversion).
pub(crate) struct WireBolt<T: Tuple> {
    pub wire: Wire<T>,
    pub converts: Vec<Option<Arc<dyn Any + Send + Sync>>>,
}

impl<T: Tuple> Message for WireBolt<T> {
    type Result = ();
}

/// The consumer side of one subscription, as the launcher hands it to every producer task.
pub(crate) struct EdgeSpec<T: Tuple> {
    pub grouping: Grouping<T>,
    /// The consumer tasks, in task order.
    pub targets: Vec<Target<T>>,
    pub target_workers: Vec<usize>,
    /// The consumer's link index for producer task 0; task `p` uses `link_base + p`.
    pub link_base: u32,
}

impl<T: Tuple> EdgeSpec<T> {
    /// The edge as producer task `task`'s outbox needs it: a local link to each consumer;
    /// `id` is the edge's index among all of the producer's edges.
    pub(crate) fn into_out_edge(self, task: usize, id: u32) -> OutEdge<T> {
        let link = self.link_base + task as u32;
        OutEdge {
            id,
            grouping: self.grouping,
            links: self
                .targets
                .into_iter()
                .map(|to| match to {
                    Target::Local(to) => Box::new(LocalLink::new(to, link)) as Box<dyn Link<T>>,
                    Target::Remote { task, fabric } => {
                        Box::new(RemoteLink::new(fabric, task, link)) as Box<dyn Link<T>>
                    }
                })
                .collect(),
            target_workers: self.target_workers,
        }
    }
}

/// A consumer task as its producers reach it.
pub(crate) enum Target<T: Tuple> {
    /// In this process: its mailbox.
    Local(Recipient<Inbound<T>>),
    /// In another process of a distributed run: frames through the fabric.
    Remote {
        task: TaskIndex,
        fabric: Arc<dyn Fabric>,
    },
}

impl<T: Tuple> Clone for Target<T> {
    fn clone(&self) -> Self {
        match self {
            Target::Local(to) => Target::Local(to.clone()),
            Target::Remote { task, fabric } => Target::Remote {
                task: *task,
                fabric: fabric.clone(),
            },
        }
    }
}

impl<T: Tuple> Clone for EdgeSpec<T> {
    fn clone(&self) -> Self {
        EdgeSpec {
            grouping: self.grouping.clone(),
            targets: self.targets.clone(),
            target_workers: self.target_workers.clone(),
            link_base: self.link_base,
        }
    }
}
