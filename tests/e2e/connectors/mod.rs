//! Connectors against real brokers: each test starts its own server (see
//! `squall_tests::servers`), publishes with an independent client, runs a topology through the
//! connector under test, and checks what arrived against what was sent.

mod at_least_once;
mod exactly_once;
mod jetstream_ack_wait;
mod jetstream_acks;
mod late_fail;
mod live_sensor;
mod mqtt;
mod nats;
mod postgres;
mod redis;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::{Bolt, BoltCollector, ComponentError, RunReport, Spout, SpoutCollector, Tuple};

/// A sink that keeps every tuple it executes.
pub struct Collect<T>(pub Arc<Mutex<Vec<T>>>);

impl<T> Clone for Collect<T> {
    fn clone(&self) -> Self {
        Collect(self.0.clone())
    }
}

impl<T: Tuple> Bolt for Collect<T> {
    type Input = T;
    type Output = ();

    fn execute(&mut self, t: T, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.0.lock().unwrap().push(t);
        Ok(())
    }
}

/// A runtime for the tests' own clients (entered by the caller where a client spawns tasks).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `done` until it holds, panicking with `what` after `secs` seconds.
pub fn wait_until(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A bounded spout emitting the given values, in order, from task 0.
pub struct VecSpout<T>(pub Vec<T>);

impl<T: Tuple> Spout for VecSpout<T> {
    type Output = T;

    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, T>) -> Result<(), ComponentError> {
        for v in self.0.drain(..self.0.len().min(64)) {
            out.emit(v);
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.0.is_empty()
    }
}

/// Asserts `got == want`, naming a few of the values missing and unexpected (not all of them:
/// the sets are thousands long).
pub fn assert_same_values(got: &BTreeSet<u64>, want: &BTreeSet<u64>, what: &str) {
    let missing: Vec<u64> = want.difference(got).copied().collect();
    let extra: Vec<u64> = got.difference(want).copied().collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: {} missing (first {:?}), {} unexpected (first {:?})",
        missing.len(),
        &missing[..missing.len().min(10)],
        extra.len(),
        &extra[..extra.len().min(10)]
    );
}

/// Asserts that a run gave up on nothing: a tuple in the dead letters was acknowledged to its
/// broker without reaching every bolt.
pub fn assert_no_dead_letters(report: &RunReport, what: &str) {
    let first = report
        .dead_letters
        .first()
        .map(|d| format!("{}[{}]: {}", d.component, d.task, d.error));
    assert!(
        report.dead_letters.is_empty(),
        "{what}: {} dead letters, the first {first:?}",
        report.dead_letters.len()
    );
}

/// A JetStream context on the server at `port`, with stream `stream` capturing `subject` made
/// and holding `values` as text, each publish confirmed.
pub fn jetstream_filled(
    rt: &tokio::runtime::Runtime,
    port: u16,
    stream: &str,
    subject: &str,
    values: impl IntoIterator<Item = u64>,
) -> async_nats::jetstream::Context {
    rt.block_on(async {
        let client = async_nats::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: stream.into(),
            subjects: vec![subject.into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let mut acks = Vec::new();
        for v in values {
            acks.push(
                js.publish(subject.to_string(), v.to_string().into())
                    .await
                    .unwrap(),
            );
        }
        for a in acks {
            a.await.unwrap();
        }
        js
    })
}

/// The server's view of durable consumer `name` on `stream`.
pub fn consumer_info(
    rt: &tokio::runtime::Runtime,
    js: &async_nats::jetstream::Context,
    stream: &str,
    name: &str,
) -> async_nats::jetstream::consumer::Info {
    rt.block_on(async {
        let stream = js.get_stream(stream).await.unwrap();
        let mut c: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer(name).await.unwrap();
        c.info().await.unwrap().clone()
    })
}
