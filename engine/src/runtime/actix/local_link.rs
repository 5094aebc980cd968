//! The in-process link: payloads go straight into the consumer task's actix mailbox.

use actix::Recipient;

use crate::component::Tuple;
use crate::runtime::core::Link;
use crate::transport::message::{Inbound, Payload};

/// A link to a consumer task in this process.
pub(crate) struct LocalLink<T: Tuple> {
    /// The consumer task's mailbox. `do_send` never refuses (an actix mailbox is unbounded in
    /// practice); the outbox's credits are what bound it.
    to: Recipient<Inbound<T>>,
    /// The consumer-side index of this link, so the consumer knows whom to credit.
    link: u32,
}

impl<T: Tuple> LocalLink<T> {
    /// A link delivering to `to`, which knows this producer as its link `link`.
    pub(crate) fn new(to: Recipient<Inbound<T>>, link: u32) -> Self {
        LocalLink { to, link }
    }
}

impl<T: Tuple> Link<T> for LocalLink<T> {
    #[inline]
    fn send(&mut self, gen: u64, payload: Payload<T>) {
        self.to.do_send(Inbound {
            link: self.link,
            gen,
            payload,
        });
    }
}
