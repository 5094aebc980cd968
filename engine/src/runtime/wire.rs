//! The one-time message that connects a started task to its neighbours.

use std::any::Any;
use std::sync::Arc;

use actix::{Message, Recipient};

use super::actix::LocalLink;
use super::core::{Link, OutEdge};
use crate::component::{Source, Tuple};
use crate::topology::Grouping;
use crate::transport::message::{Credit, Inbound};

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
    pub edges: Vec<EdgeSpec<T>>,
    pub inputs: Vec<InputLink>,
    /// The named streams the component declared, so an emit to any other name is an error
    /// rather than a silent drop.
    pub streams: Arc<[Arc<str>]>,
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
    pub stream: Arc<str>,
    pub grouping: Grouping<T>,
    /// The consumer tasks' mailboxes, in task order.
    pub targets: Vec<Recipient<Inbound<T>>>,
    pub target_workers: Vec<usize>,
    /// The consumer's link index for producer task 0; task `p` uses `link_base + p`.
    pub link_base: u32,
}

impl<T: Tuple> EdgeSpec<T> {
    /// The edge as producer task `task`'s outbox needs it: a local link to each consumer.
    pub(crate) fn into_out_edge(self, task: usize) -> OutEdge<T> {
        let link = self.link_base + task as u32;
        OutEdge {
            stream: self.stream,
            grouping: self.grouping,
            links: self
                .targets
                .into_iter()
                .map(|to| Box::new(LocalLink::new(to, link)) as Box<dyn Link<T>>)
                .collect(),
            target_workers: self.target_workers,
        }
    }
}

impl<T: Tuple> Clone for EdgeSpec<T> {
    fn clone(&self) -> Self {
        EdgeSpec {
            stream: self.stream.clone(),
            grouping: self.grouping.clone(),
            targets: self.targets.clone(),
            target_workers: self.target_workers.clone(),
            link_base: self.link_base,
        }
    }
}
