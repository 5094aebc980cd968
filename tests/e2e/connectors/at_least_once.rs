//! Broker spouts at at-least-once under injected failures (MQTT, JetStream, Redis streams).
//!
//! Each test publishes `1..=N` with an independent client, then runs spout -> `flaky` ->
//! `collect` at parallelism 1 and 2 for the bolts, with two kinds of failure at once:
//! `flaky` returns `Err` the first time it sees a multiple of 7 (so the spout's `fail` must
//! replay it), and seeded chaos panics strike both bolts. The oracle is the published set:
//! every value reaches `collect` at least once, every multiple of 7 reached `flaky` twice or
//! more, and afterwards the broker holds nothing unacknowledged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use squall::{
    Bolt, BoltCollector, Chaos, ComponentError, Config, Guarantee, LocalCluster, RunReport,
    Supervision, TopologyBuilder,
};
use squall_connectors::broker::{BrokerSpout, Endpoint};
use squall_connectors::{mqtt, nats, redis as live};
use squall_tests::servers::Server;

use super::{
    assert_no_dead_letters, assert_same_values, consumer_info, jetstream_filled, runtime,
    wait_until, Collect,
};

/// Values published per run.
const N: u64 = 300;
/// Chaos panics per executed tuple, per bolt.
const CHAOS_RATE: f64 = 0.02;
/// Parallelisms of the processing bolts.
const PARALLELISMS: [usize; 2] = [1, 2];
/// A spout ends once it has seen nothing this long and every tuple it emitted is settled.
const IDLE_EXIT: Duration = Duration::from_millis(1500);

/// The values `flaky` fails the first time it sees them.
fn fails_first(v: u64) -> bool {
    v % 7 == 0
}

/// Counts how often it sees each value (in a map shared by its tasks and their restarts) and
/// returns `Err` for a [`fails_first`] value seen for the first time; passes the rest on.
#[derive(Clone)]
struct Flaky(Arc<Mutex<BTreeMap<u64, u32>>>);

impl Bolt for Flaky {
    type Input = u64;
    type Output = u64;

    fn execute(&mut self, v: u64, out: &mut BoltCollector<'_, u64>) -> Result<(), ComponentError> {
        let times = {
            let mut seen = self.0.lock().unwrap();
            let n = seen.entry(v).or_insert(0);
            *n += 1;
            *n
        };
        if times == 1 && fails_first(v) {
            return Err(format!("{v} fails the first time").into());
        }
        out.emit(v);
        Ok(())
    }
}

/// At-least-once with acking, seeded chaos panics, and restarts that never give up.
fn config(seed: u64) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = Guarantee::AtLeastOnce;
    config.chaos = Some(Chaos {
        panic_rate: CHAOS_RATE,
        seed,
    });
    config.supervision = Supervision::for_chaos();
    // A tree lost without a rollback fails after this long, well within the test.
    config.message_timeout = Duration::from_secs(5);
    config.max_tuple_attempts = 20;
    config
}

/// Runs `spout` -> `flaky` -> `collect` (bolts at `parallelism`) and checks the run against
/// the oracle `1..=N`.
fn run_and_check(spout: BrokerSpout<u64>, parallelism: usize, what: &str) {
    let flaky = Flaky(Arc::default());
    let seen = flaky.0.clone();
    let collected = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(collected.clone());
    let mut b = TopologyBuilder::new("at-least-once");
    let input = b.set_spout("in", 1, move || spout.clone());
    let passed = b
        .set_bolt("flaky", parallelism, move || flaky.clone())
        .shuffle_grouping(&input)
        .stream();
    b.set_bolt("collect", parallelism, move || collect.clone())
        .shuffle_grouping(&passed);
    let report: RunReport = LocalCluster::new(config(40 + parallelism as u64))
        .run(b.build().unwrap())
        .unwrap_or_else(|e| panic!("{what}: the run must complete despite failures: {e}"));

    let collected = collected.lock().unwrap().clone();
    let got: BTreeSet<u64> = collected.iter().copied().collect();
    let want: BTreeSet<u64> = (1..=N).collect();
    assert_same_values(
        &got,
        &want,
        &format!("{what}: every published value at the collector"),
    );
    let seen = seen.lock().unwrap().clone();
    let not_replayed: Vec<u64> = (1..=N)
        .filter(|&v| fails_first(v) && seen.get(&v).copied().unwrap_or(0) < 2)
        .collect();
    assert!(
        not_replayed.is_empty(),
        "{what}: failed and never replayed: {not_replayed:?}"
    );
    assert_no_dead_letters(&report, what);
    assert!(report.restarts() > 0, "{what}: chaos never struck");
    let spout_fails = report.component("in").unwrap().failed;
    let planned = (1..=N).filter(|&v| fails_first(v)).count() as u64;
    assert!(
        spout_fails >= planned,
        "{what}: the spout saw {spout_fails} fails, fewer than the {planned} planned"
    );
}

#[test]
fn an_mqtt_spout_replays_failed_and_crashed_tuples_and_leaves_nothing_unacked() {
    let Some(server) = Server::mosquitto() else {
        return;
    };
    let rt = runtime();
    let _entered = rt.enter();
    for p in PARALLELISMS {
        let (topic, client) = (format!("in/{p}"), format!("alo-spout-{p}"));
        // The spout's persistent session exists before anything is published.
        rt.block_on(async {
            let mut o = MqttOptions::new(&client, "127.0.0.1", server.port);
            o.set_clean_session(false);
            let (c, mut events) = AsyncClient::new(o, 10);
            c.subscribe(&topic, QoS::AtLeastOnce).await.unwrap();
            while !matches!(
                events.poll().await.unwrap(),
                Event::Incoming(Packet::SubAck(_))
            ) {}
            c.disconnect().await.unwrap();
            let _ = events.poll().await;

            let o = MqttOptions::new(format!("alo-producer-{p}"), "127.0.0.1", server.port);
            let (producer, mut events) = AsyncClient::new(o, 1000);
            for v in 1..=N {
                producer
                    .publish(&topic, QoS::AtLeastOnce, false, v.to_string())
                    .await
                    .unwrap();
            }
            let mut acked = 0;
            while acked < N {
                if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
                    acked += 1;
                }
            }
        });
        let input: Endpoint = server
            .url(&format!("{topic}?client={client}"))
            .parse()
            .unwrap();
        let what = format!("mqtt, parallelism {p}");
        run_and_check(
            mqtt::spout::<u64>(&input)
                .unwrap()
                .with_idle_exit(IDLE_EXIT),
            p,
            &what,
        );

        // Every message was PUBACKed: the session gives a second run on it nothing.
        let again = Arc::new(Mutex::new(Vec::<u64>::new()));
        let collect = Collect(again.clone());
        let spout = mqtt::spout::<u64>(&input)
            .unwrap()
            .with_idle_exit(IDLE_EXIT);
        let mut b = TopologyBuilder::new("mqtt-after");
        let numbers = b.set_spout("in", 1, move || spout.clone());
        b.set_bolt("collect", 1, move || collect.clone())
            .shuffle_grouping(&numbers);
        let mut config = Config::default();
        config.guarantee = Guarantee::AtLeastOnce;
        LocalCluster::new(config).run(b.build().unwrap()).unwrap();
        assert_eq!(
            *again.lock().unwrap(),
            Vec::<u64>::new(),
            "{what}: redelivered by the session"
        );
    }
}

#[test]
fn a_jetstream_spout_replays_failed_and_crashed_tuples_and_leaves_nothing_unacked() {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let js = jetstream_filled(&rt, server.port, "IN", "in", 1..=N);
    for p in PARALLELISMS {
        // A durable consumer per run, each reading the whole stream.
        let consumer = format!("alo-{p}");
        let input: Endpoint = server
            .url(&format!("in?stream=IN&consumer={consumer}"))
            .parse()
            .unwrap();
        let what = format!("jetstream, parallelism {p}");
        run_and_check(
            nats::spout::<u64>(&input)
                .unwrap()
                .with_idle_exit(IDLE_EXIT),
            p,
            &what,
        );
        // The server processes acks on its own schedule: wait for it, not for a fixed time.
        wait_until(
            10,
            &format!("{what}: nothing pending in {consumer}"),
            || {
                let info = consumer_info(&rt, &js, "IN", &consumer);
                (info.num_ack_pending, info.num_pending) == (0, 0)
            },
        );
    }
    // The stream itself is untouched: still N messages.
    let mut stream = rt.block_on(js.get_stream("IN")).unwrap();
    let messages = rt.block_on(stream.info()).unwrap().state.messages;
    assert_eq!(messages, N);
}

#[test]
fn a_redis_spout_replays_failed_and_crashed_tuples_and_leaves_nothing_pending() {
    let Some(server) = Server::redis() else {
        return;
    };
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{}/", server.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let mut pipe = redis::pipe();
    for v in 1..=N {
        pipe.cmd("XADD")
            .arg("in")
            .arg("*")
            .arg("payload")
            .arg(v.to_string())
            .ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    for p in PARALLELISMS {
        // A consumer group per run, each reading the whole stream.
        let group = format!("alo-{p}");
        let input: Endpoint = server.url(&format!("in?group={group}")).parse().unwrap();
        let what = format!("redis, parallelism {p}");
        run_and_check(
            live::spout::<u64>(&input)
                .unwrap()
                .with_idle_exit(IDLE_EXIT),
            p,
            &what,
        );
        let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
            .arg("in")
            .arg(&group)
            .query(&mut c)
            .unwrap();
        assert_eq!(pending.0, 0, "{what}: entries pending in group {group}");
    }
}
