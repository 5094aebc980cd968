//! At-least-once, a crash fails only the trees its task lost: a topology of two independent
//! branches, one of which panics, never replays the other's trees.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Anchor, Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, MessageId, Spout,
    SpoutCollector, TaskContext, TopologyBuilder,
};

/// Events the branches signal each other with, so the crash happens while the calm branch has
/// a tree open, whatever the timing.
#[derive(Default)]
struct Flags {
    /// The calm bolt holds tree 0 of its branch open.
    calm_open: AtomicBool,
    /// The crashed bolt was restarted.
    restarted: AtomicBool,
}

/// Emits `0..end` with the number as message id once `go` says so, replaying failed ones;
/// records what failed.
struct Numbers {
    next: u64,
    end: u64,
    gate: Arc<dyn Fn(u64) -> bool + Send + Sync>,
    again: Vec<u64>,
    open: usize,
    failed: Arc<Mutex<Vec<u64>>>,
}

impl Spout for Numbers {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let n = match self.again.pop() {
            Some(n) => n,
            None if self.next < self.end && (self.gate)(self.next) => {
                self.next += 1;
                self.next - 1
            }
            None => return Ok(()),
        };
        self.open += 1;
        out.emit_with_id(n, n);
        Ok(())
    }
    fn ack(&mut self, _: MessageId) {
        self.open -= 1;
    }
    fn fail(&mut self, n: MessageId) {
        self.open -= 1;
        self.failed.lock().unwrap().push(n);
        self.again.push(n);
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end && self.open == 0 && self.again.is_empty()
    }
}

/// Panics on 5 the first time; says when it was restarted.
struct Crashy(Arc<Flags>, Arc<AtomicBool>);

impl Bolt for Crashy {
    type Input = u64;
    type Output = ();
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        if ctx.restarts() > 0 {
            self.0.restarted.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if n == 5 && !self.1.swap(true, Ordering::SeqCst) {
            panic!("crash on 5");
        }
        Ok(())
    }
}

/// Holds tree 0 open until it sees 1 (which its spout emits only after the other branch's
/// restart), then acks both.
struct Calm(Arc<Flags>, Option<Anchor>);

impl Bolt for Calm {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if n == 0 {
            self.1 = Some(out.anchor());
            self.0.calm_open.store(true, Ordering::SeqCst);
        } else if let Some(first) = self.1.take() {
            out.ack(first);
        }
        Ok(())
    }
}

#[test]
fn a_crash_in_one_branch_never_replays_the_others_trees() {
    let flags = Arc::new(Flags::default());
    let crashy_failed = Arc::new(Mutex::new(Vec::new()));
    let calm_failed = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("branches");
    let (f, failed) = (flags.clone(), crashy_failed.clone());
    // The crashing branch starts once the calm one holds a tree open.
    let crashing = b.set_spout("crashing", 1, move || Numbers {
        next: 0,
        end: 20,
        gate: {
            let f = f.clone();
            Arc::new(move |_| f.calm_open.load(Ordering::SeqCst))
        },
        again: Vec::new(),
        open: 0,
        failed: failed.clone(),
    });
    let (f, failed) = (flags.clone(), calm_failed.clone());
    // The calm branch emits 0 at once and the rest after the restart.
    let calm = b.set_spout("calm", 1, move || Numbers {
        next: 0,
        end: 10,
        gate: {
            let f = f.clone();
            Arc::new(move |n| n == 0 || f.restarted.load(Ordering::SeqCst))
        },
        again: Vec::new(),
        open: 0,
        failed: failed.clone(),
    });
    let (f, once) = (flags.clone(), Arc::new(AtomicBool::new(false)));
    b.set_bolt("crashy", 1, move || Crashy(f.clone(), once.clone()))
        .shuffle_grouping(&crashing);
    let f = flags.clone();
    b.set_bolt("calm-bolt", 1, move || Calm(f.clone(), None))
        .shuffle_grouping(&calm);
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = Guarantee::AtLeastOnce;
    config.batch_size = 4;
    config.checkpoint_interval = Duration::from_millis(20);
    // Only a crash, never a timeout, may fail a tree here.
    config.message_timeout = Duration::from_secs(60);
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    assert_eq!(report.restarts(), 1);
    assert!(flags.restarted.load(Ordering::SeqCst));
    assert_eq!(
        *calm_failed.lock().unwrap(),
        Vec::<u64>::new(),
        "the calm branch's trees were failed by the other branch's crash"
    );
    assert_eq!(
        *crashy_failed.lock().unwrap(),
        [5],
        "only the tree being executed in the crashed task fails"
    );
}
