//! A tuple whose tree fails long after its message arrived (a timeout), when the spout has
//! already been idle for longer than its idle exit: the spout must still replay it and see it
//! processed before it finishes, and leave nothing unacknowledged with the broker.
//!
//! Each test holds back the first sighting of every value (the tree never completes, so it
//! fails at `message_timeout`, after the idle exit has passed) and passes later ones on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LocalCluster, TopologyBuilder,
};
use squall_connectors::broker::{BrokerSpout, Endpoint};
use squall_connectors::{mqtt, nats, redis as live};
use squall_tests::servers::Server;

use super::{
    assert_no_dead_letters, assert_same_values, consumer_info, jetstream_filled, runtime,
    wait_until, Collect,
};

/// Values published.
const N: u64 = 20;
/// Shorter than the message timeout: the spout is idle long before the trees fail.
const IDLE_EXIT: Duration = Duration::from_millis(400);
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(1);

/// Takes the anchor of a value's first sighting and drops it (its tree can only time out);
/// passes later sightings on. Counts sightings in a map shared by its instances.
#[derive(Clone)]
struct HoldFirst(Arc<Mutex<BTreeMap<u64, u32>>>);

impl Bolt for HoldFirst {
    type Input = u64;
    type Output = u64;

    fn execute(&mut self, v: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        let times = {
            let mut seen = self.0.lock().unwrap();
            let n = seen.entry(v).or_insert(0);
            *n += 1;
            *n
        };
        if times == 1 {
            drop(out.anchor());
            return Ok(());
        }
        out.emit(v);
        Ok(())
    }
}

/// Runs `spout` -> `hold` -> `collect` at at-least-once and checks that every value was held
/// once, replayed, and collected.
fn run_and_check(spout: BrokerSpout<u64>, what: &str) {
    let hold = HoldFirst(Arc::default());
    let seen = hold.0.clone();
    let collected = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(collected.clone());
    let mut b = TopologyBuilder::new("late-fail");
    let input = b.set_spout("in", 1, move || spout.clone());
    let passed = b
        .set_bolt("hold", 1, move || hold.clone())
        .shuffle_grouping(&input)
        .stream();
    b.set_bolt("collect", 1, move || collect.clone())
        .shuffle_grouping(&passed);
    let mut config = Config::default();
    config.guarantee = Guarantee::AtLeastOnce;
    config.message_timeout = MESSAGE_TIMEOUT;
    let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
    assert_no_dead_letters(&report, what);
    let want: BTreeSet<u64> = (1..=N).collect();
    let got: BTreeSet<u64> = collected.lock().unwrap().iter().copied().collect();
    assert_same_values(&got, &want, &format!("{what}: replayed after the timeout"));
    let seen = seen.lock().unwrap().clone();
    assert!(seen.values().all(|&n| n >= 2), "{what}: sightings {seen:?}");
}

#[test]
fn an_mqtt_spout_replays_a_tree_that_times_out_after_it_went_idle() {
    let Some(server) = Server::mosquitto() else {
        return;
    };
    let rt = runtime();
    let _entered = rt.enter();
    rt.block_on(super::mqtt::persistent_session(server.port, "late", "late"));
    rt.block_on(super::mqtt::publish_range(server.port, "late", 1, N));
    let input: Endpoint = server.url("late?client=late").parse().unwrap();
    let spout = mqtt::spout::<u64>(&input)
        .unwrap()
        .with_idle_exit(IDLE_EXIT);
    run_and_check(spout, "mqtt");
}

#[test]
fn a_redis_spout_replays_a_tree_that_times_out_after_it_went_idle() {
    let Some(server) = Server::redis() else {
        return;
    };
    super::redis::add_range(&server, "late", 1, N);
    let input: Endpoint = server.url("late").parse().unwrap();
    let spout = live::spout::<u64>(&input)
        .unwrap()
        .with_idle_exit(IDLE_EXIT);
    run_and_check(spout, "redis");
    let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg("late")
        .arg("squall")
        .query(&mut super::redis::connect(&server))
        .unwrap();
    assert_eq!(pending.0, 0, "redis: entries pending");
}

#[test]
fn a_jetstream_spout_replays_a_tree_that_times_out_after_it_went_idle() {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let js = jetstream_filled(&rt, server.port, "LATE", "late", 1..=N);
    // Both ack policies: cumulative (the client delivers a failed message again) and explicit
    // (the server redelivers a nak'ed one).
    for ack in ["all", "explicit"] {
        let input: Endpoint = server
            .url(&format!("late?stream=LATE&consumer={ack}&ack={ack}"))
            .parse()
            .unwrap();
        let spout = nats::spout::<u64>(&input)
            .unwrap()
            .with_idle_exit(IDLE_EXIT);
        run_and_check(spout, &format!("jetstream, ack={ack}"));
        wait_until(10, "jetstream: nothing pending", || {
            let info = consumer_info(&rt, &js, "LATE", ack);
            (info.num_ack_pending, info.num_pending) == (0, 0)
        });
    }
}
