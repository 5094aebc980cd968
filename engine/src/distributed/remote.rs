//! The pieces of a part that stand for tasks in other processes: the remote link a producer
//! sends through, and the forwarders that take credits and control messages to the process
//! running their task.

use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};

use super::frames::encode_data;
use super::{Fabric, Route, TaskIndex};
use crate::runtime::core::Link;
use crate::transport::message::Payload;
use crate::Tuple;

/// A link to a consumer task in another process: every payload becomes a data frame.
pub(crate) struct RemoteLink {
    fabric: Arc<dyn Fabric>,
    /// The consumer task.
    to: TaskIndex,
    /// The consumer-side index of this link.
    link: u32,
}

impl RemoteLink {
    /// A link to task `to`, which knows this producer as its link `link`.
    pub(crate) fn new(fabric: Arc<dyn Fabric>, to: TaskIndex, link: u32) -> Self {
        RemoteLink { fabric, to, link }
    }
}

impl<T: Tuple> Link<T> for RemoteLink {
    fn send(&mut self, gen: u64, payload: Payload<T>) {
        let frame = match encode_data(self.link, gen, payload) {
            Ok(frame) => frame,
            // A tuple type whose `Serialize` fails: the consumer reads this frame as a
            // malformed one and fails the run with the reason, rather than lose the batch.
            Err(e) => super::frames::encode_error(self.link, gen, &e.to_string()),
        };
        self.fabric.send(Route::Data { to: self.to }, frame);
    }
}

/// An actor that hands each message it gets to a closure: what a `Recipient` of a task in
/// another process points at.
pub(crate) struct Forward<M> {
    to: Box<dyn FnMut(M) + Send>,
}

impl<M> Forward<M> {
    pub(crate) fn new(to: impl FnMut(M) + Send + 'static) -> Self {
        Forward { to: Box::new(to) }
    }
}

impl<M: 'static> Actor for Forward<M> {
    type Context = Context<Self>;
}

impl<M: Message<Result = ()> + 'static> Handler<M> for Forward<M> {
    type Result = ();

    fn handle(&mut self, msg: M, _: &mut Context<Self>) {
        (self.to)(msg)
    }
}
