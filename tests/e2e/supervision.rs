//! Failures of user code at run time: the supervisor restarts failed tasks with fresh
//! instances (strategies, intensity, backoff), an `Err` from `execute` makes a dead letter, and
//! a task that keeps failing ends the run with an error naming it, never a hang.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LiveCounters, LocalCluster, RunError,
    RunReport, Spout, SpoutCollector, State, Strategy, Supervision, TaskContext, TopologyBuilder,
};

/// Emits `0..end`, then finishes.
struct Count {
    next: u64,
    end: u64,
}

impl Spout for Count {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        if self.next < self.end {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
}

/// What a failing bolt does on tuple 10.
#[derive(Clone, Copy)]
enum Failure {
    Panic,
    Error,
}

/// Fails on tuple 10; passes every other number on.
struct Fragile(Failure);

impl Bolt for Fragile {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        if n == 10 {
            match self.0 {
                Failure::Panic => panic!("fragile bolt gave up on tuple {n}"),
                Failure::Error => return Err(format!("tuple {n} is unacceptable").into()),
            }
        }
        out.emit(n);
        Ok(())
    }
}

/// Collects what reaches it.
struct Collect(Arc<Mutex<Vec<u64>>>);

impl Bolt for Collect {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.0.lock().unwrap().push(n);
        Ok(())
    }
}

fn config(guarantee: Guarantee, supervision: Supervision) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = guarantee;
    config.supervision = supervision;
    config.drain_timeout = Duration::from_secs(20);
    config
}

/// `numbers` (1000) -> `fragile` (fields on the number, 3 tasks) -> `sink`; returns the run's
/// result and what reached the sink.
fn fragile_run(failure: Failure, config: Config) -> (Result<RunReport, RunError>, Vec<u64>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut b = TopologyBuilder::new("fragile");
    let numbers = b.set_spout("numbers", 1, || Count { next: 0, end: 1000 });
    let out = b
        .set_bolt("fragile", 3, move || Fragile(failure))
        .fields_grouping(&numbers, |n: &u64| *n)
        .stream();
    let sink = seen.clone();
    b.set_bolt("sink", 1, move || Collect(sink.clone()))
        .shuffle_grouping(&out);
    let started = Instant::now();
    let result = LocalCluster::new(config).run(b.build().unwrap());
    assert!(started.elapsed() < Duration::from_secs(20), "took too long");
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    (result, seen)
}

fn all_but_ten() -> Vec<u64> {
    (0..1000).filter(|&n| n != 10).collect()
}

#[test]
fn a_panicking_bolt_gets_a_fresh_instance_and_the_run_completes() {
    let (result, seen) = fragile_run(
        Failure::Panic,
        config(Guarantee::AtMostOnce, Supervision::default()),
    );
    let report = result.unwrap();
    let fragile = report.component("fragile").unwrap();
    assert_eq!(fragile.restarts, 1);
    assert_eq!(report.restarts(), 1);
    // At most once: the tuple in hand is lost, the rest of its batch is not.
    assert_eq!(seen, all_but_ten());
}

#[test]
fn strategies_restart_their_tasks() {
    for (strategy, expected) in [
        (Strategy::OneForOne, 1),
        (Strategy::RestForOne, 2), // the failed task and the sink after it
        (Strategy::OneForAll, 5),  // every task: 1 spout, 3 fragile, 1 sink
    ] {
        let mut supervision = Supervision::default();
        supervision.strategy = strategy;
        let (result, seen) =
            fragile_run(Failure::Panic, config(Guarantee::AtMostOnce, supervision));
        let report = result.unwrap();
        let fragile = report.component("fragile").unwrap().restarts;
        let sink = report.component("sink").unwrap().restarts;
        let spout = report.component("numbers").unwrap().restarts;
        // A task that already finished is not restarted (at most once has nothing to roll back).
        match strategy {
            Strategy::OneForOne => assert_eq!((fragile, sink, spout), (1, 0, 0)),
            Strategy::RestForOne => assert_eq!((fragile, sink, spout), (1, 1, 0)),
            _ => {
                // Every task not yet finished: the failed one, the sink waiting for it, and
                // whichever other tasks were still running.
                assert!((1..=3).contains(&fragile) && sink == 1 && spout <= 1);
            }
        }
        assert!(report.restarts() <= expected);
        assert!(
            seen.len() >= 900,
            "{strategy:?}: {} reached the sink",
            seen.len()
        );
        assert!(!seen.contains(&10));
    }
}

#[test]
fn a_bolt_that_keeps_panicking_hits_the_restart_intensity() {
    // Exactly once rolls back and replays tuple 10, which panics every time.
    let mut supervision = Supervision::default();
    supervision.max_restarts = 3;
    supervision.backoff_min = Duration::from_millis(1);
    let (result, _) = fragile_run(Failure::Panic, config(Guarantee::ExactlyOnce, supervision));
    match result {
        Err(RunError::RestartIntensity {
            task,
            restarts,
            message,
            ..
        }) => {
            assert_eq!(task.component, "fragile");
            assert!(task.task < 3);
            assert_eq!(restarts, 3);
            assert!(
                message.contains("fragile bolt gave up on tuple 10"),
                "{message}"
            );
            assert!(message.contains("execute"), "{message}");
        }
        Err(other) => panic!("expected RestartIntensity, got {other}"),
        Ok(_) => panic!("the run succeeded"),
    }
}

#[test]
fn an_execute_error_fails_the_tuple_into_the_dead_letters() {
    let (result, seen) = fragile_run(
        Failure::Error,
        config(Guarantee::AtMostOnce, Supervision::default()),
    );
    let report = result.unwrap();
    assert_eq!(seen, all_but_ten());
    assert_eq!(report.component("fragile").unwrap().failed, 1);
    assert_eq!(report.restarts(), 0);
    let dead = &report.dead_letters;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].component, "fragile");
    assert_eq!(dead[0].error, "tuple 10 is unacceptable");
    // The first failure a task sees comes before it fingerprints its inputs.
    assert!(dead[0].payload.is_empty());
}

/// A spout whose `open` fails on task 1.
struct BadOpen;

impl Spout for BadOpen {
    type Output = u64;
    fn open(&mut self, ctx: &TaskContext) -> Result<(), ComponentError> {
        if ctx.task_index() == 1 {
            return Err("cannot reach the sensor gateway".into());
        }
        Ok(())
    }
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        // Unbounded: only the failure can end this run.
        out.emit(1);
        Ok(())
    }
}

#[test]
fn an_open_that_keeps_failing_ends_the_run_naming_the_task() {
    let mut b = TopologyBuilder::new("bad-open");
    let numbers = b.set_spout("gateway", 2, || BadOpen);
    b.set_bolt("sink", 2, || Collect(Arc::default()))
        .shuffle_grouping(&numbers);
    let mut supervision = Supervision::default();
    supervision.max_restarts = 4;
    let started = Instant::now();
    let result =
        LocalCluster::new(config(Guarantee::AtMostOnce, supervision)).run(b.build().unwrap());
    match result {
        Err(e @ RunError::RestartIntensity { .. }) => {
            let text = e.to_string();
            assert!(text.contains("gateway[1]"), "{text}");
            assert!(text.contains("`open`"), "{text}");
            assert!(text.contains("cannot reach the sensor gateway"), "{text}");
        }
        Err(other) => panic!("expected RestartIntensity, got {other}"),
        Ok(_) => panic!("the run succeeded"),
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A bolt that panics in `prepare`.
struct BadPrepare;

impl Bolt for BadPrepare {
    type Input = u64;
    type Output = ();
    fn prepare(&mut self, _: &TaskContext) -> Result<(), ComponentError> {
        panic!("no database")
    }
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[test]
fn a_prepare_that_keeps_panicking_ends_the_run_naming_the_task() {
    let mut b = TopologyBuilder::new("bad-prepare");
    let numbers = b.set_spout("numbers", 1, || Count { next: 0, end: 100 });
    b.set_bolt("db", 1, || BadPrepare)
        .shuffle_grouping(&numbers);
    let mut supervision = Supervision::default();
    supervision.max_restarts = 2;
    let result =
        LocalCluster::new(config(Guarantee::AtMostOnce, supervision)).run(b.build().unwrap());
    match result {
        Err(RunError::RestartIntensity { task, message, .. }) => {
            assert_eq!((task.component.as_str(), task.task), ("db", 0));
            assert!(
                message.contains("prepare") && message.contains("no database"),
                "{message}"
            );
        }
        Err(other) => panic!("expected RestartIntensity, got {other}"),
        Ok(_) => panic!("the run succeeded"),
    }
}

#[test]
fn the_backoff_spaces_restarts() {
    // Three restarts with a 20 ms minimum backoff doubling each time (with jitter down to
    // half): at least 10 + 20 + 40 ms pass before the run gives up.
    let mut supervision = Supervision::default();
    supervision.max_restarts = 3;
    supervision.backoff_min = Duration::from_millis(20);
    supervision.backoff_max = Duration::from_secs(1);
    let mut b = TopologyBuilder::new("bad-prepare");
    let numbers = b.set_spout("numbers", 1, || Count { next: 0, end: 100 });
    b.set_bolt("db", 1, || BadPrepare)
        .shuffle_grouping(&numbers);
    let started = Instant::now();
    let result =
        LocalCluster::new(config(Guarantee::AtMostOnce, supervision)).run(b.build().unwrap());
    assert!(matches!(result, Err(RunError::RestartIntensity { .. })));
    assert!(
        started.elapsed() >= Duration::from_millis(70),
        "{:?}",
        started.elapsed()
    );
}

/// A spout that emits without end (a live source), counting up.
struct Endless(u64);

impl Spout for Endless {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        self.0 += 1;
        out.emit(self.0);
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

/// Panics once, on the 1000th tuple any of its instances sees.
struct PanicsOnce(Arc<AtomicU64>);

impl Bolt for PanicsOnce {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if self.0.fetch_add(1, Ordering::SeqCst) == 1000 {
            panic!("the 1000th tuple");
        }
        Ok(())
    }
}

#[test]
fn restarts_and_checkpoints_happen_while_nobody_waits_on_the_run() {
    let live = Arc::new(LiveCounters::default());
    let mut b = TopologyBuilder::new("unwatched");
    let numbers = b.set_spout("numbers", 1, || Endless(0));
    let seen = Arc::new(AtomicU64::new(0));
    b.set_bolt("panicky", 1, move || PanicsOnce(seen.clone()))
        .shuffle_grouping(&numbers);
    let mut config = Config::default();
    config.guarantee = Guarantee::ExactlyOnce;
    config.checkpoint_interval = Duration::from_millis(20);
    config.live = Some(live.clone());
    let running = LocalCluster::new(config).spawn(b.build().unwrap()).unwrap();
    // Not waiting on the run: the control plane must restart the task and take checkpoints
    // on its own. Look at the counters only.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut after_restart = None;
    while Instant::now() < deadline {
        if live.restarts() > 0 && after_restart.is_none() {
            after_restart = Some(live.checkpoints());
        }
        if after_restart.is_some_and(|c| live.checkpoints() > c + 2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let restarts = live.restarts();
    let checkpoints = live.checkpoints();
    let report = running.shutdown().unwrap();
    assert_eq!(restarts, 1, "the panic was not handled while nobody waited");
    let before = after_restart.unwrap();
    assert!(
        checkpoints > before + 2,
        "no checkpoint after the restart while nobody waited ({before} then {checkpoints})"
    );
    assert_eq!(report.restarts(), 1);
}
