//! The outbox driven through fake links: credits, linger, ordering, memory.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::transport::message::Payload;

/// What a fake link saw: batch sizes, barriers and end-of-stream, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    Batch(usize),
    Barrier(u64),
    Eos,
    /// A batch carrying watermarks: its size and marks.
    Marked(usize, Vec<(u32, u64)>),
    Watermark(u64),
    Idle,
    Drained,
}

/// A link that records what it is given (shared with the test).
struct FakeLink(Arc<Mutex<Vec<Sent>>>);

impl<T: Send> Link<T> for FakeLink {
    fn send(&mut self, _gen: u64, payload: Payload<T>) {
        let sent = match payload {
            Payload::Batch(b) if !b.marks.is_empty() => Sent::Marked(b.len(), b.marks),
            Payload::Batch(b) => Sent::Batch(b.len()),
            Payload::Encoded(_) => Sent::Batch(0),
            Payload::Barrier(id) => Sent::Barrier(id),
            Payload::Eos => Sent::Eos,
            Payload::Watermark(w) => Sent::Watermark(w),
            Payload::Idle => Sent::Idle,
            Payload::Drained => Sent::Drained,
        };
        self.0.lock().expect("test lock").push(sent);
    }
}

type Log = Arc<Mutex<Vec<Sent>>>;

/// An output of `consumers` tasks behind one edge with `grouping`; the logs of their links.
fn output(
    grouping: Grouping<u64>,
    consumers: usize,
    batch_size: usize,
    credits: usize,
) -> (Output<u64>, Vec<Log>) {
    let logs: Vec<Log> = (0..consumers).map(|_| Log::default()).collect();
    let links = logs
        .iter()
        .map(|l| Box::new(FakeLink(l.clone())) as Box<dyn Link<u64>>)
        .collect();
    let out = Output::single_edge(grouping, links, batch_size, credits);
    (out, logs)
}

fn sent(log: &Log) -> Vec<Sent> {
    log.lock().expect("test lock").clone()
}

fn emit(out: &mut Output<u64>, n: u64) {
    for v in 0..n {
        out.emit(v, 0, None);
    }
}

#[test]
fn credits_block_and_release() {
    let (mut out, logs) = output(Grouping::Global, 1, 2, 1);
    emit(&mut out, 2);
    assert_eq!(sent(&logs[0]), vec![Sent::Batch(2)], "the credit sends it");
    assert!(!out.is_blocked());
    emit(&mut out, 4);
    assert!(out.is_blocked(), "two full batches and no credit left");
    assert_eq!(out.pending(), 2);
    assert_eq!(sent(&logs[0]).len(), 1);
    assert!(!out.credit(0, 0), "one credit drains one of two batches");
    assert!(out.is_blocked());
    assert!(out.credit(0, 0), "the second credit unblocks the task");
    assert_eq!(sent(&logs[0]), vec![Sent::Batch(2); 3]);
    assert!(
        !out.credit(0, 1) && !out.credit(5, 0),
        "unknown links are ignored"
    );
}

#[test]
fn linger_flushes_a_partial_batch() {
    let (mut out, logs) = output(Grouping::Global, 1, 8, 4);
    let t0 = Instant::now();
    let linger = Duration::from_millis(5);
    emit(&mut out, 3);
    out.linger(t0, linger);
    out.linger(t0 + Duration::from_millis(4), linger);
    assert!(
        sent(&logs[0]).is_empty(),
        "within the linger the batch waits"
    );
    out.linger(t0 + linger, linger);
    assert_eq!(sent(&logs[0]), vec![Sent::Batch(3)]);
    // A fresh partial batch waits a full linger again.
    emit(&mut out, 1);
    out.linger(t0 + Duration::from_millis(6), linger);
    assert_eq!(sent(&logs[0]).len(), 1);
    out.linger(t0 + Duration::from_millis(11), linger);
    assert_eq!(sent(&logs[0]), vec![Sent::Batch(3), Sent::Batch(1)]);
}

#[test]
fn barriers_and_end_of_stream_queue_behind_data() {
    let (mut out, logs) = output(Grouping::All, 2, 4, 1);
    emit(&mut out, 4);
    emit(&mut out, 2);
    out.barrier(7);
    emit(&mut out, 1);
    out.finish();
    // Each link sent its first batch; the partial batch, the barrier, the next batch and
    // end-of-stream wait for credit, in that order.
    for log in &logs {
        assert_eq!(sent(log), vec![Sent::Batch(4)]);
    }
    assert!(!out.is_drained());
    out.credit(0, 0);
    assert!(!out.is_drained(), "the other link still waits");
    out.credit(0, 0);
    out.credit(0, 1);
    assert!(out.credit(0, 1));
    assert!(out.is_drained());
    let want = vec![
        Sent::Batch(4),
        Sent::Batch(2),
        Sent::Barrier(7),
        Sent::Batch(1),
        Sent::Eos,
    ];
    for log in &logs {
        assert_eq!(sent(log), want);
    }
}

#[test]
fn a_fan_out_into_a_consumer_without_credit_stays_within_the_bound() {
    // One input emits 1,000 tuples; the consumer never returns a credit. A task takes no
    // more input once its output is blocked (the executors' contract), so what waits is one
    // input's fan-out, however large the input batch.
    const FAN_OUT: usize = 1_000;
    let (batch_size, credits) = (64, 2);
    let (mut out, _logs) = output(Grouping::Global, 1, batch_size, credits);
    let mut taken = 0;
    for _input in 0..1_024 {
        if out.is_blocked() {
            break;
        }
        taken += 1;
        emit(&mut out, FAN_OUT as u64);
    }
    let bound = FAN_OUT.div_ceil(batch_size) + 1;
    assert_eq!(taken, 1, "blocked after the first input's fan-out");
    assert!(out.pending() <= bound, "{} > {bound}", out.pending());
    // Flushing (the task going idle) adds at most the open batch.
    out.flush();
    assert!(out.pending() <= bound, "{} > {bound}", out.pending());
}

#[test]
fn batch_buffers_are_allocated_only_for_links_in_use() {
    let (mut out, logs) = output(Grouping::Global, 100, 16, 4);
    assert_eq!(
        out.allocated_lanes(),
        0,
        "nothing allocated before the first tuple"
    );
    emit(&mut out, 3);
    assert_eq!(
        out.allocated_lanes(),
        1,
        "a global grouping uses one of 100 links"
    );
    out.flush();
    assert_eq!(
        out.allocated_lanes(),
        0,
        "a sent batch leaves no buffer behind"
    );
    assert_eq!(sent(&logs[0]), vec![Sent::Batch(3)]);
    assert!(logs[1..].iter().all(|l| sent(l).is_empty()));
}

#[test]
fn a_rollback_drops_what_waits_and_unblocks() {
    let (mut out, logs) = output(Grouping::Global, 1, 2, 0);
    emit(&mut out, 5);
    assert!(out.is_blocked());
    out.reset(1);
    assert!(!out.is_blocked() && out.pending() == 0);
    out.flush();
    assert!(sent(&logs[0]).is_empty(), "the open batch was dropped too");
}

#[test]
fn watermarks_ride_with_batches_or_alone_and_precisely_before_late_tuples() {
    let (mut out, logs) = output(Grouping::Shuffle, 2, 4, 8);
    // Lane 0 gets tuples 1 and 3, lane 1 gets 2.
    out.emit(1, 0, None);
    out.set_watermark(10);
    out.emit(2, 0, None);
    out.set_precise(true);
    out.emit(3, 0, None);
    out.set_precise(false);
    out.set_watermark(20);
    out.flush();
    assert_eq!(
        logs[0].lock().unwrap().clone(),
        vec![Sent::Marked(2, vec![(1, 10), (2, 20)])],
        "a precise emit carries the watermark in front; the batch carries the last at its end"
    );
    assert_eq!(
        logs[1].lock().unwrap().clone(),
        vec![Sent::Marked(1, vec![(1, 20)])]
    );
    out.set_watermark(30);
    out.sync_watermark();
    out.idle();
    for log in &logs {
        let sent = log.lock().unwrap().clone();
        assert_eq!(
            sent[1..],
            [Sent::Watermark(30), Sent::Idle],
            "alone, with no batch open"
        );
    }
}

/// A default stream of `u64` (edge 0, one consumer) and a named stream `"words"` of `String`
/// (edge 1, two consumers, shuffled): the logs of the default link and of the words links.
fn with_side(batch_size: usize, credits: usize) -> (Output<u64>, Log, Vec<Log>) {
    let main_log = Log::default();
    let main = OutEdge {
        id: 0,
        grouping: Grouping::Global,
        links: vec![Box::new(FakeLink(main_log.clone())) as Box<dyn Link<u64>>],
        target_workers: vec![0],
    };
    let side_logs: Vec<Log> = (0..2).map(|_| Log::default()).collect();
    let side = OutEdge {
        id: 1,
        grouping: Grouping::<String>::Shuffle,
        links: side_logs
            .iter()
            .map(|l| Box::new(FakeLink(l.clone())) as Box<dyn Link<String>>)
            .collect(),
        target_workers: vec![0, 0],
    };
    let words: Box<dyn AnySide> =
        Box::new(StreamOut::new("words".into(), vec![side], 0, 0, credits));
    let out = Output::new(vec![main], vec![words], 0, 0, batch_size, credits, false);
    (out, main_log, side_logs)
}

#[test]
fn a_typed_named_stream_has_its_own_lanes_credits_and_control() {
    let (mut out, main, side) = with_side(2, 1);
    out.emit(7, 0, None);
    for w in ["a", "b", "c", "d", "e", "f"] {
        out.emit_to("words", w.to_string(), 0, None).unwrap();
    }
    assert_eq!(out.emitted, 7);
    // Shuffled over two consumers: three words each, a batch of two sent, then one pending
    // batch of one after the flush for lack of credit.
    out.flush();
    assert_eq!(sent(&main), vec![Sent::Batch(1)]);
    for log in &side {
        assert_eq!(sent(log), vec![Sent::Batch(2)]);
    }
    assert!(out.is_blocked(), "the words links wait for credit");
    assert!(
        !out.credit(1, 0),
        "consumer 1 of the words edge still waits"
    );
    assert!(
        out.credit(1, 1),
        "the words edge's credits unblock the task"
    );
    assert!(!out.credit(0, 0), "edge 0's credit is the default stream's");
    out.set_watermark(5);
    out.barrier(3);
    assert_eq!(
        sent(&main),
        vec![Sent::Batch(1), Sent::Watermark(5), Sent::Barrier(3)]
    );
    for log in &side {
        assert_eq!(
            sent(log),
            vec![
                Sent::Batch(2),
                Sent::Batch(1),
                Sent::Watermark(5),
                Sent::Barrier(3)
            ]
        );
    }
}

#[test]
fn emits_on_undeclared_or_mistyped_streams_are_refused() {
    let (mut out, _, side) = with_side(1, 4);
    let err = out.emit_to("wrods", "x".to_string(), 0, None).unwrap_err();
    assert_eq!(err.stream, "wrods");
    let err = out.emit_to("words", 3u64, 0, None).unwrap_err();
    assert_eq!((err.stream.as_str(), err.type_name), ("words", "u64"));
    assert_eq!(out.emitted, 0);
    assert!(side.iter().all(|l| sent(l).is_empty()));
    out.emit_to(DEFAULT_STREAM, 9u64, 0, None).unwrap();
    assert_eq!(
        out.emitted, 1,
        "the default stream by name is the default stream"
    );
}

#[test]
fn direct_emits_reach_the_chosen_task_of_a_named_stream() {
    let (mut out, _, _) = with_side(1, 4);
    let err = out.emit_direct_to("words", 0, "x".to_string(), 0, None);
    assert_eq!(
        err,
        Err(DirectEmitError::NoDirectConsumer("words".into())),
        "a shuffled stream has no direct consumer"
    );
}

/// A link that drops what it is given: the outbox's own cost, alone.
struct NullLink;

impl<T: Send> Link<T> for NullLink {
    fn send(&mut self, _gen: u64, payload: Payload<T>) {
        std::hint::black_box(payload);
    }
}

/// Nanoseconds per emit, default stream and named stream, each shuffled over four lanes.
/// Run with `cargo test --release -p squall --lib emit_cost -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn emit_cost() {
    const N: u64 = 50_000_000;
    let edge = |id| OutEdge {
        id,
        grouping: Grouping::<u64>::Shuffle,
        links: (0..4)
            .map(|_| Box::new(NullLink) as Box<dyn Link<u64>>)
            .collect(),
        target_workers: vec![0; 4],
    };
    let credits = usize::MAX / 2;
    let side: Box<dyn AnySide> = Box::new(StreamOut::new("s".into(), vec![edge(1)], 0, 0, credits));
    let mut out = Output::new(vec![edge(0)], vec![side], 0, 0, 1024, credits, false);
    for round in 0..3 {
        let t = Instant::now();
        for v in 0..N {
            out.emit(std::hint::black_box(v), 1, None);
        }
        let plain = t.elapsed().as_nanos() as f64 / N as f64;
        let t = Instant::now();
        for v in 0..N {
            out.emit_to(std::hint::black_box("s"), std::hint::black_box(v), 1, None)
                .unwrap();
        }
        let named = t.elapsed().as_nanos() as f64 / N as f64;
        println!("round {round}: emit {plain:.2} ns, emit_to {named:.2} ns");
    }
}
