//! Broker spouts under exactly-once: JetStream, MQTT and Redis inputs into a stateful counting
//! bolt, with seeded chaos panics that roll the topology back, give exactly the counts of what
//! was published (the oracle, computed here), and leave nothing unacknowledged at the broker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use squall::{
    Bolt, BoltCollector, Chaos, ComponentError, Config, Guarantee, LocalCluster, RunReport, State,
    Supervision, TopologyBuilder,
};
use squall_connectors::broker::Endpoint;
use squall_connectors::{mqtt, nats, redis as live};
use squall_tests::servers::Server;

use super::{runtime, wait_until};

/// Messages per input.
const N: u64 = 1500;
const KEYS: u64 = 7;
/// The MQTT spout's client id: its persistent session holds what it has not acknowledged.
const MQTT_CLIENT: &str = "eo-spout";

/// Per key: how many values and their sum.
type Counts = BTreeMap<u64, (u64, u64)>;

/// Keyed state: count and sum per key, snapshotted and restored; published at `finish`.
struct Count {
    counts: Counts,
    output: Arc<Mutex<Counts>>,
}

impl Bolt for Count {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        let (count, sum) = self.counts.entry(n % KEYS).or_default();
        *count += 1;
        *sum += n;
        Ok(())
    }
    fn finish(&mut self, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        // A task revived by a rollback finishes again: the last finish holds.
        let mut output = self.output.lock().unwrap();
        output.extend(self.counts.iter().map(|(k, v)| (*k, *v)));
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Option<State>, ComponentError> {
        Ok(Some(State::encode(&self.counts)?))
    }
    fn restore(&mut self, state: State) -> Result<(), ComponentError> {
        self.counts = state.decode()?;
        Ok(())
    }
}

fn oracle(values: impl Iterator<Item = u64>) -> Counts {
    let mut counts = Counts::new();
    for n in values {
        let (count, sum) = counts.entry(n % KEYS).or_default();
        *count += 1;
        *sum += n;
    }
    counts
}

/// The three brokers, each with its input published: JetStream `1..=N`, MQTT `N+1..=2N`,
/// Redis `2N+1..=3N`.
struct Brokers {
    nats: Server,
    mosquitto: Server,
    redis: Server,
    rt: tokio::runtime::Runtime,
}

impl Brokers {
    fn start() -> Option<Brokers> {
        let b = Brokers {
            nats: Server::nats()?,
            mosquitto: Server::mosquitto()?,
            redis: Server::redis()?,
            rt: runtime(),
        };
        b.publish_jetstream(1..=N);
        b.publish_mqtt(N + 1..=2 * N);
        b.publish_redis(2 * N + 1..=3 * N);
        Some(b)
    }

    fn publish_jetstream(&self, values: std::ops::RangeInclusive<u64>) {
        let port = self.nats.port;
        let _entered = self.rt.enter();
        self.rt.block_on(async {
            let client = async_nats::connect(format!("127.0.0.1:{port}"))
                .await
                .unwrap();
            let js = async_nats::jetstream::new(client);
            js.get_or_create_stream(async_nats::jetstream::stream::Config {
                name: "IN".into(),
                subjects: vec!["in".into()],
                ..Default::default()
            })
            .await
            .unwrap();
            let mut acks = Vec::new();
            for n in values {
                acks.push(js.publish("in", n.to_string().into()).await.unwrap());
            }
            for ack in acks {
                ack.await.unwrap();
            }
        });
    }

    /// Creates the spout's persistent session first (so it keeps what is published), then
    /// publishes with QoS 1 and waits for every PUBACK.
    fn publish_mqtt(&self, values: std::ops::RangeInclusive<u64>) {
        let port = self.mosquitto.port;
        let _entered = self.rt.enter();
        self.rt.block_on(async {
            let mut o = MqttOptions::new(MQTT_CLIENT, "127.0.0.1", port);
            o.set_clean_session(false);
            let (c, mut events) = AsyncClient::new(o, 10);
            c.subscribe("in", QoS::AtLeastOnce).await.unwrap();
            while !matches!(
                events.poll().await.unwrap(),
                Event::Incoming(Packet::SubAck(_))
            ) {}
            c.disconnect().await.unwrap();
            let _ = events.poll().await;

            let (p, mut events) =
                AsyncClient::new(MqttOptions::new("producer", "127.0.0.1", port), 4096);
            let mut sent = 0;
            for n in values {
                p.publish("in", QoS::AtLeastOnce, false, n.to_string())
                    .await
                    .unwrap();
                sent += 1;
            }
            let mut acked = 0;
            while acked < sent {
                if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
                    acked += 1;
                }
            }
        });
    }

    fn publish_redis(&self, values: std::ops::RangeInclusive<u64>) {
        let mut c = self.redis_connection();
        for n in values {
            let _: String = redis::cmd("XADD")
                .arg("in")
                .arg("*")
                .arg("payload")
                .arg(n.to_string())
                .query(&mut c)
                .unwrap();
        }
    }

    fn redis_connection(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.redis.port))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// Runs the three spouts into `counters` counting tasks; returns the counts and the report.
    fn run(&self, counters: usize, config: Config) -> (Counts, RunReport) {
        // Longer than a checkpoint takes, shorter than the idle exit: what a replaced client
        // had fetched and never handed over comes back within the run.
        let ack_wait = Duration::from_secs(1);
        let idle = Duration::from_secs(3);
        let js: Endpoint = self.nats.url("in?stream=IN").parse().unwrap();
        let js = nats::jetstream_spout::<u64>(&js, ack_wait)
            .unwrap()
            .with_idle_exit(idle);
        let mq: Endpoint = self
            .mosquitto
            .url(&format!("in?client={MQTT_CLIENT}"))
            .parse()
            .unwrap();
        let mq = mqtt::spout::<u64>(&mq).unwrap().with_idle_exit(idle);
        let rd: Endpoint = self.redis.url("in").parse().unwrap();
        let rd = live::spout::<u64>(&rd).unwrap().with_idle_exit(idle);

        let output = Arc::new(Mutex::new(Counts::new()));
        let mut b = TopologyBuilder::new("broker-exactly-once");
        let from_js = b.set_spout("jetstream", 1, move || js.clone());
        let from_mq = b.set_spout("mqtt", 1, move || mq.clone());
        let from_rd = b.set_spout("redis", 1, move || rd.clone());
        let out = output.clone();
        b.set_bolt("count", counters, move || Count {
            counts: Counts::new(),
            output: out.clone(),
        })
        .fields_grouping(&from_js, |n: &u64| n % KEYS)
        .fields_grouping(&from_mq, |n: &u64| n % KEYS)
        .fields_grouping(&from_rd, |n: &u64| n % KEYS);
        let report = LocalCluster::new(config).run(b.build().unwrap()).unwrap();
        let counts = output.lock().unwrap().clone();
        (counts, report)
    }

    /// Nothing is left unacknowledged: JetStream's consumer has nothing pending, Redis's group
    /// has no pending entry, and the MQTT session redelivers nothing before a message published
    /// now.
    fn assert_settled(&self) {
        let _entered = self.rt.enter();
        let port = self.nats.port;
        let client = self
            .rt
            .block_on(async_nats::connect(format!("127.0.0.1:{port}")))
            .unwrap();
        let js = async_nats::jetstream::new(client);
        let pending = || {
            self.rt.block_on(async {
                let stream = js.get_stream("IN").await.unwrap();
                let mut consumer = stream
                    .get_consumer::<async_nats::jetstream::consumer::pull::Config>("squall")
                    .await
                    .unwrap();
                let info = consumer.info().await.unwrap();
                (info.num_ack_pending, info.num_pending)
            })
        };
        // Acks are fire-and-forget publishes: give the server a moment to apply the last.
        wait_until(10, "JetStream to have nothing pending", || {
            pending() == (0, 0)
        });

        let mut c = self.redis_connection();
        let summary: redis::Value = redis::cmd("XPENDING")
            .arg("in")
            .arg("squall")
            .query(&mut c)
            .unwrap();
        let redis::Value::Array(fields) = summary else {
            panic!("XPENDING: {summary:?}");
        };
        assert_eq!(fields.first(), Some(&redis::Value::Int(0)), "Redis pending");

        let port = self.mosquitto.port;
        let before = self.rt.block_on(async {
            let (p, mut events) =
                AsyncClient::new(MqttOptions::new("sentinel", "127.0.0.1", port), 10);
            p.publish("in", QoS::AtLeastOnce, false, "0").await.unwrap();
            while !matches!(
                events.poll().await.unwrap(),
                Event::Incoming(Packet::PubAck(_))
            ) {}
            let mut o = MqttOptions::new(MQTT_CLIENT, "127.0.0.1", port);
            o.set_clean_session(false);
            let (c, mut events) = AsyncClient::new(o, 10);
            let mut before = Vec::new();
            loop {
                if let Event::Incoming(Packet::Publish(p)) = events.poll().await.unwrap() {
                    c.ack(&p).await.unwrap();
                    if p.payload.as_ref() == b"0" {
                        break;
                    }
                    before.push(String::from_utf8_lossy(&p.payload).into_owned());
                }
            }
            before
        });
        assert!(before.is_empty(), "MQTT redelivered {before:?}");
    }
}

fn config(chaos: Option<u64>) -> Config {
    let mut config = Config::default();
    config.workers = 2;
    config.guarantee = Guarantee::ExactlyOnce;
    config.checkpoint_interval = Duration::from_millis(20);
    if let Some(seed) = chaos {
        config.chaos = Some(Chaos {
            panic_rate: 0.005,
            seed,
        });
        config.supervision = Supervision::for_chaos();
    }
    config
}

#[test]
fn without_failures_the_counts_are_exact_and_every_message_is_acknowledged() {
    let Some(brokers) = Brokers::start() else {
        return;
    };
    let (counts, report) = brokers.run(2, config(None));
    assert_eq!(report.restarts(), 0);
    assert_eq!(counts, oracle(1..=3 * N));
    brokers.assert_settled();
}

#[test]
fn under_chaos_the_counts_are_exact_and_every_message_is_acknowledged() {
    for seed in SEEDS {
        let Some(brokers) = Brokers::start() else {
            return;
        };
        let (counts, report) = brokers.run(2, config(Some(seed)));
        assert!(report.rollbacks > 0, "seed {seed}: chaos never struck");
        assert_eq!(
            counts,
            oracle(1..=3 * N),
            "seed {seed}: {} rollbacks",
            report.rollbacks
        );
        brokers.assert_settled();
    }
}

/// Chaos seeds: each makes a few dozen rollbacks, some before the first checkpoint completes
/// (every task, spouts included, starts over as a new instance).
const SEEDS: [u64; 3] = [3, 5, 8];
