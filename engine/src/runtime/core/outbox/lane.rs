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
    /// The last watermark this consumer was sent (0: none).
    pub(super) wm_sent: u64,
}

impl<T> Lane<T> {
    pub(super) fn new(link: Credited<T>) -> Self {
        Lane {
            buf: Batch::with_capacity(0),
            link,
            wm_sent: 0,
        }
    }
}

/// The settings and counters every lane's pushes and sends share: the task's outbox as a
/// whole, apart from its lanes so one emit can reach several lanes.
pub(crate) struct Shared {
    pub batch_size: usize,
    /// Send MessagePack bytes instead of typed batches (`always_serialize`).
    pub encode: bool,
    /// Lanes whose link is blocked.
    pub blocked: usize,
    /// Tuples sitting in open batches.
    pub buffered: usize,
    /// A batch that could not be encoded; the task reports it and fails.
    pub failure: Option<String>,
    /// Stamped on everything sent, so consumers can drop what a rolled-back generation left
    /// in flight.
    pub gen: u64,
    /// The task's event-time watermark (0: none), sent in band to every consumer.
    pub wm: u64,
    /// The next tuples must carry the watermark in front of them (a spout's tuple behind it,
    /// or any emit of a bolt): their consumers decide lateness with it.
    pub precise: bool,
}

/// Pushes tuples into lanes and ships their batches, for one emit or one flush.
pub(super) struct Shipper<'a> {
    pub shared: &'a mut Shared,
    /// Stamps each copy with its tuple trees (acking on).
    pub stamp: Option<Stamp<'a>>,
}

impl Shipper<'_> {
    /// Appends one tuple to `lane`'s open batch and sends the batch when it is full.
    #[inline]
    pub fn push<T: crate::Tuple>(&mut self, lane: &mut Lane<T>, value: T, origin: u64) {
        if lane.buf.values.capacity() == 0 {
            lane.buf = Batch::with_capacity(self.shared.batch_size);
        }
        if self.shared.precise && lane.wm_sent < self.shared.wm {
            lane.buf.marks.push((lane.buf.len() as u32, self.shared.wm));
            lane.wm_sent = self.shared.wm;
        }
        if let Some(stamp) = self.stamp.as_mut() {
            stamp.stamp(&mut lane.buf);
        }
        lane.buf.push(value, origin);
        self.shared.buffered += 1;
        if lane.buf.len() >= self.shared.batch_size {
            self.ship(lane);
        }
    }

    /// Sends `lane`'s open batch, or queues it when the link has no credit.
    pub fn ship<T: crate::Tuple>(&mut self, lane: &mut Lane<T>) {
        if lane.wm_sent < self.shared.wm {
            lane.buf.marks.push((lane.buf.len() as u32, self.shared.wm));
            lane.wm_sent = self.shared.wm;
        }
        let batch = std::mem::replace(&mut lane.buf, Batch::with_capacity(0));
        self.shared.buffered -= batch.len();
        let payload = if self.shared.encode {
            let mut bytes = Vec::new();
            match encode_batch(&batch, &mut bytes) {
                Ok(()) => Payload::Encoded(bytes),
                Err(e) => {
                    self.shared.failure = Some(e.to_string());
                    return;
                }
            }
        } else {
            Payload::Batch(batch)
        };
        if lane.link.send_data(self.shared.gen, payload) {
            self.shared.blocked += 1;
        }
    }
}
