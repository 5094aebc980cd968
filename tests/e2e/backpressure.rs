//! Backpressure: an unbounded fast spout feeding a slow bolt stays a bounded number of tuples
//! ahead, and a drain processes everything that was emitted.
//!
//! The bound: each link (producer task to consumer task) holds at most
//! `max_batches_in_flight` batches sent and not yet executed, and the producer holds at most one
//! batch waiting for credit plus its open, partial batch. So per link a producer can be at most
//! `(max_batches_in_flight + 2) * batch_size` tuples ahead of its consumer, and over a chain of
//! `links` links, `links * (max_batches_in_flight + 2) * batch_size`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector,
    TopologyBuilder,
};

const BATCH: usize = 64;
const IN_FLIGHT: usize = 2;
const TARGET: u64 = 20_000;

/// Emits 0, 1, 2... forever, counting each tuple *before* it can leave, so a consumer never
/// sees more executed than emitted.
struct Firehose {
    next: u64,
    emitted: Arc<AtomicU64>,
}

impl Spout for Firehose {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        self.emitted.fetch_add(1, Ordering::SeqCst);
        out.emit(self.next);
        self.next += 1;
        Ok(())
    }
}

struct Relay;

impl Bolt for Relay {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit(n);
        Ok(())
    }
}

/// What the slow bolt observed.
#[derive(Default)]
struct Watch {
    emitted: Arc<AtomicU64>,
    executed: AtomicU64,
    max_lead: AtomicU64,
    /// Sum of the values executed, to check each was executed once.
    sum: AtomicU64,
}

/// Does some busy work per tuple; checks the spout's lead on every tuple and says when it has
/// executed `TARGET` tuples.
struct Slow {
    watch: Arc<Watch>,
    reached: Mutex<Option<SyncSender<()>>>,
}

impl Bolt for Slow {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let mut h = n;
        for i in 0..400u64 {
            h = black_box(h.rotate_left(5) ^ i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        black_box(h);
        let executed = self.watch.executed.fetch_add(1, Ordering::SeqCst) + 1;
        self.watch.sum.fetch_add(n, Ordering::SeqCst);
        let emitted = self.watch.emitted.load(Ordering::SeqCst);
        let lead = emitted
            .checked_sub(executed)
            .ok_or("executed more tuples than were emitted")?;
        self.watch.max_lead.fetch_max(lead, Ordering::SeqCst);
        if executed == TARGET {
            if let Some(tx) = self.reached.lock().map_err(|_| "poisoned")?.take() {
                let _ = tx.send(());
            }
        }
        Ok(())
    }
}

fn config() -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.batch_size = BATCH;
    config.max_batches_in_flight = IN_FLIGHT;
    config
}

/// Runs spout -> (`relays` relay bolts) -> slow bolt until the slow bolt has executed `TARGET`
/// tuples, drains, and checks the lead and the drain.
fn overload(relays: usize) {
    let watch = Arc::new(Watch::default());
    let (tx, rx) = sync_channel(1);
    let tx = Mutex::new(Some(tx));
    let mut b = TopologyBuilder::new("overload");
    let emitted = watch.emitted.clone();
    let mut stream = b.set_spout("firehose", 1, move || Firehose {
        next: 0,
        emitted: emitted.clone(),
    });
    for r in 0..relays {
        stream = b
            .set_bolt(&format!("relay-{r}"), 1, || Relay)
            .shuffle_grouping(&stream)
            .stream();
    }
    let w = watch.clone();
    // Only the one task gets the sender.
    b.set_bolt("slow", 1, move || Slow {
        watch: w.clone(),
        reached: Mutex::new(tx.lock().ok().and_then(|mut t| t.take())),
    })
    .shuffle_grouping(&stream);

    let running = LocalCluster::new(config())
        .spawn(b.build().unwrap())
        .unwrap();
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the slow bolt never reached its target");
    let report = running.shutdown().unwrap();

    let links = (relays + 1) as u64;
    let bound = links * (IN_FLIGHT as u64 + 2) * BATCH as u64;
    let max_lead = watch.max_lead.load(Ordering::SeqCst);
    assert!(
        max_lead <= bound,
        "the spout ran {max_lead} tuples ahead; the bound is {bound}"
    );
    // The spout is much faster than the slow bolt, so it did run ahead: backpressure, not
    // starvation, is what held it.
    assert!(
        max_lead >= BATCH as u64,
        "the spout never got ahead: {max_lead}"
    );

    let emitted = watch.emitted.load(Ordering::SeqCst);
    let executed = watch.executed.load(Ordering::SeqCst);
    assert!(executed >= TARGET);
    assert_eq!(executed, emitted, "the drain left tuples unprocessed");
    assert_eq!(
        watch.sum.load(Ordering::SeqCst),
        emitted * (emitted - 1) / 2,
        "each value once"
    );
    assert_eq!(
        report.component("firehose").map(|c| c.emitted),
        Some(emitted)
    );
    assert_eq!(report.component("slow").map(|c| c.executed), Some(executed));
}

#[test]
fn a_slow_bolt_holds_back_a_fast_spout() {
    overload(0);
}

#[test]
fn backpressure_reaches_the_spout_through_a_relay() {
    overload(1);
}
