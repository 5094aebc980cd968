//! Drivers of the task core for the criterion benchmarks in `engine/benches/`.
//!
//! Each driver builds an outbox or an inbox the way an executor does and drives it the way an
//! executor would, without actix, so a benchmark measures the core alone. The core's types
//! stay private to the crate (their signatures name groupings, payloads and tuple-tree stamps
//! that are no part of the engine's API); these drivers are the one door the benchmarks need.
//! Hidden from the docs and free to change with the core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::inbox::{Arrival, Inbox, Item};
use super::outbox::{Link, Output};
use crate::topology::Grouping;
use crate::transport::message::Payload;
use crate::transport::Batch;

/// A consumer task that keeps up: what reached it, for its producer to credit back.
#[derive(Default)]
struct Received {
    /// Batches received and not credited back yet.
    batches: AtomicU64,
    /// Tuples received in all.
    tuples: AtomicU64,
}

/// The fake link: counts what it is given, then drops it (as a mailbox that executes it).
struct CountingLink(Arc<Received>);

impl<T: Send> Link<T> for CountingLink {
    fn send(&mut self, _gen: u64, payload: Payload<T>) {
        if let Payload::Batch(batch) = payload {
            self.0.batches.fetch_add(1, Ordering::Relaxed);
            self.0
                .tuples
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
    }
}

/// One producer task's outbox with one shuffle-grouped edge to `consumers` tasks, each
/// reached through a fake link that counts what it receives.
pub struct OutboxDriver {
    out: Output<u64>,
    consumers: Vec<Arc<Received>>,
}

impl OutboxDriver {
    /// An outbox sending batches of `batch_size` tuples to `consumers` tasks, with `credits`
    /// batches in flight at most per link (`max_batches_in_flight`).
    pub fn new(consumers: usize, batch_size: usize, credits: usize) -> Self {
        let received: Vec<Arc<Received>> = (0..consumers).map(|_| Arc::default()).collect();
        let links = received
            .iter()
            .map(|r| Box::new(CountingLink(r.clone())) as Box<dyn Link<u64>>)
            .collect();
        OutboxDriver {
            out: Output::single_edge(Grouping::Shuffle, links, batch_size, credits),
            consumers: received,
        }
    }

    /// Emits `n` tuples (route, batch, credited link), returning every consumer's credits
    /// whenever the outbox blocks, as consumers that keep up would; then flushes what is open.
    /// Returns how many tuples the links received in all so far.
    pub fn emit(&mut self, n: u64) -> u64 {
        for v in 0..n {
            self.out.emit(v, 0, None);
            if self.out.is_blocked() {
                self.return_credits();
            }
        }
        self.out.flush();
        self.return_credits();
        self.consumers
            .iter()
            .map(|r| r.tuples.load(Ordering::Relaxed))
            .sum()
    }

    /// Every consumer hands back the credit of each batch it received.
    fn return_credits(&mut self) {
        for (target, r) in self.consumers.iter().enumerate() {
            for _ in 0..r.batches.swap(0, Ordering::Relaxed) {
                self.out.credit(0, target as u32);
            }
        }
    }
}

/// A bolt task's inbox over `links` input links, in the checkpointing mode that aligns
/// barriers (exactly once).
pub struct InboxDriver {
    inbox: Inbox<u64>,
}

/// Arrivals prepared for [`InboxDriver::run`], so that building the batches stays out of
/// the measurement.
pub struct Arrivals(Vec<Arrival<u64>>);

impl Arrivals {
    /// The arrivals of `links` producers that each send `batches` batches of `batch_size`
    /// tuples, with a checkpoint barrier after each `barrier_every` of them. The links take
    /// turns, and every link after the first lags `lag` batches behind the one before it, so
    /// the first links deliver each barrier early and their next batches wait for the
    /// alignment.
    pub fn new(links: u32, batches: u64, batch_size: usize, barrier_every: u64, lag: u64) -> Self {
        let every = barrier_every.max(1);
        let streams: Vec<Vec<Item<u64>>> = (0..links)
            .map(|link| {
                let mut items = Vec::new();
                // A late link: batches of the previous checkpoint still in front of it.
                for _ in 0..lag * u64::from(link) {
                    items.push(Item::Batch(batch(batch_size)));
                }
                for b in 1..=batches {
                    items.push(Item::Batch(batch(batch_size)));
                    if b % every == 0 {
                        items.push(Item::Barrier(b / every));
                    }
                }
                items
            })
            .collect();
        let mut queues: Vec<_> = streams.into_iter().map(Vec::into_iter).collect();
        let mut arrivals = Vec::new();
        loop {
            let before = arrivals.len();
            for (link, q) in queues.iter_mut().enumerate() {
                if let Some(item) = q.next() {
                    arrivals.push((link as u32, 0, item));
                }
            }
            if arrivals.len() == before {
                break;
            }
        }
        Arrivals(arrivals)
    }
}

/// An untracked batch of `size` tuples.
fn batch(size: usize) -> Batch<u64> {
    let values: Vec<u64> = (0..size as u64).collect();
    Batch::from_parts(values, vec![0; size])
}

impl InboxDriver {
    /// An empty inbox with `links` open input links.
    pub fn new(links: usize) -> Self {
        let mut inbox = Inbox::new();
        inbox.reopen(links, &[]);
        InboxDriver { inbox }
    }

    /// Pushes every arrival, then drains the inbox as a bolt task does in exactly-once mode:
    /// an arrival of a link that delivered the barrier being aligned waits, and when every
    /// link has delivered it the waiting arrivals go back in front. Returns the batches
    /// taken out (each would be executed and credited back).
    pub fn run(&mut self, arrivals: Arrivals) -> u64 {
        for arrival in arrivals.0 {
            self.inbox.push(arrival);
        }
        let mut executed = 0;
        while let Some((link, gen, item)) = self.inbox.pop() {
            if self.inbox.is_aligned_link(link) {
                self.inbox.hold((link, gen, item));
                continue;
            }
            match item {
                Item::Batch(b) => {
                    executed += 1;
                    std::hint::black_box(b);
                }
                Item::Barrier(id) => self.inbox.barrier(link, id),
                _ => {}
            }
            if self.inbox.alignment_complete() {
                self.inbox.release();
            }
        }
        executed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_driver_delivers_every_tuple() {
        for consumers in [1, 4] {
            let mut d = OutboxDriver::new(consumers, 100, 2);
            assert_eq!(d.emit(10_000), 10_000);
            assert_eq!(
                d.emit(50),
                10_050,
                "a part-full batch goes out with the flush"
            );
        }
    }

    #[test]
    fn the_inbox_driver_aligns_and_takes_every_batch() {
        let mut d = InboxDriver::new(2);
        let arrivals = Arrivals::new(2, 64, 10, 16, 4);
        assert_eq!(
            d.run(arrivals),
            2 * 64 + 4,
            "the late link's lag is batches too"
        );
        assert!(d.inbox.is_empty());
        assert!(d.inbox.alignment.is_none(), "every barrier aligned");
    }
}
