//! Exactly-once, a JetStream message waits for the commit of a checkpoint before it is acked.
//! When that takes longer than the consumer's ack wait (a loaded machine, rollbacks), the
//! server redelivers messages the spout has already emitted: the spout must not emit them
//! again, or the state counts them twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, State, TopologyBuilder,
};
use squall_connectors::broker::Endpoint;
use squall_connectors::nats;
use squall_tests::servers::Server;

use super::{consumer_info, jetstream_filled, runtime};

/// The server redelivers what is not acked within this.
const ACK_WAIT: Duration = Duration::from_millis(300);
/// Each snapshot takes this long, so no checkpoint completes within the ack wait.
const SLOW_SNAPSHOT: Duration = Duration::from_millis(900);

/// Keeps every value it executes in its state; publishes them at `finish`.
struct Keep {
    values: Vec<u64>,
    output: Arc<Mutex<Vec<u64>>>,
}

impl Bolt for Keep {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.values.push(n);
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        *self.output.lock().unwrap() = self.values.clone();
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        std::thread::sleep(SLOW_SNAPSHOT);
        Ok(Some(State::encode(&self.values)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.values = state.decode()?;
        Ok(())
    }
}

/// Runs a one-task JetStream spout on consumer `?ack=` `ack` into [`Keep`], exactly-once;
/// returns the kept values, sorted.
fn run(server: &Server, ack: &str) -> Vec<u64> {
    let input: Endpoint = server
        .url(&format!("in?stream=IN&ack={ack}"))
        .parse()
        .unwrap();
    let spout = nats::jetstream_spout::<u64>(&input, ACK_WAIT)
        .unwrap()
        .with_idle_exit(Duration::from_secs(2));
    let output = Arc::new(Mutex::new(Vec::new()));
    let out = output.clone();
    let mut b = TopologyBuilder::new("jetstream-ack-wait");
    let numbers = b.set_spout("in", 1, move || spout.clone());
    b.set_bolt("keep", 1, move || Keep {
        values: Vec::new(),
        output: out.clone(),
    })
    .shuffle_grouping(&numbers);
    let mut config = Config::default();
    config.guarantee = Guarantee::ExactlyOnce;
    config.checkpoint_interval = Duration::from_millis(20);
    LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    let mut got = output.lock().unwrap().clone();
    got.sort_unstable();
    got
}

fn each_message_counts_once_although_the_server_redelivers_it(ack: &str) {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let n = 500u64;
    let js = jetstream_filled(&rt, server.port, "IN", "in", 1..=n);
    assert_eq!(run(&server, ack), (1..=n).collect::<Vec<_>>());
    let info = consumer_info(&rt, &js, "IN", "squall");
    assert!(
        info.delivered.consumer_sequence > n,
        "the server never redelivered: the test did not test"
    );
    assert_eq!((info.num_ack_pending, info.num_pending), (0, 0));
}

#[test]
fn a_message_redelivered_after_the_ack_wait_counts_once_with_cumulative_acks() {
    each_message_counts_once_although_the_server_redelivers_it("all");
}

#[test]
fn a_message_redelivered_after_the_ack_wait_counts_once_with_explicit_acks() {
    each_message_counts_once_although_the_server_redelivers_it("explicit");
}
