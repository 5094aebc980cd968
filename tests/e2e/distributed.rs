//! One topology split over several parts, as separate processes run it, joined here by an
//! in-memory fabric (the JetStream fabric is tested in the cluster crate): the result equals a
//! sequential computation whatever the placement, and a run whose parts are all replaced
//! mid-run (a new incarnation, as when a worker dies) resumes from the last checkpoint with
//! the exact result, also under injected panics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crossbeam_channel::{unbounded, Sender};
use squall::distributed::{start_part, CheckpointStore, Fabric, Part, PartSpec, Route};
use squall::{
    Bolt, BoltCollector, Chaos, ComponentError, Config, Counter, Guarantee, RunReport, Spout,
    SpoutCollector, State, Supervision, TaskContext, Topology, TopologyBuilder,
};

const KEYS: u64 = 7;

/// This task's share of `0..end`, a few per poll, rewindable.
pub(crate) struct Numbers {
    pub(crate) next: u64,
    pub(crate) step: u64,
    pub(crate) end: u64,
    /// Pause per poll, so a run lasts long enough to be interrupted.
    pub(crate) pause: Duration,
    /// Emits by every instance in every part and incarnation.
    pub(crate) emits: Arc<AtomicU64>,
}

impl Spout for Numbers {
    type Output = u64;
    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.next = ctx.task_index() as u64;
        self.step = ctx.component_tasks() as u64;
        Ok(())
    }
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        for _ in 0..50 {
            if self.next >= self.end {
                break;
            }
            out.emit(self.next);
            self.emits.fetch_add(1, Ordering::Relaxed);
            self.next += self.step;
        }
        if !self.pause.is_zero() {
            std::thread::sleep(self.pause);
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.next)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.next = state.decode()?;
        Ok(())
    }
}

/// Per-key sums, emitted at the end; counts what it added in counter `summed`.
#[derive(Default)]
struct Sum(BTreeMap<u64, u64>, Counter);

impl Bolt for Sum {
    type Input = u64;
    type Output = (u64, u64);
    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.1 = ctx.counter("summed");
        Ok(())
    }
    fn execute(
        &mut self,
        n: u64,
        _: &mut BoltCollector<'_, (u64, u64)>,
    ) -> Result<(), ComponentError> {
        *self.0.entry(n % KEYS).or_default() += n;
        self.1.add(1);
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

/// Adds up the sums and publishes them at the end.
struct Totals {
    sums: BTreeMap<u64, u64>,
    output: Arc<Mutex<Option<BTreeMap<u64, u64>>>>,
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
        *self.output.lock().unwrap() = Some(self.sums.clone());
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

/// Every process builds the same topology; each part's `Totals` writes to `output`.
fn topology(
    end: u64,
    pause: Duration,
    output: &Arc<Mutex<Option<BTreeMap<u64, u64>>>>,
    emits: &Arc<AtomicU64>,
) -> Topology {
    let mut b = TopologyBuilder::new("sums");
    let emits = emits.clone();
    let numbers = b.set_spout("numbers", 2, move || Numbers {
        next: 0,
        step: 1,
        end,
        pause,
        emits: emits.clone(),
    });
    let sums = b
        .set_bolt("sum", 3, Sum::default)
        .fields_grouping(&numbers, |n: &u64| n % KEYS)
        .stream();
    let out = output.clone();
    b.set_bolt("totals", 1, move || Totals {
        sums: BTreeMap::new(),
        output: out.clone(),
    })
    .global_grouping(&sums);
    b.build().unwrap()
}

fn config(guarantee: Guarantee, chaos: f64) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.batch_size = 64;
    config.guarantee = guarantee;
    config.checkpoint_interval = Duration::from_millis(20);
    if chaos > 0.0 {
        config.chaos = Some(Chaos {
            panic_rate: chaos,
            seed: 11,
        });
        config.supervision = Supervision::for_chaos();
    }
    config
}

/// Frames between the parts of one incarnation: a delivery thread per part.
struct MemFabric {
    /// Which part runs each flat task.
    owner: Vec<usize>,
    leader: usize,
    inboxes: Vec<Sender<(Route, Vec<u8>)>>,
}

impl Fabric for MemFabric {
    fn send(&self, route: Route, frame: Vec<u8>) {
        let part = route.task().map_or(self.leader, |t| self.owner[t as usize]);
        let _ = self.inboxes[part].send((route, frame));
    }
}

/// The last complete checkpoint, as a store outside the parts keeps it.
#[derive(Default)]
struct MemStore(Mutex<Option<(u64, Vec<u8>)>>);

impl CheckpointStore for MemStore {
    fn save(&self, id: u64, blob: Vec<u8>) -> Result<(), String> {
        *self.0.lock().unwrap() = Some((id, blob));
        Ok(())
    }
}

/// Starts one incarnation: `parts` parts, task `t` on part `owner[t]`, part 0 leading.
fn start(
    owner: Vec<usize>,
    parts: usize,
    incarnation: u64,
    build: &dyn Fn() -> Topology,
    config: &Config,
    store: &Arc<MemStore>,
) -> Vec<Arc<Part>> {
    let mut inboxes = Vec::new();
    let mut receivers = Vec::new();
    for _ in 0..parts {
        let (tx, rx) = unbounded::<(Route, Vec<u8>)>();
        inboxes.push(tx);
        receivers.push(rx);
    }
    let fabric = Arc::new(MemFabric {
        owner: owner.clone(),
        leader: 0,
        inboxes,
    });
    let restore = store.0.lock().unwrap().clone();
    let epoch = std::time::SystemTime::now();
    let mut started = Vec::new();
    for (p, rx) in receivers.into_iter().enumerate() {
        let spec = PartSpec {
            incarnation,
            local: owner.iter().map(|&o| o == p).collect(),
            leader: p == 0,
            restore: restore.clone(),
            epoch,
        };
        let part = Arc::new(
            start_part(build(), config.clone(), spec, fabric.clone(), store.clone()).unwrap(),
        );
        let slot: Arc<OnceLock<Arc<Part>>> = Arc::new(OnceLock::new());
        let _ = slot.set(part.clone());
        std::thread::spawn(move || {
            for (route, frame) in rx {
                if let Some(part) = slot.get() {
                    part.deliver(route, &frame, Box::new(|| {}));
                }
            }
        });
        started.push(part);
    }
    started
}

fn wait(parts: &[Arc<Part>]) -> RunReport {
    loop {
        if let Some(outcome) = parts[0].wait(Duration::from_millis(50)) {
            for p in parts {
                p.stop();
            }
            return outcome.unwrap();
        }
    }
}

#[test]
fn a_topology_split_over_parts_gives_the_sequential_result() {
    let end = 20_000;
    for guarantee in [Guarantee::ExactlyOnce, Guarantee::AtMostOnce] {
        // numbers-0, numbers-1, sum-0..2, totals-0: alternate, and all but the sink away
        // from the leader.
        for owner in [
            vec![0, 1, 0, 1, 0, 1],
            vec![1, 1, 1, 1, 1, 0],
            vec![0, 1, 2, 0, 1, 2],
        ] {
            let parts = owner.iter().max().unwrap() + 1;
            let output = Arc::new(Mutex::new(None));
            let emits = Arc::new(AtomicU64::new(0));
            let build = || topology(end, Duration::ZERO, &output, &emits);
            let store = Arc::new(MemStore::default());
            let running = start(
                owner.clone(),
                parts,
                1,
                &build,
                &config(guarantee, 0.0),
                &store,
            );
            let report = wait(&running);
            assert_eq!(
                output.lock().unwrap().clone(),
                Some(oracle(end)),
                "{guarantee:?} placed {owner:?}"
            );
            assert_eq!(report.component("sum").map(|c| c.executed), Some(end));
            assert_eq!(report.component("numbers").map(|c| c.emitted), Some(end));
            // Counted by the sum tasks in every part, the leader's and the others'.
            assert_eq!(
                report.counter("summed"),
                end,
                "{guarantee:?} placed {owner:?}"
            );
        }
    }
}

#[test]
fn parts_replaced_mid_run_resume_from_the_last_checkpoint_exactly() {
    let end = 30_000;
    for chaos in [0.0, 0.002] {
        let output = Arc::new(Mutex::new(None));
        let emits = Arc::new(AtomicU64::new(0));
        let build = || topology(end, Duration::from_millis(2), &output, &emits);
        let store = Arc::new(MemStore::default());
        let config = config(Guarantee::ExactlyOnce, chaos);
        let first = start(vec![0, 1, 0, 1, 0, 1], 2, 1, &build, &config, &store);
        // Let a few checkpoints complete, then lose every part (the cluster replaces all
        // parts of an incarnation when one worker dies).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while store
            .0
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|(id, _)| *id < 3)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint completed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        for p in &first {
            p.stop();
        }
        assert_eq!(
            *output.lock().unwrap(),
            None,
            "the first incarnation must not finish"
        );
        let before = emits.load(Ordering::Relaxed);
        let restored = store.0.lock().unwrap().as_ref().map(|(id, _)| *id);
        // The next incarnation runs on other placements: one part, then three.
        let second = start(vec![0, 0, 0, 0, 0, 0], 1, 2, &build, &config, &store);
        let report = wait(&second);
        assert_eq!(
            output.lock().unwrap().clone(),
            Some(oracle(end)),
            "chaos {chaos}"
        );
        // Resumed, not restarted: without failures of its own, the second incarnation emitted
        // less than everything.
        let emitted = report.component("numbers").map_or(0, |c| c.emitted);
        assert!(
            restored.is_some() && (chaos > 0.0 || emitted < end),
            "restored {restored:?}, emitted {emitted} of {end}, rollbacks {}",
            report.rollbacks
        );
        // A kill (unlike a savepoint) replays what came after the last checkpoint.
        assert!(chaos > 0.0 || before + emitted > end);
    }
}

#[test]
fn a_savepoint_hands_the_run_over_with_nothing_to_replay() {
    let end = 30_000;
    let output = Arc::new(Mutex::new(None));
    let emits = Arc::new(AtomicU64::new(0));
    let build = || topology(end, Duration::from_millis(2), &output, &emits);
    let store = Arc::new(MemStore::default());
    let config = config(Guarantee::ExactlyOnce, 0.0);
    let first = start(vec![1, 0, 1, 0, 1, 0], 2, 1, &build, &config, &store);
    std::thread::sleep(Duration::from_millis(200));
    let id = first[0]
        .savepoint(Duration::from_secs(20))
        .expect("the savepoint completes");
    // The spouts are suspended: no checkpoint after the savepoint holds more input.
    std::thread::sleep(Duration::from_millis(100));
    let stored = store.0.lock().unwrap().clone().unwrap();
    assert!(stored.0 >= id);
    for p in &first {
        p.stop();
    }
    assert_eq!(*output.lock().unwrap(), None);
    let second = start(vec![0, 0, 1, 1, 0, 1], 2, 2, &build, &config, &store);
    let report = wait(&second);
    assert_eq!(output.lock().unwrap().clone(), Some(oracle(end)));
    // Handed over, not replayed: over both incarnations every number was emitted once.
    let second = report.component("numbers").map_or(0, |c| c.emitted);
    assert!(second < end, "the first incarnation emitted nothing");
    assert_eq!(emits.load(Ordering::Relaxed), end);
    assert_eq!(report.rollbacks, 0);
}

/// The sensor alarm pipeline placed over two parts, all replaced midway by a new incarnation
/// that resumes from the last checkpoint, completes.
#[test]
fn the_sensor_pipeline_replaced_midway_completes() {
    use squall_topologies::sensor::{
        EventCounts, EventOutput, ReadingSource, SensorAlarm, Simulation,
    };
    let counts = Arc::new(EventCounts::default());
    let build = || {
        SensorAlarm {
            source: ReadingSource::Simulated(Simulation {
                sensors: 8,
                samples: 300_000,
                faulty_pct: 45.0,
                level: 100.0,
                seed: 3,
            }),
            sensors: 8,
            threshold: 3,
            level: 100.0,
            parallelism: 2,
            output: EventOutput::Discard,
        }
        .topology(counts.clone())
        .unwrap()
    };
    let tasks = squall::distributed::tasks(&build()).len();
    let store = Arc::new(MemStore::default());
    let config = config(Guarantee::ExactlyOnce, 0.0);
    let first = start(
        (0..tasks).map(|t| t % 2).collect(),
        2,
        1,
        &build,
        &config,
        &store,
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while store
        .0
        .lock()
        .unwrap()
        .as_ref()
        .is_none_or(|(id, _)| *id < 2)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint completed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for p in &first {
        p.stop();
    }
    let second = start(
        (0..tasks).map(|t| (t + 1) % 2).collect(),
        2,
        2,
        &build,
        &config,
        &store,
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(outcome) = second[0].wait(Duration::from_millis(50)) {
            outcome.unwrap();
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second incarnation stalled"
        );
    }
    for p in &second {
        p.stop();
    }
}
