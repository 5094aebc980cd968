//! Cumulative acknowledgement for a consumer with `AckPolicy::All`: acking one message acks
//! every earlier one, so the client may ack only past messages whose tuple trees all completed.

use std::collections::VecDeque;

/// Deliveries in the order they were made, each done or not; the front advances over done
/// ones. A message failed by the spout is delivered again under a new id and keeps the floor
/// below it until that new delivery completes (the server is not asked to redeliver: a later
/// cumulative ack would cover its redelivery before it completed).
#[derive(Debug)]
pub(super) struct Floor<M> {
    entries: VecDeque<Entry<M>>,
    /// The delivery id of `entries[0]`; ids are consecutive.
    base: u64,
}

#[derive(Debug)]
struct Entry<M> {
    /// The server's message, on the first delivery only (the one a cumulative ack is sent on).
    message: Option<M>,
    done: bool,
    /// The id of the first delivery this one repeats (its own id for a first delivery).
    first: u64,
}

impl<M> Floor<M> {
    /// An empty floor whose first delivery id will be `next`.
    pub(super) fn new(next: u64) -> Self {
        Floor {
            entries: VecDeque::new(),
            base: next,
        }
    }

    /// The id the next delivery gets.
    pub(super) fn next_id(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// Records a first delivery of `message`; returns its id.
    pub(super) fn deliver(&mut self, message: M) -> u64 {
        let id = self.next_id();
        self.entries.push_back(Entry {
            message: Some(message),
            done: false,
            first: id,
        });
        id
    }

    /// The spout failed delivery `id`: records a new delivery of the same message and returns
    /// its id with the message, or `None` when `id` is not open.
    pub(super) fn redeliver(&mut self, id: u64) -> Option<(u64, &M)> {
        let next = self.next_id();
        let entry = self.entry_mut(id).filter(|e| !e.done)?;
        let first = entry.first;
        if first != id {
            // A repeat superseded by the next one; the first delivery stays open.
            entry.done = true;
        }
        self.entries.push_back(Entry {
            message: None,
            done: false,
            first,
        });
        let message = self.entry_mut(first)?.message.as_ref()?;
        Some((next, message))
    }

    /// Delivery `id` completed (and with it the first delivery it repeats).
    pub(super) fn complete(&mut self, id: u64) {
        let Some(entry) = self.entry_mut(id) else {
            return;
        };
        entry.done = true;
        let first = entry.first;
        if let Some(e) = self.entry_mut(first) {
            e.done = true;
        }
    }

    /// Drops the done deliveries at the front; returns the last first-delivery message among
    /// them (acking it cumulatively acks exactly what completed; `None` when the front did not
    /// move past a first delivery) and how many deliveries were dropped.
    pub(super) fn advance(&mut self) -> (Option<M>, u64) {
        let mut last = None;
        let mut dropped = 0;
        while self.entries.front().is_some_and(|e| e.done) {
            if let Some(e) = self.entries.pop_front() {
                dropped += 1;
                if e.message.is_some() {
                    last = e.message;
                }
            }
        }
        self.base += dropped;
        (last, dropped)
    }

    /// Deliveries not yet dropped.
    #[cfg(test)]
    pub(super) fn open(&self) -> usize {
        self.entries.len()
    }

    fn entry_mut(&mut self, id: u64) -> Option<&mut Entry<M>> {
        let index = usize::try_from(id.checked_sub(self.base)?).ok()?;
        self.entries.get_mut(index)
    }
}

#[cfg(test)]
mod tests {
    use super::Floor;

    #[test]
    fn the_floor_moves_only_over_a_completed_prefix() {
        let mut f = Floor::new(1);
        let ids: Vec<u64> = (0..5).map(|m| f.deliver(m)).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        f.complete(2);
        f.complete(3);
        assert_eq!(f.advance().0, None, "1 is still open");
        f.complete(1);
        assert_eq!(f.advance().0, Some(2), "acks messages 0..=2");
        f.complete(5);
        assert_eq!(f.advance().0, None);
        f.complete(4);
        assert_eq!(f.advance().0, Some(4));
        assert_eq!(f.open(), 0);
    }

    #[test]
    fn a_failed_message_holds_the_floor_until_its_new_delivery_completes() {
        let mut f = Floor::new(1);
        for m in 0..3 {
            f.deliver(m);
        }
        let (again, m) = f.redeliver(1).unwrap();
        assert_eq!((again, *m), (4, 0));
        f.complete(2);
        f.complete(3);
        assert_eq!(f.advance().0, None, "message 0 is being retried");
        // It fails again: a third delivery, and the second one is superseded.
        let (third, m) = f.redeliver(again).unwrap();
        assert_eq!((third, *m), (5, 0));
        assert!(f.redeliver(again).is_none(), "superseded");
        f.complete(third);
        assert_eq!(f.advance().0, Some(2), "everything, up to message 2");
        assert_eq!(f.open(), 0);
    }

    #[test]
    fn unknown_and_settled_ids_are_ignored() {
        let mut f = Floor::new(10);
        f.deliver('a');
        f.complete(3);
        f.complete(99);
        assert!(f.redeliver(99).is_none());
        f.complete(10);
        assert_eq!(f.advance().0, Some('a'));
        f.complete(10);
        assert!(f.redeliver(10).is_none());
        assert_eq!(f.advance().0, None);
        assert_eq!(f.deliver('b'), 11);
    }
}
