//! Validation at `build()`: every `BuildError`, and the order tasks start in.

use super::*;
use crate::{BoltCollector, ComponentError, SpoutCollector};

struct Src;
impl Spout for Src {
    type Output = u64;
    fn next_tuple(&mut self, _: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        Ok(())
    }
}
struct Pass;
impl Bolt for Pass {
    type Input = u64;
    type Output = u64;
    fn execute(&mut self, n: u64, o: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        o.emit(n);
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
fn unknown_input_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    b.set_spout("src", 1, || Src);
    b.set_bolt("pass", 1, || Pass)
        .shuffle_grouping(&Stream::named("nowhere", DEFAULT_STREAM));
    assert_eq!(
        b.build().err(),
        Some(BuildError::UnknownComponent {
            consumer: "pass".into(),
            producer: "nowhere".into()
        })
    );
}

#[test]
fn cycle_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    let src = b.set_spout("src", 1, || Src);
    let a = b
        .set_bolt("a", 1, || Pass)
        .shuffle_grouping(&src)
        .shuffle_grouping(&Stream::named("b", DEFAULT_STREAM))
        .stream();
    b.set_bolt("b", 1, || Pass).shuffle_grouping(&a);
    match b.build().err() {
        Some(BuildError::Cycle(ids)) => assert_eq!(ids, vec!["a".to_string(), "b".into()]),
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn zero_parallelism_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    b.set_spout("src", 0, || Src);
    assert_eq!(
        b.build().err(),
        Some(BuildError::ZeroParallelism("src".into()))
    );
}

#[test]
fn type_mismatch_by_name_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    b.set_spout("src", 1, || Src);
    b.set_bolt("text", 1, || Text)
        .shuffle_grouping(&Stream::named("src", DEFAULT_STREAM));
    assert!(matches!(b.build(), Err(BuildError::TypeMismatch { .. })));
}

#[test]
fn subscribing_to_an_undeclared_stream_is_rejected() {
    let mut b = TopologyBuilder::new("t");
    let src = b.set_spout("src", 1, || Src);
    let mut pass = b.set_bolt("pass", 1, || Pass).shuffle_grouping(&src);
    let _events = pass.declare_stream("events");
    b.set_bolt("typo", 1, || Pass)
        .shuffle_grouping(&Stream::named("pass", "evnets"));
    assert_eq!(
        b.build().err(),
        Some(BuildError::UndeclaredStream {
            consumer: "typo".into(),
            producer: "pass".into(),
            stream: "evnets".into(),
        })
    );
}

#[test]
fn subscribing_to_a_declared_stream_builds() {
    let mut b = TopologyBuilder::new("t");
    let src = b.set_spout("src", 1, || Src);
    let odd = b.declare_stream(&src, "odd");
    let mut pass = b.set_bolt("pass", 1, || Pass).shuffle_grouping(&odd);
    let events = pass.declare_stream("events");
    b.set_bolt("sink", 1, || Pass).shuffle_grouping(&events);
    assert!(b.build().is_ok());
}

#[test]
fn no_spout_is_rejected() {
    let b = TopologyBuilder::new("t");
    assert_eq!(b.build().err(), Some(BuildError::NoSpout));
}

#[test]
fn order_puts_producers_first() {
    let mut b = TopologyBuilder::new("t");
    let c_in = Stream::<u64>::named("b", DEFAULT_STREAM);
    b.set_bolt("c", 1, || Pass).shuffle_grouping(&c_in);
    let src = b.set_spout("src", 1, || Src);
    b.set_bolt("b", 2, || Pass).shuffle_grouping(&src);
    let t = b.build().unwrap();
    assert_eq!(t.components(), vec![("src", 1), ("b", 2), ("c", 1)]);
}
