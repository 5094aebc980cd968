//! Build-time validation (`BuildError`) and run-time failures of user code (`RunError`).

use std::time::{Duration, Instant};

use squall::{
    Bolt, BoltCollector, BuildError, ComponentError, Config, LocalCluster, RunError, Spout,
    SpoutCollector, Stream, TaskContext, TopologyBuilder, DEFAULT_STREAM,
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

fn count(end: u64) -> impl Fn() -> Count + Send + Sync + 'static {
    move || Count { next: 0, end }
}

struct Pass;

impl Bolt for Pass {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        out.emit(n);
        Ok(())
    }
}

struct Text;

impl Bolt for Text {
    type Input = String;
    type Output = ();
    fn execute(&mut self, _: String, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(())
    }
}

#[test]
fn duplicate_id_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    let numbers = b.set_spout("numbers", 1, count(1));
    b.set_bolt("pass", 1, || Pass).shuffle_grouping(&numbers);
    b.set_bolt("pass", 2, || Pass).shuffle_grouping(&numbers);
    let err = b.build().err();
    assert_eq!(err, Some(BuildError::DuplicateId("pass".into())));
    assert!(err.unwrap().to_string().contains("`pass`"));
}

#[test]
fn unknown_component_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    b.set_spout("numbers", 1, count(1));
    b.set_bolt("pass", 1, || Pass)
        .shuffle_grouping(&Stream::named("nowhere", DEFAULT_STREAM));
    let err = b.build().err().unwrap();
    assert_eq!(
        err,
        BuildError::UnknownComponent {
            consumer: "pass".into(),
            producer: "nowhere".into()
        }
    );
    let text = err.to_string();
    assert!(text.contains("pass") && text.contains("nowhere"), "{text}");
}

#[test]
fn cycle_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    let numbers = b.set_spout("numbers", 1, count(1));
    let a = b
        .set_bolt("a", 1, || Pass)
        .shuffle_grouping(&numbers)
        .shuffle_grouping(&Stream::named("c", DEFAULT_STREAM))
        .stream();
    let bb = b
        .set_bolt("b", 2, || Pass)
        .fields_grouping(&a, |n: &u64| *n)
        .stream();
    b.set_bolt("c", 1, || Pass).shuffle_grouping(&bb);
    b.set_bolt("outside", 1, || Pass).shuffle_grouping(&numbers);
    match b.build().err() {
        Some(BuildError::Cycle(mut ids)) => {
            ids.sort();
            assert_eq!(ids, ["a", "b", "c"]);
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn self_loop_is_a_cycle() {
    let mut b = TopologyBuilder::new("t");
    let numbers = b.set_spout("numbers", 1, count(1));
    b.set_bolt("me", 1, || Pass)
        .shuffle_grouping(&numbers)
        .shuffle_grouping(&Stream::named("me", DEFAULT_STREAM));
    assert!(matches!(b.build(), Err(BuildError::Cycle(ids)) if ids == ["me"]));
}

#[test]
fn zero_parallelism_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    let numbers = b.set_spout("numbers", 1, count(1));
    b.set_bolt("idle", 0, || Pass).shuffle_grouping(&numbers);
    assert_eq!(
        b.build().err(),
        Some(BuildError::ZeroParallelism("idle".into()))
    );

    let mut b = TopologyBuilder::new("t");
    b.set_spout("numbers", 0, count(1));
    assert_eq!(
        b.build().err(),
        Some(BuildError::ZeroParallelism("numbers".into()))
    );
}

#[test]
fn type_mismatch_by_name_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    let numbers = b.set_spout("numbers", 1, count(1));
    b.set_bolt("pass", 1, || Pass).shuffle_grouping(&numbers);
    // `pass` emits u64; `text` expects String.
    b.set_bolt("text", 1, || Text)
        .shuffle_grouping(&Stream::named("pass", DEFAULT_STREAM));
    match b.build() {
        Err(BuildError::TypeMismatch {
            consumer,
            producer,
            expected,
            found,
        }) => {
            assert_eq!((consumer.as_str(), producer.as_str()), ("text", "pass"));
            assert!(expected.contains("String"), "{expected}");
            assert_eq!(found, "u64");
        }
        Err(e) => panic!("expected a type mismatch, got {e:?}"),
        Ok(_) => panic!("expected a type mismatch, got a topology"),
    }
}

#[test]
fn a_valid_topology_builds() {
    // The counterpart of the rejections above, so they cannot pass by rejecting everything.
    let mut b = TopologyBuilder::new("t");
    let later = Stream::<u64>::named("pass", DEFAULT_STREAM);
    b.set_bolt("after", 2, || Pass).shuffle_grouping(&later);
    let numbers = b.set_spout("numbers", 1, count(1));
    b.set_bolt("pass", 3, || Pass).shuffle_grouping(&numbers);
    let t = b.build().unwrap();
    assert_eq!(t.components(), [("numbers", 1), ("pass", 3), ("after", 2)]);
}

/// What a failing bolt does on its failing tuple.
#[derive(Clone, Copy)]
enum Failure {
    Panic,
    Error,
}

/// Fails on tuple 10.
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

struct Sink;

impl Bolt for Sink {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        Ok(())
    }
}

/// Runs `numbers` (1000 tuples) -> `fragile` (fields on the number, 3 tasks) -> `sink`, and
/// expects the run to fail (not hang) with the task running tuple 10 named.
fn expect_failed_run(failure: Failure, needle: &str, hook: &str) {
    let mut b = TopologyBuilder::new("fragile");
    let numbers = b.set_spout("numbers", 1, count(1000));
    let out = b
        .set_bolt("fragile", 3, move || Fragile(failure))
        .fields_grouping(&numbers, |n: &u64| *n)
        .stream();
    b.set_bolt("sink", 1, || Sink).shuffle_grouping(&out);
    let mut config = Config::default();
    config.workers = 2;
    config.drain_timeout = Duration::from_secs(20);
    let started = Instant::now();
    let result = LocalCluster::new(config).run(b.build().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the failed run took {:?}",
        started.elapsed()
    );
    let err = match result {
        Err(e) => e,
        Ok(report) => panic!("the run succeeded: {report:?}"),
    };
    let text = err.to_string();
    match &err {
        RunError::TaskFailed {
            task,
            hook: failed_hook,
            message,
        } => {
            assert_eq!(task.component, "fragile", "{text}");
            assert!(task.task < 3, "{text}");
            assert_eq!(*failed_hook, hook, "{text}");
            assert!(message.contains(needle), "{text}");
            // The text names the component, the task and the message.
            assert!(text.contains(&format!("fragile[{}]", task.task)), "{text}");
            assert!(text.contains(needle), "{text}");
        }
        other => panic!("expected TaskFailed, got {other:?}"),
    }
}

#[test]
fn a_panicking_bolt_fails_the_run_with_its_name_task_and_message() {
    expect_failed_run(
        Failure::Panic,
        "fragile bolt gave up on tuple 10",
        "execute",
    );
}

#[test]
fn an_execute_error_fails_the_run_with_its_name_task_and_message() {
    expect_failed_run(Failure::Error, "tuple 10 is unacceptable", "execute");
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
fn an_open_error_fails_the_run() {
    let mut b = TopologyBuilder::new("bad-open");
    let numbers = b.set_spout("gateway", 2, || BadOpen);
    b.set_bolt("sink", 2, || Sink).shuffle_grouping(&numbers);
    let mut config = Config::default();
    config.workers = 2;
    let started = Instant::now();
    match LocalCluster::new(config).run(b.build().unwrap()) {
        Err(RunError::TaskFailed {
            task,
            hook,
            message,
        }) => {
            assert_eq!(
                (task.component.as_str(), task.task, hook),
                ("gateway", 1, "open")
            );
            assert!(
                message.contains("cannot reach the sensor gateway"),
                "{message}"
            );
        }
        Err(other) => panic!("expected TaskFailed, got {other:?}"),
        Ok(report) => panic!("the run succeeded: {report:?}"),
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
fn a_panicking_prepare_fails_the_run() {
    let mut b = TopologyBuilder::new("bad-prepare");
    let numbers = b.set_spout("numbers", 1, count(100));
    b.set_bolt("db", 1, || BadPrepare)
        .shuffle_grouping(&numbers);
    match LocalCluster::new(Config::default()).run(b.build().unwrap()) {
        Err(RunError::TaskFailed {
            task,
            hook,
            message,
        }) => {
            assert_eq!(
                (task.component.as_str(), task.task, hook),
                ("db", 0, "prepare")
            );
            assert!(message.contains("no database"), "{message}");
        }
        Err(other) => panic!("expected TaskFailed, got {other:?}"),
        Ok(report) => panic!("the run succeeded: {report:?}"),
    }
}

#[test]
fn a_healthy_run_of_the_same_shape_succeeds() {
    // The same topology as the failing ones, minus the failure: the failures above come from
    // the failing hook, not from the shape.
    let mut b = TopologyBuilder::new("sturdy");
    let numbers = b.set_spout("numbers", 1, count(1000));
    let out = b
        .set_bolt("pass", 3, || Pass)
        .fields_grouping(&numbers, |n: &u64| *n)
        .stream();
    b.set_bolt("sink", 1, || Sink).shuffle_grouping(&out);
    let mut config = Config::default();
    config.workers = 2;
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    assert_eq!(report.component("sink").map(|c| c.executed), Some(1000));
}
