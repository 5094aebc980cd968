//! Build-time validation (`BuildError`); run-time failures are in `supervision`.

use squall::{
    Bolt, BoltCollector, BuildError, ComponentError, Config, LocalCluster, Spout, SpoutCollector,
    Stream, TopologyBuilder, DEFAULT_STREAM,
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

/// Takes every number.
struct Sink;

impl Bolt for Sink {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
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
            stream,
            expected,
            found,
        }) => {
            assert_eq!((consumer.as_str(), producer.as_str()), ("text", "pass"));
            assert_eq!(stream, DEFAULT_STREAM);
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
