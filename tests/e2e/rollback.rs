//! Exactly-once rollbacks of a spout that cannot be rewound (its `snapshot` keeps no position):
//! it must start its input over, never go on from where it stopped. The run is arranged so that
//! the checkpoint rolled back to always holds the spout before its first emit and the crash
//! always comes after its last one, whatever the scheduling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, Spout, SpoutCollector,
    State, TopologyBuilder,
};

/// Emits nothing until a checkpoint is complete (its `commit`), then all of `0..end` in one
/// call; keeps no position. Counts every emit of every instance.
struct AfterFirstCommit {
    next: u64,
    end: u64,
    committed: bool,
    emits: Arc<Mutex<u64>>,
}

impl Spout for AfterFirstCommit {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        while self.committed && self.next < self.end {
            out.emit(self.next);
            self.next += 1;
            *self.emits.lock().unwrap() += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
    fn commit(&mut self, _: u64) -> Result<(), ComponentError> {
        self.committed = true;
        Ok(())
    }
}

/// Panics on tuple 10 the first time any instance sees it; passes every number on.
struct PanicsOnTenOnce(Arc<AtomicBool>);

impl Bolt for PanicsOnTenOnce {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        if n == 10 && !self.0.swap(true, Ordering::SeqCst) {
            panic!("tuple {n}");
        }
        out.emit(n);
        Ok(())
    }
}

/// Keeps what reaches it as its checkpointed state; publishes it at the end.
struct Kept {
    seen: Vec<u64>,
    output: Arc<Mutex<Option<Vec<u64>>>>,
}

impl Bolt for Kept {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.seen.push(n);
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        *self.output.lock().unwrap() = Some(self.seen.clone());
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.seen)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.seen = state.decode()?;
        Ok(())
    }
}

#[test]
fn a_spout_without_a_position_starts_over_instead_of_losing_what_followed_the_checkpoint() {
    let end = 100;
    let emits = Arc::new(Mutex::new(0));
    let output = Arc::new(Mutex::new(None));
    let mut b = TopologyBuilder::new("unrewindable");
    let e = emits.clone();
    let numbers = b.set_spout("numbers", 1, move || AfterFirstCommit {
        next: 0,
        end,
        committed: false,
        emits: e.clone(),
    });
    let struck = Arc::new(AtomicBool::new(false));
    let s = struck.clone();
    let passed = b
        .set_bolt("fragile", 1, move || PanicsOnTenOnce(s.clone()))
        .shuffle_grouping(&numbers)
        .stream();
    let o = output.clone();
    b.set_bolt("kept", 1, move || Kept {
        seen: Vec::new(),
        output: o.clone(),
    })
    .shuffle_grouping(&passed);
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = Guarantee::ExactlyOnce;
    config.checkpoint_interval = Duration::from_millis(20);
    config.drain_timeout = Duration::from_secs(20);
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    assert!(struck.load(Ordering::SeqCst));
    assert_eq!(report.rollbacks, 1);
    // The checkpoint rolled back to holds `kept` empty: only a spout that starts over gives
    // it every number, and exactly once.
    let mut seen = output.lock().unwrap().clone().expect("kept never finished");
    seen.sort_unstable();
    assert_eq!(seen, (0..end).collect::<Vec<_>>());
    // Everything the first instance emitted went out again.
    let emits = *emits.lock().unwrap();
    assert_eq!(emits, 2 * end);
    assert_eq!(report.component("numbers").unwrap().replayed, emits - end);
}
