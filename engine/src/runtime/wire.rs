//! The one-time message that connects a started task to its neighbours.

use std::sync::Arc;

use actix::{Message, Recipient};

use super::output::EdgeSpec;
use crate::component::{Source, Tuple};
use crate::transport::message::Credit;

/// One input link of a consumer task: whom to return credit to, and where tuples come from.
#[derive(Clone)]
pub(crate) struct InputLink {
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
