//! The bottom layer of the outbox: a link that sends data only against credit.

use std::collections::VecDeque;

use super::link::Link;
use crate::transport::message::Payload;

/// One link with its credits and what waits for them.
///
/// A consumer grants a fixed number of credits per link and returns one for every batch it
/// executes or drops, so at most `credits` batches are ever in flight on a link, whatever the
/// transport. A batch without credit waits in `pending`, and the link counts as *blocked*
/// until credit drains it; the producer stops taking input meanwhile.
pub(crate) struct Credited<T> {
    link: Box<dyn Link<T>>,
    /// Batches the link may still send before a credit comes back.
    credits: usize,
    /// Batches waiting for credit, with the barriers and end-of-stream queued behind them
    /// (those need no credit but must not overtake data).
    pending: VecDeque<Payload<T>>,
}

impl<T> Credited<T> {
    /// `link` with `credits` batches' worth of credit.
    pub(crate) fn new(link: Box<dyn Link<T>>, credits: usize) -> Self {
        Credited {
            link,
            credits,
            pending: VecDeque::new(),
        }
    }

    /// True while something waits for credit.
    #[inline]
    pub(crate) fn is_blocked(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Payloads waiting for credit.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Sends a data payload against a credit, or queues it. Returns true when this made the
    /// link blocked.
    #[inline]
    pub(crate) fn send_data(&mut self, gen: u64, payload: Payload<T>) -> bool {
        if self.credits > 0 && self.pending.is_empty() {
            self.credits -= 1;
            self.link.send(gen, payload);
            return false;
        }
        self.pending.push_back(payload);
        self.pending.len() == 1
    }

    /// Sends a barrier or end-of-stream now, or queues it behind the data waiting for credit.
    pub(crate) fn send_control(&mut self, gen: u64, payload: Payload<T>) {
        if self.pending.is_empty() {
            self.link.send(gen, payload);
        } else {
            self.pending.push_back(payload);
        }
    }

    /// One credit came back: sends what waited as far as credit allows. Returns true when
    /// this unblocked the link.
    pub(crate) fn credit(&mut self, gen: u64) -> bool {
        self.credits += 1;
        if self.pending.is_empty() {
            return false;
        }
        while let Some(front) = self.pending.front() {
            let needs_credit = matches!(front, Payload::Batch(_) | Payload::Encoded(_));
            if needs_credit {
                if self.credits == 0 {
                    break;
                }
                self.credits -= 1;
            }
            if let Some(payload) = self.pending.pop_front() {
                self.link.send(gen, payload);
            }
        }
        self.pending.is_empty()
    }

    /// A rollback: what waits is dropped. Credits stay as they are: a dropped batch never
    /// took one, and the consumer returns the credit of every batch in flight.
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }
}
