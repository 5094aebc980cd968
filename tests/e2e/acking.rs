//! Storm's acking semantics at at-least-once: a spout's `ack` runs only after the whole tuple
//! tree is processed; explicit fails, timeouts and crashes run `fail`; `max_spout_pending`
//! bounds the open trees; multi-anchoring fails every root; a poison tuple ends in the dead
//! letters.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::{
    Anchor, Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, RunReport, Spout,
    SpoutCollector, TopologyBuilder,
};

/// What the spout saw, stamped with a global sequence number.
#[derive(Default)]
struct Log {
    acked: BTreeMap<u64, u64>,
    failed: Vec<u64>,
    max_in_flight: usize,
}

static SEQ: AtomicU64 = AtomicU64::new(1);

fn seq() -> u64 {
    SEQ.fetch_add(1, Ordering::SeqCst)
}

/// Emits 0..end with the number as message id; replays failed numbers if `replay`.
struct Tracked {
    next: u64,
    end: u64,
    replay: bool,
    pending: BTreeSet<u64>,
    again: Vec<u64>,
    log: Arc<Mutex<Log>>,
}

impl Tracked {
    fn factory(
        end: u64,
        replay: bool,
        log: &Arc<Mutex<Log>>,
    ) -> impl Fn() -> Tracked + Send + Sync {
        let log = log.clone();
        move || Tracked {
            next: 0,
            end,
            replay,
            pending: BTreeSet::new(),
            again: Vec::new(),
            log: log.clone(),
        }
    }
}

impl Spout for Tracked {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let n = match self.again.pop() {
            Some(n) => n,
            None if self.next < self.end => {
                self.next += 1;
                self.next - 1
            }
            None => return Ok(()),
        };
        out.emit_with_id(n, n);
        self.pending.insert(n);
        let mut log = self.log.lock().unwrap();
        log.max_in_flight = log.max_in_flight.max(self.pending.len());
        Ok(())
    }
    fn ack(&mut self, n: u64) {
        self.pending.remove(&n);
        self.log.lock().unwrap().acked.insert(n, seq());
    }
    fn fail(&mut self, n: u64) {
        self.pending.remove(&n);
        self.log.lock().unwrap().failed.push(n);
        if self.replay {
            self.again.push(n);
        }
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end && self.pending.is_empty() && self.again.is_empty()
    }
}

/// Emits `fanout` children per number, each (number, child index).
struct Fan(u64);

impl Bolt for Fan {
    type Input = u64;
    type Output = (u64, u64);
    fn execute(
        &mut self,
        n: u64,
        out: &mut BoltCollector<'_, (u64, u64)>,
    ) -> Result<(), ComponentError> {
        for c in 0..self.0 {
            out.emit((n, c));
        }
        Ok(())
    }
}

/// Records when each child of each number was executed.
struct Leaf(Arc<Mutex<BTreeMap<u64, Vec<u64>>>>);

impl Bolt for Leaf {
    type Input = (u64, u64);
    type Output = ();
    fn execute(
        &mut self,
        (n, _): (u64, u64),
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        std::thread::sleep(Duration::from_micros(20));
        self.0.lock().unwrap().entry(n).or_default().push(seq());
        Ok(())
    }
}

fn config() -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = Guarantee::AtLeastOnce;
    config.batch_size = 16;
    config.checkpoint_interval = Duration::from_millis(20);
    config
}

fn run(builder: TopologyBuilder, config: Config) -> RunReport {
    LocalCluster::new(config)
        .run(builder.build().unwrap())
        .unwrap()
}

#[test]
fn a_spout_tuple_is_acked_only_after_its_whole_tree() {
    let log = Arc::new(Mutex::new(Log::default()));
    let leaves = Arc::new(Mutex::new(BTreeMap::new()));
    let mut b = TopologyBuilder::new("tree");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(300, false, &log));
    let children = b
        .set_bolt("fan", 2, || Fan(3))
        .shuffle_grouping(&numbers)
        .stream();
    let l = leaves.clone();
    b.set_bolt("leaf", 2, move || Leaf(l.clone()))
        .shuffle_grouping(&children);
    let report = run(b, config());
    let log = log.lock().unwrap();
    let leaves = leaves.lock().unwrap();
    assert_eq!(log.acked.len(), 300);
    assert!(log.failed.is_empty());
    for (n, acked_at) in &log.acked {
        let executed = &leaves[n];
        assert_eq!(executed.len(), 3);
        assert!(
            executed.iter().all(|t| t < acked_at),
            "tuple {n} acked before its tree ended"
        );
    }
    assert_eq!(report.component("numbers").unwrap().acked, 300);
    assert!(
        report.latency.len() >= 300,
        "completion latency recorded per tree"
    );
}

/// Fails (with `Err`) the numbers in `bad` the first time it sees them; passes the rest on.
struct Picky {
    bad: Vec<u64>,
    seen: Arc<Mutex<BTreeSet<u64>>>,
}

impl Bolt for Picky {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        if self.bad.contains(&n) && self.seen.lock().unwrap().insert(n) {
            return Err(format!("{n} failed once").into());
        }
        out.emit(n);
        Ok(())
    }
}

struct Drop;

impl Bolt for Drop {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[test]
fn an_explicit_fail_replays_the_tuple() {
    let log = Arc::new(Mutex::new(Log::default()));
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let mut b = TopologyBuilder::new("fail");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(200, true, &log));
    let passed = b
        .set_bolt("picky", 2, move || Picky {
            bad: vec![7, 150],
            seen: seen.clone(),
        })
        .shuffle_grouping(&numbers)
        .stream();
    b.set_bolt("drop", 1, || Drop).shuffle_grouping(&passed);
    let report = run(b, config());
    let log = log.lock().unwrap();
    let mut failed = log.failed.clone();
    failed.sort_unstable();
    assert_eq!(failed, vec![7, 150]);
    assert_eq!(log.acked.len(), 200, "every number acked in the end");
    assert_eq!(report.component("numbers").unwrap().replayed, 2);
}

#[test]
fn a_spout_whose_fail_drops_the_tuple_counts_no_replay() {
    let log = Arc::new(Mutex::new(Log::default()));
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let mut b = TopologyBuilder::new("fail-no-replay");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(200, false, &log));
    let passed = b
        .set_bolt("picky", 2, move || Picky {
            bad: vec![7, 150],
            seen: seen.clone(),
        })
        .shuffle_grouping(&numbers)
        .stream();
    b.set_bolt("drop", 1, || Drop).shuffle_grouping(&passed);
    let report = run(b, config());
    let numbers = report.component("numbers").unwrap();
    assert_eq!(numbers.failed, 2);
    assert_eq!(numbers.replayed, 0, "nothing was emitted again");
}

/// Takes the anchor of number 3 and never acks it.
struct Forgetful(Vec<Anchor>);

impl Bolt for Forgetful {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if n == 3 {
            self.0.push(out.anchor());
        }
        Ok(())
    }
}

#[test]
fn a_tree_not_completed_in_time_fails() {
    let log = Arc::new(Mutex::new(Log::default()));
    let mut b = TopologyBuilder::new("timeout");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(50, false, &log));
    b.set_bolt("forgetful", 1, || Forgetful(Vec::new()))
        .shuffle_grouping(&numbers);
    let mut config = config();
    config.message_timeout = Duration::from_millis(100);
    let started = Instant::now();
    run(b, config);
    let log = log.lock().unwrap();
    assert_eq!(log.failed, vec![3]);
    assert_eq!(log.acked.len(), 49);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[test]
fn max_spout_pending_bounds_the_open_trees() {
    let log = Arc::new(Mutex::new(Log::default()));
    let leaves = Arc::new(Mutex::new(BTreeMap::new()));
    let mut b = TopologyBuilder::new("pending");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(500, false, &log));
    let children = b
        .set_bolt("fan", 1, || Fan(2))
        .shuffle_grouping(&numbers)
        .stream();
    let l = leaves.clone();
    b.set_bolt("leaf", 1, move || Leaf(l.clone()))
        .shuffle_grouping(&children);
    let mut config = config();
    config.max_spout_pending = Some(8);
    run(b, config);
    let log = log.lock().unwrap();
    assert_eq!(log.acked.len(), 500);
    assert!(
        log.max_in_flight <= 8,
        "{} trees were open",
        log.max_in_flight
    );
    assert!(log.max_in_flight >= 2, "the cap was never approached");
}

/// Pairs consecutive numbers, emitting each pair anchored to both inputs.
struct Join(Option<(u64, Anchor)>);

impl Bolt for Join {
    type Input = u64;
    type Output = (u64, u64);
    fn execute(
        &mut self,
        n: u64,
        out: &mut BoltCollector<'_, (u64, u64)>,
    ) -> Result<(), ComponentError> {
        let anchor = out.anchor();
        match self.0.take() {
            None => self.0 = Some((n, anchor)),
            Some((m, first)) => {
                let mut both = [first, anchor];
                out.emit_anchored(&mut both, (m, n));
                let [first, second] = both;
                out.ack(first);
                out.ack(second);
            }
        }
        Ok(())
    }
}

/// Fails the pair containing 4 the first time.
struct PairCheck(Arc<AtomicBool>);

impl Bolt for PairCheck {
    type Input = (u64, u64);
    type Output = ();
    fn execute(
        &mut self,
        (a, b): (u64, u64),
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        if (a == 4 || b == 4) && !self.0.swap(true, Ordering::SeqCst) {
            return Err("pair with 4".into());
        }
        Ok(())
    }
}

#[test]
fn a_failed_multi_anchored_tuple_fails_every_root() {
    let log = Arc::new(Mutex::new(Log::default()));
    let mut b = TopologyBuilder::new("join");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(20, false, &log));
    let pairs = b
        .set_bolt("join", 1, || Join(None))
        .global_grouping(&numbers)
        .stream();
    let once = Arc::new(AtomicBool::new(false));
    b.set_bolt("check", 1, move || PairCheck(once.clone()))
        .shuffle_grouping(&pairs);
    run(b, config());
    let log = log.lock().unwrap();
    let mut failed = log.failed.clone();
    failed.sort_unstable();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.contains(&4));
    let partner = if failed[0] == 4 { failed[1] } else { failed[0] };
    assert!(partner == 3 || partner == 5, "{failed:?}");
    assert_eq!(log.acked.len(), 18);
}

/// Always fails number 10.
struct Poison;

impl Bolt for Poison {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if n == 10 {
            return Err("10 is poison".into());
        }
        Ok(())
    }
}

#[test]
fn a_poison_tuple_ends_in_the_dead_letters() {
    let log = Arc::new(Mutex::new(Log::default()));
    let mut b = TopologyBuilder::new("poison");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(30, true, &log));
    b.set_bolt("poison", 1, || Poison)
        .shuffle_grouping(&numbers);
    let mut config = config();
    config.max_tuple_attempts = 3;
    let report = run(b, config);
    let log = log.lock().unwrap();
    assert_eq!(
        log.acked.len(),
        30,
        "the poison tuple is acked once given up on"
    );
    // One failure before the task fingerprints its inputs, then up to the maximum.
    assert_eq!(log.failed.iter().filter(|&&n| n == 10).count(), 3);
    let dead = &report.dead_letters;
    assert_eq!(dead.len(), 1);
    let last = &dead[0];
    assert_eq!(last.attempts, 3);
    assert_eq!(last.error, "10 is poison");
    let payload: u64 = squall::transport::codec::decode(&last.payload).unwrap();
    assert_eq!(payload, 10);
}

/// Panics once, on number 5.
struct Crashy(Arc<AtomicBool>);

impl Bolt for Crashy {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if n == 5 && !self.0.swap(true, Ordering::SeqCst) {
            panic!("crash on 5");
        }
        Ok(())
    }
}

#[test]
fn tuples_in_a_crashed_task_fail_at_once() {
    let log = Arc::new(Mutex::new(Log::default()));
    let mut b = TopologyBuilder::new("crash");
    let numbers = b.set_spout("numbers", 1, Tracked::factory(100, true, &log));
    let once = Arc::new(AtomicBool::new(false));
    b.set_bolt("crashy", 1, move || Crashy(once.clone()))
        .shuffle_grouping(&numbers);
    let mut config = config();
    config.message_timeout = Duration::from_secs(60);
    let started = Instant::now();
    let report = run(b, config);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited for the timeout"
    );
    let log = log.lock().unwrap();
    assert!(log.failed.contains(&5));
    assert_eq!(log.acked.len(), 100);
    assert_eq!(report.restarts(), 1);
}
