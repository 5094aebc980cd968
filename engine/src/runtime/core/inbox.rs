//! A bolt task's input queue: what arrived and is not executed yet, by link, with the
//! generation it was sent in, and the barrier alignment of exactly-once checkpoints.
//!
//! Bounded by the credits of the input links: a producer sends a batch only against a credit,
//! and the credit goes back only when the batch is executed or dropped.

use std::collections::VecDeque;

use crate::transport::Batch;

/// One thing that arrived on a link.
pub(crate) enum Item<T> {
    Batch(Batch<T>),
    /// What was left of a batch when its task crashed; its credit went back already.
    Remainder(Batch<T>),
    Barrier(u64),
    Eos,
    /// The producer's watermark, alone.
    Watermark(u64),
    /// The producer went idle.
    Idle,
    /// The producer emitted all it will, barring replays.
    Drained,
}

/// A batch's per-tuple metadata: trees, tree ends and watermark marks.
pub(crate) type BatchMeta<'a> = (&'a [(u64, u64)], &'a [u32], &'a [(u32, u64)]);

/// An arrival: link, generation, item.
pub(crate) type Arrival<T> = (u32, u64, Item<T>);

/// A barrier being aligned: which links have delivered it.
pub(crate) struct Alignment {
    pub id: u64,
    pub seen: Vec<bool>,
}

pub(crate) struct Inbox<T> {
    queue: VecDeque<Arrival<T>>,
    /// Arrivals on links that already delivered the barrier being aligned (exactly-once).
    held: VecDeque<Arrival<T>>,
    /// Per link: end-of-stream seen in this generation.
    pub closed: Vec<bool>,
    pub alignment: Option<Alignment>,
}

impl<T> Inbox<T> {
    pub(crate) fn new() -> Self {
        Inbox {
            queue: VecDeque::new(),
            held: VecDeque::new(),
            closed: Vec::new(),
            alignment: None,
        }
    }

    pub(crate) fn push(&mut self, arrival: Arrival<T>) {
        self.queue.push_back(arrival);
    }

    pub(crate) fn pop(&mut self) -> Option<Arrival<T>> {
        self.queue.pop_front()
    }

    /// Puts an arrival back at the front (it belongs to a generation not entered yet).
    pub(crate) fn unpop(&mut self, arrival: Arrival<T>) {
        self.queue.push_front(arrival);
    }

    /// Holds back an arrival of a link that delivered the barrier being aligned.
    pub(crate) fn hold(&mut self, arrival: Arrival<T>) {
        self.held.push_back(arrival);
    }

    /// Barrier `id` arrived on `link`: alignment starts, or a newer barrier replaces one
    /// abandoned (its checkpoint never completed), or the link is marked as aligned.
    pub(crate) fn barrier(&mut self, link: u32, id: u64) {
        let links = self.closed.len();
        let a = self.alignment.get_or_insert_with(|| Alignment {
            id,
            seen: vec![false; links],
        });
        if a.id < id {
            *a = Alignment {
                id,
                seen: vec![false; links],
            };
        }
        if a.id == id {
            if let Some(s) = a.seen.get_mut(link as usize) {
                *s = true;
            }
        }
    }

    /// Puts what is left of a batch of `link` (tuple `i` onwards, with the trees and the
    /// watermark marks of the whole batch) back in front, for a fresh instance or for when the
    /// outputs have credit again. Its credit went back when the batch was taken.
    pub(crate) fn put_back_rest(
        &mut self,
        (link, gen): (u32, u64),
        rest: impl Iterator<Item = (usize, (T, u64))>,
        (trees, tree_ends, marks): BatchMeta<'_>,
    ) {
        let mut batch = Batch::with_capacity(0);
        let mut first = None;
        for (i, (value, origin)) in rest {
            first.get_or_insert(i);
            if !tree_ends.is_empty() {
                let start = if i == 0 { 0 } else { tree_ends[i - 1] as usize };
                let end = tree_ends.get(i).map_or(start, |&e| e as usize);
                batch
                    .trees
                    .extend_from_slice(trees.get(start..end).unwrap_or(&[]));
                batch.tree_ends.push(batch.trees.len() as u32);
            }
            batch.push(value, origin);
        }
        // Marks at or after the first tuple put back (one applied already applies again
        // harmlessly: watermarks never go back).
        if let Some(first) = first {
            batch.marks = marks
                .iter()
                .filter(|&&(p, _)| p as usize >= first)
                .map(|&(p, w)| (p - first as u32, w))
                .collect();
        }
        if !batch.is_empty() {
            self.unpop((link, gen, Item::Remainder(batch)));
        }
    }

    /// True when `link` delivered the barrier being aligned.
    pub(crate) fn is_aligned_link(&self, link: u32) -> bool {
        self.alignment
            .as_ref()
            .is_some_and(|a| a.seen.get(link as usize).copied().unwrap_or(false))
    }

    /// Alignment is over: held arrivals go back in front, in their order.
    pub(crate) fn release(&mut self) {
        self.alignment = None;
        while let Some(a) = self.held.pop_back() {
            self.queue.push_front(a);
        }
    }

    /// Arrivals waiting (queue depth), held ones included.
    pub(crate) fn len(&self) -> usize {
        self.queue.len() + self.held.len()
    }

    /// Links still open in this generation.
    pub(crate) fn open_links(&self) -> usize {
        self.closed.iter().filter(|c| !**c).count()
    }

    /// True when nothing can be taken now (held arrivals wait for their alignment).
    pub(crate) fn nothing_ready(&self) -> bool {
        self.queue.is_empty()
    }

    /// True when nothing waits (held arrivals included).
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.held.is_empty()
    }

    /// True when every link has delivered the barrier being aligned or has closed.
    pub(crate) fn alignment_complete(&self) -> bool {
        self.alignment.as_ref().is_some_and(|a| {
            a.seen
                .iter()
                .zip(&self.closed)
                .all(|(seen, closed)| *seen || *closed)
        })
    }

    /// Drops every arrival of a generation older than `gen`; returns the links of the
    /// dropped batches, whose credits must go back.
    pub(crate) fn drop_older_than(&mut self, gen: u64) -> Vec<u32> {
        self.release();
        let mut credits = Vec::new();
        self.queue.retain(|(link, g, item)| {
            let keep = *g >= gen;
            if !keep && matches!(item, Item::Batch(_)) {
                credits.push(*link);
            }
            keep
        });
        credits
    }

    /// A new generation: every link open again (or as `closed` says), no alignment.
    pub(crate) fn reopen(&mut self, links: usize, closed: &[u32]) {
        self.closed = vec![false; links];
        for &l in closed {
            if let Some(c) = self.closed.get_mut(l as usize) {
                *c = true;
            }
        }
        self.alignment = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(values: &[u32]) -> Item<u32> {
        let mut b = Batch::with_capacity(values.len());
        for &v in values {
            b.push(v, 0);
        }
        Item::Batch(b)
    }

    fn values(arrival: Option<Arrival<u32>>) -> Vec<u32> {
        match arrival {
            Some((_, _, Item::Batch(b) | Item::Remainder(b))) => b.values,
            _ => Vec::new(),
        }
    }

    fn two_links() -> Inbox<u32> {
        let mut inbox = Inbox::new();
        inbox.reopen(2, &[]);
        inbox
    }

    #[test]
    fn a_barrier_aligns_once_every_open_link_delivered_it() {
        let mut inbox = two_links();
        inbox.barrier(0, 7);
        assert!(!inbox.alignment_complete());
        assert!(inbox.is_aligned_link(0) && !inbox.is_aligned_link(1));
        inbox.barrier(1, 7);
        assert!(inbox.alignment_complete());
    }

    #[test]
    fn a_closed_link_does_not_hold_the_alignment_back() {
        let mut inbox = Inbox::<u32>::new();
        inbox.reopen(2, &[1]);
        inbox.barrier(0, 3);
        assert!(inbox.alignment_complete());
    }

    #[test]
    fn held_arrivals_come_back_first_and_in_order_after_release() {
        let mut inbox = two_links();
        inbox.barrier(0, 1);
        // Link 0 is aligned: what it sends next waits; link 1 still flows.
        inbox.hold((0, 0, batch(&[1])));
        inbox.hold((0, 0, batch(&[2])));
        inbox.push((1, 0, batch(&[10])));
        assert_eq!(inbox.len(), 3);
        assert_eq!(values(inbox.pop()), [10]);
        assert!(inbox.nothing_ready() && !inbox.is_empty());
        inbox.barrier(1, 1);
        assert!(inbox.alignment_complete());
        inbox.push((1, 0, batch(&[11])));
        inbox.release();
        assert_eq!(values(inbox.pop()), [1]);
        assert_eq!(values(inbox.pop()), [2]);
        assert_eq!(values(inbox.pop()), [11]);
        assert!(inbox.is_empty());
    }

    #[test]
    fn a_newer_barrier_replaces_an_abandoned_one_and_an_older_one_is_ignored() {
        let mut inbox = two_links();
        inbox.barrier(0, 1);
        inbox.barrier(1, 2);
        assert_eq!(inbox.alignment.as_ref().map(|a| a.id), Some(2));
        assert!(!inbox.is_aligned_link(0) && inbox.is_aligned_link(1));
        inbox.barrier(0, 1);
        assert!(
            !inbox.alignment_complete(),
            "a late barrier 1 does not align 2"
        );
        inbox.barrier(0, 2);
        assert!(inbox.alignment_complete());
    }

    #[test]
    fn a_rollback_drops_older_generations_and_returns_their_credits() {
        let mut inbox = two_links();
        inbox.push((0, 0, batch(&[1])));
        inbox.push((1, 0, Item::Barrier(4)));
        inbox.push((1, 1, batch(&[2])));
        inbox.push((0, 0, Item::Remainder(Batch::with_capacity(0))));
        let credits = inbox.drop_older_than(1);
        assert_eq!(
            credits,
            [0],
            "one credit per dropped batch, none for the rest"
        );
        assert_eq!(values(inbox.pop()), [2]);
        assert!(inbox.is_empty());
    }

    #[test]
    fn the_rest_of_a_batch_goes_back_in_front_with_its_trees() {
        let mut inbox = two_links();
        inbox.push((1, 0, batch(&[99])));
        // Tuples 10, 11, 12 with trees [a], [b, c], [d]; 10 was executed.
        let trees = [(1, 1), (2, 2), (3, 3), (4, 4)];
        let ends = [1, 3, 4];
        let rest = [(1, (11, 0)), (2, (12, 0))].into_iter();
        let marks = [(0, 5), (1, 7), (3, 9)];
        inbox.put_back_rest((0, 0), rest, (&trees, &ends, &marks));
        match inbox.pop() {
            Some((0, 0, Item::Remainder(b))) => {
                assert_eq!(b.values, [11, 12]);
                assert_eq!(b.trees, [(2, 2), (3, 3), (4, 4)]);
                assert_eq!(b.tree_ends, [2, 3]);
                assert_eq!(b.marks, [(0, 7), (2, 9)]);
            }
            _ => panic!("the remainder was not first"),
        }
        assert_eq!(values(inbox.pop()), [99]);
    }
}
