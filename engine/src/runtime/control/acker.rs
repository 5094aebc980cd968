//! Acker tasks: Storm's XOR ledger of tuple trees (at-least-once).
//!
//! A spout emitting with a message id opens a tree under a random 64-bit root id and tells the
//! acker (`root % ackers`) the XOR of the edge ids of the tuples it sent. Every tuple executed
//! sends the XOR of its own edge id and the edge ids of the tuples anchored to it. Every edge
//! id enters the ledger exactly twice, so the root's value returns to 0 exactly when the whole
//! tree is processed (up to a 2^-64 chance of an early zero); the spout task that opened it is
//! then told, and runs `ack(msg_id)`. A fail, or a tree older than the message timeout, runs
//! `fail(msg_id)` instead.
//!
//! Ack traffic is bounded by the tuples executed: bolts send one message per executed batch
//! (ops merged by root), so an acker's mailbox holds at most a few messages per bolt task.

use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Message, Recipient};
use rustc_hash::FxHashMap;

/// One change to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckOp {
    /// A spout task (by its index among the topology's spout tasks) opened tree `root`.
    Init { root: u64, xor: u64, spout: u32 },
    /// XOR `xor` into tree `root`.
    Ack { root: u64, xor: u64 },
    /// Tree `root` failed.
    Fail { root: u64 },
}

impl AckOp {
    pub(crate) fn root(&self) -> u64 {
        match *self {
            AckOp::Init { root, .. } | AckOp::Ack { root, .. } | AckOp::Fail { root } => root,
        }
    }
}

/// Ops for one acker.
pub(crate) struct AckOps(pub Vec<AckOp>);

impl Message for AckOps {
    type Result = ();
}

/// To a spout task: trees that completed or failed.
#[derive(Debug, Default)]
pub(crate) struct TreeDone {
    pub completed: Vec<u64>,
    pub failed: Vec<u64>,
}

impl Message for TreeDone {
    type Result = ();
}

/// The spout tasks' addresses, sent once after they started.
pub(crate) struct SpoutTable(pub Vec<Recipient<TreeDone>>);

impl Message for SpoutTable {
    type Result = ();
}

struct Entry {
    xor: u64,
    /// Known once the spout's `Init` arrived (acks may come first).
    spout: Option<u32>,
    failed: bool,
    since: Instant,
}

/// The XOR ledger itself, apart from the actor, for testing.
#[derive(Default)]
pub(crate) struct Ledger {
    entries: FxHashMap<u64, Entry>,
}

/// What an op decided: tree `root` of spout `spout` completed (`true`) or failed.
pub(crate) type Outcome = (u32, u64, bool);

impl Ledger {
    pub(crate) fn apply(&mut self, op: AckOp, now: Instant) -> Option<Outcome> {
        let root = op.root();
        let entry = self.entries.entry(root).or_insert(Entry {
            xor: 0,
            spout: None,
            failed: false,
            since: now,
        });
        match op {
            AckOp::Init { xor, spout, .. } => {
                entry.xor ^= xor;
                entry.spout = Some(spout);
            }
            AckOp::Ack { xor, .. } => entry.xor ^= xor,
            AckOp::Fail { .. } => entry.failed = true,
        }
        let spout = entry.spout?;
        if entry.failed || entry.xor == 0 {
            let ok = !entry.failed;
            self.entries.remove(&root);
            return Some((spout, root, ok));
        }
        None
    }

    /// Removes trees older than `timeout`: those with a known spout fail.
    pub(crate) fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<Outcome> {
        let mut out = Vec::new();
        self.entries.retain(|&root, e| {
            let keep = now.saturating_duration_since(e.since) < timeout;
            if !keep {
                if let Some(spout) = e.spout {
                    out.push((spout, root, false));
                }
            }
            keep
        });
        out
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// One acker task.
pub(crate) struct Acker {
    ledger: Ledger,
    spouts: Vec<Recipient<TreeDone>>,
    /// Outcomes for spout tasks not in the table yet: the spouts start emitting while the
    /// table is on its way, and a tree decided before it arrives must still reach its spout
    /// (it has left the ledger, so nothing would ever tell the spout again).
    undelivered: Vec<Outcome>,
    timeout: Duration,
}

impl Acker {
    pub(crate) fn new(timeout: Duration) -> Self {
        Acker {
            ledger: Ledger::default(),
            spouts: Vec::new(),
            undelivered: Vec::new(),
            timeout,
        }
    }

    fn tell(&mut self, outcomes: Vec<Outcome>) {
        let mut per_spout: FxHashMap<u32, TreeDone> = FxHashMap::default();
        for (spout, root, ok) in outcomes {
            if spout as usize >= self.spouts.len() {
                self.undelivered.push((spout, root, ok));
                continue;
            }
            let done = per_spout.entry(spout).or_default();
            if ok {
                done.completed.push(root);
            } else {
                done.failed.push(root);
            }
        }
        for (spout, done) in per_spout {
            if let Some(r) = self.spouts.get(spout as usize) {
                r.do_send(done);
            }
        }
    }
}

impl Actor for Acker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // A tree times out between one and 1.5 timeouts after its first op.
        let sweep = (self.timeout / 2).max(Duration::from_millis(1));
        ctx.run_interval(sweep, |acker, _| {
            let expired = acker.ledger.expire(Instant::now(), acker.timeout);
            acker.tell(expired);
        });
    }
}

impl Handler<AckOps> for Acker {
    type Result = ();

    fn handle(&mut self, ops: AckOps, _: &mut Context<Self>) {
        let now = Instant::now();
        let outcomes: Vec<Outcome> = ops
            .0
            .into_iter()
            .filter_map(|op| self.ledger.apply(op, now))
            .collect();
        if !outcomes.is_empty() {
            self.tell(outcomes);
        }
    }
}

impl Handler<SpoutTable> for Acker {
    type Result = ();

    fn handle(&mut self, table: SpoutTable, _: &mut Context<Self>) {
        self.spouts = table.0;
        let early = std::mem::take(&mut self.undelivered);
        self.tell(early);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_completes_only_when_every_edge_is_acked() {
        let now = Instant::now();
        let mut l = Ledger::default();
        // Spout emits two tuples (edges 5 and 9); the first has a child (edge 12).
        assert_eq!(
            l.apply(
                AckOp::Init {
                    root: 1,
                    xor: 5 ^ 9,
                    spout: 0
                },
                now
            ),
            None
        );
        assert_eq!(
            l.apply(
                AckOp::Ack {
                    root: 1,
                    xor: 5 ^ 12
                },
                now
            ),
            None
        );
        assert_eq!(l.apply(AckOp::Ack { root: 1, xor: 12 }, now), None);
        assert_eq!(
            l.apply(AckOp::Ack { root: 1, xor: 9 }, now),
            Some((0, 1, true))
        );
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn acks_may_overtake_the_init_and_fails_win() {
        let now = Instant::now();
        let mut l = Ledger::default();
        assert_eq!(l.apply(AckOp::Ack { root: 2, xor: 7 }, now), None);
        assert_eq!(
            l.apply(
                AckOp::Init {
                    root: 2,
                    xor: 7,
                    spout: 3
                },
                now
            ),
            Some((3, 2, true))
        );
        assert_eq!(l.apply(AckOp::Fail { root: 4 }, now), None);
        assert_eq!(
            l.apply(
                AckOp::Init {
                    root: 4,
                    xor: 1,
                    spout: 1
                },
                now
            ),
            Some((1, 4, false))
        );
    }

    /// Collects what an acker tells a spout task.
    struct Spout(crossbeam_channel::Sender<TreeDone>);

    impl Actor for Spout {
        type Context = Context<Self>;
    }

    impl Handler<TreeDone> for Spout {
        type Result = ();
        fn handle(&mut self, done: TreeDone, _: &mut Context<Self>) {
            let _ = self.0.send(done);
            actix::System::current().stop();
        }
    }

    #[test]
    fn a_tree_decided_before_the_spout_table_arrives_still_reaches_its_spout() {
        let (tx, rx) = crossbeam_channel::unbounded();
        // The system runs on its own thread, so that a lost outcome fails the test below
        // instead of blocking it.
        std::thread::spawn(move || {
            let system = actix::System::new();
            system.block_on(async move {
                let acker = Acker::new(Duration::from_secs(30)).start();
                // The spout opened trees 1 and 2 and a bolt failed 1, completed 2, all before
                // the launcher got to send the table.
                acker.do_send(AckOps(vec![
                    AckOp::Init {
                        root: 1,
                        xor: 5,
                        spout: 0,
                    },
                    AckOp::Fail { root: 1 },
                    AckOp::Init {
                        root: 2,
                        xor: 6,
                        spout: 0,
                    },
                    AckOp::Ack { root: 2, xor: 6 },
                ]));
                let spout = Spout(tx).start();
                acker.do_send(SpoutTable(vec![spout.recipient()]));
            });
            system.run()
        });
        let done = rx.recv_timeout(Duration::from_secs(10)).expect("told");
        assert_eq!(done.failed, [1]);
        assert_eq!(done.completed, [2]);
    }

    #[test]
    fn old_trees_time_out() {
        let t0 = Instant::now();
        let mut l = Ledger::default();
        l.apply(
            AckOp::Init {
                root: 8,
                xor: 3,
                spout: 2,
            },
            t0,
        );
        l.apply(AckOp::Ack { root: 9, xor: 3 }, t0);
        assert!(l
            .expire(t0 + Duration::from_millis(5), Duration::from_millis(10))
            .is_empty());
        let expired = l.expire(t0 + Duration::from_millis(20), Duration::from_millis(10));
        assert_eq!(expired, vec![(2, 8, false)]);
        assert_eq!(l.len(), 0, "an orphan ack is swept too");
    }
}
