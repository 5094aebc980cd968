//! Each grouping's contract through real topologies: a bounded numbered spout feeding a bolt at
//! parallelism 4 that records which task saw which tuple.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use squall::{
    Bolt, BoltCollector, BoltDeclarer, ComponentError, Config, CustomGrouping, LocalCluster, Spout,
    SpoutCollector, Stream, TaskContext, TopologyBuilder,
};

const TASKS: usize = 4;

/// A numbered tuple that knows where it was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct Item {
    n: u64,
    producer: usize,
    worker: usize,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// `emit` every tuple.
    Plain,
    /// Even numbers with `emit_direct` to `direct_target(n)`, odd numbers with plain `emit`.
    DirectEvens,
}

fn direct_target(n: u64) -> usize {
    ((n / 2 * 7 + 3) % TASKS as u64) as usize
}

/// Task `t` emits `t * per_task .. (t + 1) * per_task`, then finishes.
struct Numbers {
    per_task: u64,
    mode: Mode,
    next: u64,
    end: u64,
    producer: usize,
    worker: usize,
}

impl Numbers {
    fn new(per_task: u64, mode: Mode) -> Self {
        Numbers {
            per_task,
            mode,
            next: 0,
            end: 0,
            producer: 0,
            worker: 0,
        }
    }
}

impl Spout for Numbers {
    type Output = Item;

    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.producer = ctx.task_index();
        self.worker = ctx.worker();
        self.next = self.producer as u64 * self.per_task;
        self.end = self.next + self.per_task;
        Ok(())
    }

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, Item>) -> Result<(), ComponentError> {
        if self.next < self.end {
            let item = Item {
                n: self.next,
                producer: self.producer,
                worker: self.worker,
            };
            match self.mode {
                Mode::DirectEvens if item.n % 2 == 0 => {
                    out.emit_direct(direct_target(item.n), item)?
                }
                _ => out.emit(item),
            }
            self.next += 1;
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
}

/// One tuple as a consumer task saw it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    task: usize,
    worker: usize,
    item: Item,
    from: String,
    stream: String,
}

/// Records every tuple with the task that executed it.
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    ctx: Option<TaskContext>,
}

impl Recorder {
    fn factory(seen: &Arc<Mutex<Vec<Seen>>>) -> impl Fn() -> Recorder + Send + Sync + 'static {
        let seen = seen.clone();
        move || Recorder {
            seen: seen.clone(),
            ctx: None,
        }
    }
}

impl Bolt for Recorder {
    type Input = Item;
    type Output = ();

    fn prepare(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        self.ctx = Some(ctx.clone());
        Ok(())
    }

    fn execute(
        &mut self,
        item: Item,
        out: &mut BoltCollector<'_, ()>,
    ) -> Result<(), ComponentError> {
        let ctx = self.ctx.as_ref().ok_or("execute before prepare")?;
        let source = out.source().ok_or("execute without a source")?;
        self.seen.lock().unwrap().push(Seen {
            task: ctx.task_index(),
            worker: ctx.worker(),
            item,
            from: source.component.to_string(),
            stream: source.stream.to_string(),
        });
        Ok(())
    }
}

/// Runs `numbers` (spout, `spout_tasks` x `per_task` tuples) -> `sink` (Recorder, 4 tasks,
/// subscribed by `subscribe`) and returns what the sink saw, and every item the spout emitted
/// (recomputed from the numbering, not observed).
fn run<F>(spout_tasks: usize, per_task: u64, mode: Mode, workers: usize, subscribe: F) -> Vec<Seen>
where
    F: FnOnce(BoltDeclarer<'_, Recorder>, &Stream<Item>),
{
    run_with(spout_tasks, per_task, mode, workers, false, subscribe)
}

fn run_with<F>(
    spout_tasks: usize,
    per_task: u64,
    mode: Mode,
    workers: usize,
    always_serialize: bool,
    subscribe: F,
) -> Vec<Seen>
where
    F: FnOnce(BoltDeclarer<'_, Recorder>, &Stream<Item>),
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("groupings");
    let numbers = b.set_spout("numbers", spout_tasks, move || Numbers::new(per_task, mode));
    subscribe(
        b.set_bolt("sink", TASKS, Recorder::factory(&seen)),
        &numbers,
    );
    let mut config = Config::default();
    config.workers = workers;
    config.always_serialize = always_serialize;
    config.batch_size = 64;
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    assert_eq!(
        report.component("numbers").map(|c| c.emitted),
        Some(spout_tasks as u64 * per_task),
        "the spout emitted every number"
    );
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    seen
}

/// The numbers seen, sorted; duplicates kept.
fn numbers(seen: &[Seen]) -> Vec<u64> {
    let mut n: Vec<u64> = seen.iter().map(|s| s.item.n).collect();
    n.sort_unstable();
    n
}

fn all_numbers(count: u64) -> Vec<u64> {
    (0..count).collect()
}

/// Tasks that saw each key.
fn tasks_per_key(seen: &[Seen], key: impl Fn(u64) -> u64) -> BTreeMap<u64, BTreeSet<usize>> {
    let mut map: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    for s in seen {
        map.entry(key(s.item.n)).or_default().insert(s.task);
    }
    map
}

fn key37(n: u64) -> u64 {
    n % 37
}

#[test]
fn fields_sends_each_key_to_one_task_and_every_tuple_once() {
    for serialize in [false, true] {
        let seen = run_with(2, 1500, Mode::Plain, 2, serialize, |d, s| {
            d.fields_grouping(s, |i: &Item| key37(i.n));
        });
        assert_eq!(
            numbers(&seen),
            all_numbers(3000),
            "every tuple exactly once"
        );
        let per_key = tasks_per_key(&seen, key37);
        assert_eq!(per_key.len(), 37);
        for (key, tasks) in &per_key {
            assert_eq!(tasks.len(), 1, "key {key} reached tasks {tasks:?}");
        }
        let used: BTreeSet<usize> = seen.iter().map(|s| s.task).collect();
        assert!(used.len() > 1, "37 keys all on one task: {used:?}");
        // The same key reaches the same task from both producers.
        let producers: BTreeSet<usize> = seen.iter().map(|s| s.item.producer).collect();
        assert_eq!(producers, BTreeSet::from([0, 1]));
    }
}

#[test]
fn all_sends_every_tuple_to_every_task() {
    let seen = run(2, 500, Mode::Plain, 2, |d, s| {
        d.all_grouping(s);
    });
    for task in 0..TASKS {
        let mine: Vec<Seen> = seen.iter().filter(|s| s.task == task).cloned().collect();
        assert_eq!(numbers(&mine), all_numbers(1000), "task {task}");
    }
    assert_eq!(seen.len(), TASKS * 1000);
}

#[test]
fn global_sends_everything_to_task_0() {
    let seen = run(2, 500, Mode::Plain, 2, |d, s| {
        d.global_grouping(s);
    });
    assert_eq!(numbers(&seen), all_numbers(1000));
    let tasks: BTreeSet<usize> = seen.iter().map(|s| s.task).collect();
    assert_eq!(tasks, BTreeSet::from([0]));
}

#[test]
fn direct_delivers_to_the_chosen_task_only() {
    let seen = run(1, 2000, Mode::DirectEvens, 2, |d, s| {
        d.direct_grouping(s);
    });
    let evens: Vec<u64> = (0..2000).filter(|n| n % 2 == 0).collect();
    assert_eq!(
        numbers(&seen),
        evens,
        "direct tuples once each; plain emits never arrive"
    );
    for s in &seen {
        assert_eq!(s.task, direct_target(s.item.n), "{s:?}");
    }
    let used: BTreeSet<usize> = seen.iter().map(|s| s.task).collect();
    assert_eq!(used.len(), TASKS);
}

#[test]
fn direct_emit_errors_name_the_problem() {
    // A direct emit without a direct subscriber, and one out of range, are errors, not panics
    // or silent drops.
    struct Probe {
        results: Arc<Mutex<Vec<String>>>,
        done: bool,
    }
    impl Spout for Probe {
        type Output = Item;
        fn next_tuple(&mut self, out: &mut SpoutCollector<'_, Item>) -> Result<(), ComponentError> {
            let item = Item {
                n: 0,
                producer: 0,
                worker: 0,
            };
            let mut results = self.results.lock().unwrap();
            results.push(format!("{:?}", out.emit_direct(TASKS, item)));
            results.push(format!("{:?}", out.emit_direct(0, item)));
            self.done = true;
            Ok(())
        }
        fn is_finished(&self) -> bool {
            self.done
        }
    }
    let results = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("direct-errors");
    let r = results.clone();
    let probe = b.set_spout("probe", 1, move || Probe {
        results: r.clone(),
        done: false,
    });
    b.set_bolt("sink", TASKS, Recorder::factory(&seen))
        .direct_grouping(&probe);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    let results = results.lock().unwrap().clone();
    assert_eq!(results.len(), 2);
    assert!(results[0].starts_with("Err(TaskOutOfRange"), "{results:?}");
    assert_eq!(results[1], "Ok(())");
    assert_eq!(seen.lock().unwrap().len(), 1);

    let results = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("no-direct");
    let r = results.clone();
    let probe = b.set_spout("probe", 1, move || Probe {
        results: r.clone(),
        done: false,
    });
    b.set_bolt("sink", TASKS, Recorder::factory(&seen))
        .shuffle_grouping(&probe);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    let results = results.lock().unwrap().clone();
    assert!(
        results
            .iter()
            .all(|r| r.starts_with("Err(NoDirectConsumer")),
        "{results:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
}

/// Skewed keys: a third of the tuples carry key 0.
fn skewed(n: u64) -> u64 {
    if n % 3 == 0 {
        0
    } else {
        n % 50
    }
}

#[test]
fn partial_key_uses_at_most_two_tasks_per_key() {
    let seen = run(2, 2000, Mode::Plain, 2, |d, s| {
        d.partial_key_grouping(s, |i: &Item| skewed(i.n));
    });
    assert_eq!(
        numbers(&seen),
        all_numbers(4000),
        "every tuple exactly once"
    );
    let per_key = tasks_per_key(&seen, skewed);
    for (key, tasks) in &per_key {
        assert!(tasks.len() <= 2, "key {key} reached tasks {tasks:?}");
    }
    assert!(
        per_key.values().any(|t| t.len() == 2),
        "no key was split over two tasks: {per_key:?}"
    );
}

#[test]
fn local_or_shuffle_stays_on_the_producers_worker() {
    let seen = run(2, 1000, Mode::Plain, 2, |d, s| {
        d.local_or_shuffle_grouping(s);
    });
    assert_eq!(
        numbers(&seen),
        all_numbers(2000),
        "every tuple exactly once"
    );
    let producer_workers: BTreeSet<usize> = seen.iter().map(|s| s.item.worker).collect();
    assert_eq!(
        producer_workers,
        BTreeSet::from([0, 1]),
        "producers on both workers"
    );
    for s in &seen {
        assert_eq!(
            s.worker, s.item.worker,
            "tuple left its producer's worker: {s:?}"
        );
    }
    // Both local tasks of each worker share the load.
    let used: BTreeSet<usize> = seen.iter().map(|s| s.task).collect();
    assert_eq!(used.len(), TASKS);
}

/// Sends `n` to task `n % 3`, multiples of 5 also to task 3, and names a task out of range
/// (which must be ignored).
#[derive(Clone)]
struct ModThree;

impl CustomGrouping<Item> for ModThree {
    fn choose_tasks(&mut self, item: &Item, tasks: usize, out: &mut Vec<usize>) {
        assert_eq!(tasks, TASKS);
        out.push((item.n % 3) as usize);
        if item.n % 5 == 0 {
            out.push(3);
        }
        out.push(tasks + 10);
    }
}

#[test]
fn custom_grouping_is_respected() {
    let seen = run(2, 600, Mode::Plain, 2, |d, s| {
        d.custom_grouping(s, ModThree);
    });
    let got: Vec<(usize, u64)> = {
        let mut v: Vec<(usize, u64)> = seen.iter().map(|s| (s.task, s.item.n)).collect();
        v.sort_unstable();
        v
    };
    let mut expected: Vec<(usize, u64)> = (0..1200u64)
        .flat_map(|n| {
            let mut t = vec![((n % 3) as usize, n)];
            if n % 5 == 0 {
                t.push((3, n));
            }
            t
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(got, expected);
}

#[test]
fn shuffle_spreads_evenly_and_delivers_every_tuple_once() {
    let total = 4000u64;
    let seen = run(2, total / 2, Mode::Plain, 2, |d, s| {
        d.shuffle_grouping(s);
    });
    assert_eq!(
        numbers(&seen),
        all_numbers(total),
        "every tuple exactly once"
    );
    let mut per_task = [0u64; TASKS];
    for s in &seen {
        per_task[s.task] += 1;
    }
    let fair = total / TASKS as u64;
    for (task, &n) in per_task.iter().enumerate() {
        assert!(
            n.abs_diff(fair) <= fair / 10,
            "task {task} got {n} of {total}: {per_task:?}"
        );
    }
}

/// Sends even numbers to stream `evens`, odd ones to `odds`, and everything to `nobody`,
/// which has no subscriber.
struct Splitter;

impl Bolt for Splitter {
    type Input = Item;
    type Output = Item;

    fn execute(
        &mut self,
        item: Item,
        out: &mut BoltCollector<'_, Item>,
    ) -> Result<(), ComponentError> {
        out.emit_to(if item.n % 2 == 0 { "evens" } else { "odds" }, item)?;
        // Declared but not subscribed: dropped, as in Storm.
        out.emit_to("nobody", item)?;
        Ok(())
    }
}

#[test]
fn named_streams_reach_only_their_subscribers() {
    let evens = Arc::new(Mutex::new(Vec::new()));
    let odds = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("streams");
    let numbers_stream = b.set_spout("numbers", 1, || Numbers::new(1000, Mode::Plain));
    let mut splitter = b
        .set_bolt("splitter", 2, || Splitter)
        .shuffle_grouping(&numbers_stream);
    let (even_stream, odd_stream) = (
        splitter.declare_stream("evens"),
        splitter.declare_stream("odds"),
    );
    splitter.declare_stream("nobody");
    assert_eq!(even_stream.name(), "evens");
    b.set_bolt("even-sink", 2, Recorder::factory(&evens))
        .shuffle_grouping(&even_stream);
    b.set_bolt("odd-sink", 3, Recorder::factory(&odds))
        .fields_grouping(&odd_stream, |i: &Item| i.n);
    let mut config = Config::default();
    config.workers = 2;
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    for (name, seen, parity) in [("evens", &evens, 0), ("odds", &odds, 1)] {
        let seen = seen.lock().unwrap().clone();
        let expected: Vec<u64> = (0..1000).filter(|n| n % 2 == parity).collect();
        assert_eq!(numbers(&seen), expected, "stream {name}");
        for s in &seen {
            assert_eq!(
                (s.from.as_str(), s.stream.as_str()),
                ("splitter", name),
                "{s:?}"
            );
        }
    }
    assert_eq!(report.component("even-sink").map(|c| c.executed), Some(500));
    assert_eq!(report.component("odd-sink").map(|c| c.executed), Some(500));
}

/// Emits every tuple on a stream nobody declared: a typo that must not vanish silently.
struct Misspelled;

impl Bolt for Misspelled {
    type Input = Item;
    type Output = Item;

    fn execute(
        &mut self,
        item: Item,
        out: &mut BoltCollector<'_, Item>,
    ) -> Result<(), ComponentError> {
        out.emit_to("evnets", item)?;
        Ok(())
    }
}

#[test]
fn emitting_on_an_undeclared_stream_fails_the_tuple() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("typo");
    let numbers_stream = b.set_spout("numbers", 1, || Numbers::new(100, Mode::Plain));
    let mut typo = b
        .set_bolt("typo", 1, || Misspelled)
        .shuffle_grouping(&numbers_stream);
    let events = typo.declare_stream("events");
    b.set_bolt("sink", 1, Recorder::factory(&seen))
        .shuffle_grouping(&events);
    let report = LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(report.component("typo").map(|c| c.failed), Some(100));
    let letter = report.dead_letters.first().expect("a dead letter");
    assert!(letter.error.contains("evnets"), "{letter:?}");
}
