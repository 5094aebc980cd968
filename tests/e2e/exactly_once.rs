//! Checkpoints and recovery on an engine-level topology: a rewindable spout, a keyed
//! stateful bolt and a stateful sink, under injected panics, checked against sums computed
//! sequentially in the test. Exactly once gives the failure-free result, at least once never
//! less, at most once never more.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, Chaos, ComponentError, Config, Guarantee, LocalCluster, RunReport, Spout,
    SpoutCollector, State, StateBackend, Supervision, TaskContext, TopologyBuilder,
};

const KEYS: u64 = 13;

/// Emits this task's share of `0..end` (every `tasks`-th number); rewinds to a snapshot
/// (exactly once) or replays failed numbers (at least once: the number is its message id).
struct Numbers {
    next: u64,
    step: u64,
    end: u64,
    pending: BTreeSet<u64>,
    replay: Vec<u64>,
    /// Every number any instance of this spout emitted, and how many emits repeated one: the
    /// ground truth for the run's `replayed` counter.
    seen: Arc<Mutex<(BTreeSet<u64>, u64)>>,
}

impl Numbers {
    fn emit(&mut self, n: u64, out: &mut SpoutCollector<'_, u64>) {
        out.emit_with_id(n, n);
        self.pending.insert(n);
        let mut seen = self.seen.lock().unwrap();
        if !seen.0.insert(n) {
            seen.1 += 1;
        }
    }
}

impl Spout for Numbers {
    type Output = u64;
    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.next = ctx.task_index() as u64;
        self.step = ctx.component_tasks() as u64;
        Ok(())
    }
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        if let Some(n) = self.replay.pop() {
            self.emit(n, out);
            return Ok(());
        }
        for _ in 0..64 {
            if self.next >= self.end {
                break;
            }
            self.emit(self.next, out);
            self.next += self.step;
        }
        Ok(())
    }
    fn ack(&mut self, n: u64) {
        self.pending.remove(&n);
    }
    fn fail(&mut self, n: u64) {
        if self.pending.remove(&n) {
            self.replay.push(n);
        }
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end && self.replay.is_empty() && self.pending.is_empty()
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.next)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.next = state.decode()?;
        Ok(())
    }
}

/// Keyed state: the sum of the numbers of each key; emits the sums at the end.
#[derive(Default)]
struct Sum(BTreeMap<u64, u64>);

impl Bolt for Sum {
    type Input = u64;
    type Output = (u64, u64);
    fn execute(
        &mut self,
        n: u64,
        _: &mut BoltCollector<'_, (u64, u64)>,
    ) -> Result<(), ComponentError> {
        *self.0.entry(n % KEYS).or_default() += n;
        Ok(())
    }
    fn finish(&mut self, out: &mut BoltCollector<'_, (u64, u64)>) -> Result<(), ComponentError> {
        std::mem::take(&mut self.0)
            .into_iter()
            .for_each(|kv| out.emit(kv));
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.0)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.0 = state.decode()?;
        Ok(())
    }
}

/// Adds up the sums it receives and publishes them at the end.
struct Totals {
    sums: BTreeMap<u64, u64>,
    output: Arc<Mutex<BTreeMap<u64, u64>>>,
}

impl Bolt for Totals {
    type Input = (u64, u64);
    type Output = ();
    fn execute(
        &mut self,
        (k, s): (u64, u64),
        _: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        *self.sums.entry(k).or_default() += s;
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        *self.output.lock().unwrap() = self.sums.clone();
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.sums)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.sums = state.decode()?;
        Ok(())
    }
}

fn oracle(end: u64) -> BTreeMap<u64, u64> {
    let mut sums = BTreeMap::new();
    for n in 0..end {
        *sums.entry(n % KEYS).or_default() += n;
    }
    sums
}

fn run(
    end: u64,
    parallelism: usize,
    guarantee: Guarantee,
    chaos: f64,
    backend: StateBackend,
) -> (BTreeMap<u64, u64>, RunReport, u64) {
    let output = Arc::new(Mutex::new(BTreeMap::new()));
    let seen = Arc::new(Mutex::new((BTreeSet::new(), 0)));
    let spout_seen = seen.clone();
    let mut b = TopologyBuilder::new("sums");
    let numbers = b.set_spout("numbers", parallelism, move || Numbers {
        next: 0,
        step: 1,
        end,
        pending: BTreeSet::new(),
        replay: Vec::new(),
        seen: spout_seen.clone(),
    });
    let sums = b
        .set_bolt("sum", parallelism, Sum::default)
        .fields_grouping(&numbers, |n: &u64| n % KEYS)
        .stream();
    let out = output.clone();
    b.set_bolt("totals", 1, move || Totals {
        sums: BTreeMap::new(),
        output: out.clone(),
    })
    .global_grouping(&sums);
    let mut config = Config::default();
    config.workers = 2;
    config.batch_size = 256;
    config.guarantee = guarantee;
    config.checkpoint_interval = Duration::from_millis(5);
    config.state_backend = backend;
    if chaos > 0.0 {
        config.chaos = Some(Chaos {
            panic_rate: chaos,
            seed: 7,
        });
        config.supervision = Supervision::for_chaos();
    }
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    let result = output.lock().unwrap().clone();
    let reemits = seen.lock().unwrap().1;
    (result, report, reemits)
}

#[test]
fn without_failures_every_mode_is_exact() {
    let end = 100_000;
    for guarantee in [
        Guarantee::AtMostOnce,
        Guarantee::AtLeastOnce,
        Guarantee::ExactlyOnce,
    ] {
        let (sums, report, _) = run(end, 3, guarantee, 0.0, StateBackend::Memory);
        assert_eq!(sums, oracle(end), "{guarantee:?}");
        assert_eq!(report.restarts(), 0);
        if guarantee != Guarantee::AtMostOnce {
            assert!(
                report.checkpoints > 0,
                "{guarantee:?}: no checkpoint completed"
            );
        }
    }
}

#[test]
fn exactly_once_under_chaos_equals_the_oracle() {
    // Failures far apart against the queues (a few thousand tuples) and close together.
    let end = 100_000;
    for (parallelism, rate) in [(1, 0.0001), (3, 0.0002), (2, 0.001)] {
        let (sums, report, _) = run(
            end,
            parallelism,
            Guarantee::ExactlyOnce,
            rate,
            StateBackend::Memory,
        );
        assert!(
            report.restarts() > 0,
            "p={parallelism} rate={rate}: chaos never struck"
        );
        assert!(report.rollbacks > 0);
        assert_eq!(sums, oracle(end), "p={parallelism} rate={rate}");
    }
}

#[test]
fn exactly_once_with_the_directory_backend() {
    let dir = tempfile::tempdir().unwrap();
    let backend = StateBackend::Directory(dir.path().to_path_buf());
    let (sums, report, _) = run(100_000, 2, Guarantee::ExactlyOnce, 0.0002, backend);
    assert_eq!(sums, oracle(100_000));
    assert!(report.checkpoints > 0);
    let marker = std::fs::read_dir(dir.path().join("sums"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.path().join("_COMPLETE").is_file());
    assert!(marker, "no complete checkpoint on disk");
}

#[test]
fn at_least_once_is_never_below_and_at_most_once_never_above() {
    let end = 100_000;
    let exact = oracle(end);
    for parallelism in [1, 3] {
        let (sums, report, _) = run(
            end,
            parallelism,
            Guarantee::AtLeastOnce,
            0.002,
            StateBackend::Memory,
        );
        assert!(report.restarts() > 0);
        for (k, v) in &exact {
            assert!(
                sums.get(k).copied().unwrap_or(0) >= *v,
                "at least once lost from key {k}"
            );
        }
        let (sums, report, _) = run(
            end,
            parallelism,
            Guarantee::AtMostOnce,
            0.002,
            StateBackend::Memory,
        );
        assert!(report.restarts() > 0);
        for (k, v) in &sums {
            assert!(*v <= exact[k], "at most once added to key {k}");
        }
    }
}

#[test]
fn replayed_counts_the_tuples_the_spout_emitted_again() {
    for guarantee in [Guarantee::ExactlyOnce, Guarantee::AtLeastOnce] {
        let (_, report, reemits) = run(50_000, 2, guarantee, 0.001, StateBackend::Memory);
        assert!(report.restarts() > 0, "{guarantee:?}: chaos never struck");
        assert!(reemits > 0, "{guarantee:?}: nothing was emitted again");
        assert_eq!(
            report.component("numbers").unwrap().replayed,
            reemits,
            "{guarantee:?}"
        );
    }
}
