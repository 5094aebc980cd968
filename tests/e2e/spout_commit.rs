//! The spout's checkpoint hooks under exactly-once: `snapshot_for(id)` at each barrier,
//! `commit(id)` only once checkpoint `id` is complete in every task (after the bolt's snapshot
//! for it), in increasing order, and, when the spout finishes or is drained, a commit covering
//! its last emit before `close`. Checked from a log every hook call writes to.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, Chaos, ComponentError, Config, Guarantee, LocalCluster, Spout,
    SpoutCollector, State, Supervision, TopologyBuilder,
};

/// What a hook call wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    /// The spout's snapshot for a checkpoint, with the numbers emitted before it.
    Snapshot {
        checkpoint: u64,
        emitted: u64,
    },
    Commit(u64),
    Restore(u64),
    Open,
    Close,
    /// The bolt's snapshot, with the numbers executed before it.
    BoltSnapshot(u64),
}

type Log = Arc<Mutex<Vec<Hook>>>;

/// Emits `0..end`, a few per call, and logs its checkpoint hooks.
struct Numbers {
    next: u64,
    end: u64,
    log: Log,
}

impl Spout for Numbers {
    type Output = u64;
    fn open(&mut self, _: &squall::TaskContext) -> Result<(), ComponentError> {
        self.log.lock().unwrap().push(Hook::Open);
        Ok(())
    }
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        for _ in 0..8 {
            if self.next < self.end {
                out.emit(self.next);
                self.next += 1;
            }
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.next)?))
    }
    fn snapshot_for(&mut self, checkpoint: u64) -> Result<Option<State>, ComponentError> {
        self.log.lock().unwrap().push(Hook::Snapshot {
            checkpoint,
            emitted: self.next,
        });
        self.snapshot()
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.next = state.decode()?;
        self.log.lock().unwrap().push(Hook::Restore(self.next));
        Ok(())
    }
    fn commit(&mut self, checkpoint: u64) -> Result<(), ComponentError> {
        self.log.lock().unwrap().push(Hook::Commit(checkpoint));
        Ok(())
    }
    fn close(&mut self) {
        self.log.lock().unwrap().push(Hook::Close);
    }
}

/// Counts and sums what it executes (its state), publishes the sum at the end.
struct Sum {
    executed: u64,
    sum: u64,
    log: Log,
    output: Arc<Mutex<Option<u64>>>,
}

impl Bolt for Sum {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.executed += 1;
        self.sum += n;
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        *self.output.lock().unwrap() = Some(self.sum);
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        self.log
            .lock()
            .unwrap()
            .push(Hook::BoltSnapshot(self.executed));
        Ok(Some(State::encode(&(self.executed, self.sum))?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        (self.executed, self.sum) = state.decode()?;
        Ok(())
    }
}

fn config(chaos: f64) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = Guarantee::ExactlyOnce;
    config.checkpoint_interval = Duration::from_millis(5);
    if chaos > 0.0 {
        config.chaos = Some(Chaos {
            panic_rate: chaos,
            seed: 11,
        });
        config.supervision = Supervision::for_chaos();
    }
    config
}

/// A spout of `0..end` into one summing task; returns the hook log and the sum.
fn topology(end: u64, log: &Log, output: &Arc<Mutex<Option<u64>>>) -> squall::Topology {
    let mut b = TopologyBuilder::new("spout-commit");
    let l = log.clone();
    let numbers = b.set_spout("numbers", 1, move || Numbers {
        next: 0,
        end,
        log: l.clone(),
    });
    let (l, o) = (log.clone(), output.clone());
    b.set_bolt("sum", 1, move || Sum {
        executed: 0,
        sum: 0,
        log: l.clone(),
        output: o.clone(),
    })
    .shuffle_grouping(&numbers);
    b.build().unwrap()
}

/// Checks what holds with and without failures; returns the spout's snapshots by id.
fn check_order(log: &[Hook]) -> BTreeMap<u64, u64> {
    let mut snapshots = BTreeMap::new();
    let mut last_commit = 0;
    let mut closed = false;
    for (i, hook) in log.iter().enumerate() {
        assert!(
            !closed || matches!(hook, Hook::BoltSnapshot(_) | Hook::Open),
            "{hook:?} after close (at {i})"
        );
        match *hook {
            Hook::Snapshot {
                checkpoint,
                emitted,
            } => {
                snapshots.insert(checkpoint, emitted);
            }
            Hook::Commit(c) => {
                assert!(c > last_commit, "commit {c} after commit {last_commit}");
                assert!(
                    snapshots.contains_key(&c),
                    "commit {c} before (or without) the snapshot for it"
                );
                last_commit = c;
            }
            Hook::Close => closed = true,
            // A rollback may revive a closed spout as a new instance.
            Hook::Open => closed = false,
            Hook::Restore(_) | Hook::BoltSnapshot(_) => {}
        }
    }
    assert!(closed, "the spout was never closed");
    snapshots
}

/// The last commit before close covers every emit: its snapshot saw `end` numbers emitted.
fn assert_sealed(log: &[Hook], snapshots: &BTreeMap<u64, u64>, end: u64) {
    let close = log.iter().rposition(|h| *h == Hook::Close).unwrap();
    let last = log[..close]
        .iter()
        .rev()
        .find_map(|h| match h {
            Hook::Commit(c) => Some(*c),
            _ => None,
        })
        .expect("a commit before close");
    assert_eq!(snapshots[&last], end, "the last commit misses emits");
}

#[test]
fn commits_follow_completed_checkpoints_in_order_and_cover_the_last_emit_before_close() {
    let end = 300_000;
    let (log, output) = (Log::default(), Arc::new(Mutex::new(None)));
    let report = LocalCluster::new(config(0.0))
        .run(topology(end, &log, &output))
        .unwrap();
    assert_eq!(*output.lock().unwrap(), Some(end * (end - 1) / 2));
    let log = log.lock().unwrap().clone();
    let snapshots = check_order(&log);
    assert!(
        report.checkpoints > 1,
        "too few checkpoints to test commits"
    );
    // Without failures every checkpoint passes the bolt: its k-th snapshot is checkpoint k's,
    // taken after exactly the numbers the spout emitted before its own (barrier alignment),
    // and it comes before the spout's commit of k (the checkpoint completes only then).
    let mut bolt = Vec::new();
    for hook in &log {
        match *hook {
            Hook::BoltSnapshot(executed) => bolt.push(executed),
            Hook::Commit(c) => {
                assert!(
                    bolt.len() as u64 >= c,
                    "commit {c} before the bolt's snapshot for it"
                );
                assert_eq!(bolt[c as usize - 1], snapshots[&c], "checkpoint {c}");
            }
            _ => {}
        }
    }
    assert_sealed(&log, &snapshots, end);
}

#[test]
fn a_drained_spout_is_committed_up_to_its_last_emit_before_close() {
    let (log, output) = (Log::default(), Arc::new(Mutex::new(None)));
    LocalCluster::new(config(0.0))
        .run_for(
            topology(u64::MAX, &log, &output),
            Duration::from_millis(300),
        )
        .unwrap();
    let log = log.lock().unwrap().clone();
    let snapshots = check_order(&log);
    let emitted = *snapshots.values().max().unwrap();
    assert!(emitted > 0);
    assert_sealed(&log, &snapshots, emitted);
    // The bolt saw exactly what the final commit covers.
    let n = emitted;
    assert_eq!(*output.lock().unwrap(), Some(n * (n - 1) / 2));
}

#[test]
fn under_failures_commits_stay_in_order_and_restores_go_to_committed_checkpoints() {
    let end = 300_000;
    let (log, output) = (Log::default(), Arc::new(Mutex::new(None)));
    let report = LocalCluster::new(config(0.002))
        .run(topology(end, &log, &output))
        .unwrap();
    assert!(report.rollbacks > 0, "chaos never struck");
    assert_eq!(*output.lock().unwrap(), Some(end * (end - 1) / 2));
    let log = log.lock().unwrap().clone();
    let snapshots = check_order(&log);
    // A rollback restores the last complete checkpoint: one the spout was told of (its
    // commit came first), or the start.
    let mut committed = vec![0];
    for hook in &log {
        match *hook {
            Hook::Commit(c) => committed.push(snapshots[&c]),
            Hook::Restore(at) => assert_eq!(
                Some(&at),
                committed.last(),
                "restored a position never committed"
            ),
            _ => {}
        }
    }
    assert_sealed(&log, &snapshots, end);
}

/// Emits `0..end` but holds at most `window` uncommitted numbers, as a broker holds messages
/// back when its window of unacknowledged ones is full; says so in `awaits_commit`.
struct Windowed {
    next: u64,
    end: u64,
    window: u64,
    committed: u64,
    marks: BTreeMap<u64, u64>,
}

impl Spout for Windowed {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        while self.next < self.end && self.next - self.committed < self.window {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
    fn snapshot_for(&mut self, checkpoint: u64) -> Result<Option<State>, ComponentError> {
        self.marks.insert(checkpoint, self.next);
        Ok(Some(State::encode(&self.next)?))
    }
    fn commit(&mut self, checkpoint: u64) -> Result<(), ComponentError> {
        if let Some(&at) = self
            .marks
            .range(..=checkpoint)
            .next_back()
            .map(|(_, at)| at)
        {
            self.committed = at;
        }
        self.marks.retain(|&c, _| c > checkpoint);
        Ok(())
    }
    fn awaits_commit(&self) -> bool {
        self.next - self.committed >= self.window
    }
}

#[test]
fn a_spout_held_back_by_uncommitted_emits_gets_checkpoints_without_waiting_for_the_interval() {
    let (end, window) = (5_000, 100);
    let output = Arc::new(Mutex::new(None));
    let mut b = TopologyBuilder::new("windowed");
    let numbers = b.set_spout("numbers", 1, move || Windowed {
        next: 0,
        end,
        window,
        committed: 0,
        marks: BTreeMap::new(),
    });
    let o = output.clone();
    b.set_bolt("sum", 1, move || Sum {
        executed: 0,
        sum: 0,
        log: Log::default(),
        output: o.clone(),
    })
    .shuffle_grouping(&numbers);
    let mut config = config(0.0);
    // Fifty windows at one per interval would take almost an hour.
    config.checkpoint_interval = Duration::from_secs(60);
    let topology = b.build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(LocalCluster::new(config).run(topology));
    });
    let report = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the spout waited for the checkpoint interval")
        .unwrap();
    assert!(report.checkpoints >= end / window);
    assert_eq!(*output.lock().unwrap(), Some(end * (end - 1) / 2));
}
