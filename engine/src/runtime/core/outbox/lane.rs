//! The middle layer of the outbox: one open batch per consumer task, sent when full (or when
//! the task flushes after its linger) through that consumer's credited link.

use super::credited::Credited;
use crate::runtime::core::Stamp;
use crate::transport::codec::encode_batch;
use crate::transport::message::Payload;
use crate::transport::Batch;

/// What this task sends to one consumer task: the open batch and the credited link.
pub(crate) struct Lane<T> {
    /// The open batch. Allocated when the first tuple for this consumer arrives, not before,
    /// so a task with many consumers it seldom sends to holds memory only for those it uses.
    pub(super) buf: Batch<T>,
    pub(super) link: Credited<T>,
}

impl<T> Lane<T> {
    pub(super) fn new(link: Credited<T>) -> Self {
        Lane {
            buf: Batch::with_capacity(0),
            link,
        }
    }
}

/// The settings and counters of the task's outbox that a push or a send updates, borrowed
/// apart from its lanes so one emit can reach several lanes.
pub(super) struct Shipper<'a> {
    pub batch_size: usize,
    /// Send MessagePack bytes instead of typed batches (`always_serialize`).
    pub encode: bool,
    /// Lanes whose link is blocked.
    pub blocked: &'a mut usize,
    /// Tuples sitting in open batches.
    pub buffered: &'a mut usize,
    pub failure: &'a mut Option<String>,
    pub gen: u64,
    /// Stamps each copy with its tuple trees (acking on).
    pub stamp: Option<Stamp<'a>>,
}

impl Shipper<'_> {
    /// Appends one tuple to `lane`'s open batch and sends the batch when it is full.
    #[inline]
    pub fn push<T: crate::Tuple>(&mut self, lane: &mut Lane<T>, value: T, origin: u64) {
        if lane.buf.values.capacity() == 0 {
            lane.buf = Batch::with_capacity(self.batch_size);
        }
        if let Some(stamp) = self.stamp.as_mut() {
            stamp.stamp(&mut lane.buf);
        }
        lane.buf.push(value, origin);
        *self.buffered += 1;
        if lane.buf.len() >= self.batch_size {
            self.ship(lane);
        }
    }

    /// Sends `lane`'s open batch, or queues it when the link has no credit.
    pub fn ship<T: crate::Tuple>(&mut self, lane: &mut Lane<T>) {
        let batch = std::mem::replace(&mut lane.buf, Batch::with_capacity(0));
        *self.buffered -= batch.len();
        let payload = if self.encode {
            let mut bytes = Vec::new();
            match encode_batch(&batch, &mut bytes) {
                Ok(()) => Payload::Encoded(bytes),
                Err(e) => {
                    *self.failure = Some(e.to_string());
                    return;
                }
            }
        } else {
            Payload::Batch(batch)
        };
        if lane.link.send_data(self.gen, payload) {
            *self.blocked += 1;
        }
    }
}
