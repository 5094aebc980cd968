//! MQTT spout and sink: QoS 1, a persistent session that keeps what a stopped spout left, and
//! a broker restart mid-run.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use squall::{Config, Guarantee, LocalCluster, TopologyBuilder};
use squall_connectors::broker::Endpoint;
use squall_connectors::{mqtt, Malformed};
use squall_tests::servers::Server;

use super::{assert_no_dead_letters, assert_same_values, runtime, Collect};

#[test]
fn a_stopped_spout_leaves_the_rest_to_its_persistent_session_and_the_sink_delivers_all() {
    let Some(server) = Server::mosquitto() else {
        return;
    };
    let rt = runtime();
    let _entered = rt.enter();
    // The output's subscriber, and the spout's session (subscribed before anything is sent).
    let received = Arc::new(Mutex::new(Vec::<u64>::new()));
    let (sub, mut sub_events) =
        AsyncClient::new(MqttOptions::new("checker", "127.0.0.1", server.port), 10);
    let got = received.clone();
    rt.spawn(async move {
        while let Ok(e) = sub_events.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = e {
                let n = std::str::from_utf8(&p.payload).unwrap().parse().unwrap();
                got.lock().unwrap().push(n);
            }
        }
    });
    rt.block_on(sub.subscribe("out", QoS::AtLeastOnce)).unwrap();
    rt.block_on(async {
        let mut o = MqttOptions::new("numbers-spout", "127.0.0.1", server.port);
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
            AsyncClient::new(MqttOptions::new("producer", "127.0.0.1", server.port), 1000);
        let mut sent = 0;
        for n in 1..=300u64 {
            p.publish("in", QoS::AtLeastOnce, false, n.to_string())
                .await
                .unwrap();
            sent += 1;
            if n % 100 == 0 {
                p.publish("in", QoS::AtLeastOnce, false, "oops")
                    .await
                    .unwrap();
                sent += 1;
            }
        }
        let mut acked = 0;
        while acked < sent {
            if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
                acked += 1;
            }
        }
    });

    let input: Endpoint = server.url("in?client=numbers-spout").parse().unwrap();
    let output: Endpoint = server.url("out").parse().unwrap();
    let malformed = Malformed::new();
    let mut runs = Vec::new();
    for limit in [Some(120), None] {
        let mut spout = mqtt::spout::<u64>(&input)
            .unwrap()
            .with_malformed(malformed.clone());
        spout = match limit {
            Some(n) => spout.with_max_records(n),
            None => spout.with_idle_exit(Duration::from_millis(800)),
        };
        let sink = mqtt::sink::<u64>(&output).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let collect = Collect(seen.clone());
        let mut b = TopologyBuilder::new("mqtt");
        let numbers = b.set_spout("in", 1, move || spout.clone());
        b.set_bolt("out", 1, move || sink.clone())
            .shuffle_grouping(&numbers);
        b.set_bolt("seen", 1, move || collect.clone())
            .shuffle_grouping(&numbers);
        LocalCluster::new(Config::default())
            .run(b.build().unwrap())
            .unwrap();
        let seen = seen.lock().unwrap().clone();
        runs.push(seen);
    }
    assert!(
        runs[0].len() >= 117 && runs[0].len() <= 120,
        "{}",
        runs[0].len()
    );
    let all: Vec<u64> = runs.concat();
    assert_eq!(
        all,
        (1..=300).collect::<Vec<_>>(),
        "in order, none lost, none twice"
    );
    assert_eq!(malformed.count(), 3);
    super::wait_until(20, "the sink's 300 messages", || {
        received.lock().unwrap().len() >= 300
    });
    let mut out = received.lock().unwrap().clone();
    out.sort_unstable();
    out.dedup();
    assert_eq!(out, (1..=300).collect::<Vec<_>>());
}

/// Creates `client`'s persistent session, subscribed to `topic` with QoS 1, and leaves.
pub(super) async fn persistent_session(port: u16, client: &str, topic: &str) {
    let mut o = MqttOptions::new(client, "127.0.0.1", port);
    o.set_clean_session(false);
    let (c, mut events) = AsyncClient::new(o, 10);
    c.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    while !matches!(
        events.poll().await.unwrap(),
        Event::Incoming(Packet::SubAck(_))
    ) {}
    c.disconnect().await.unwrap();
    let _ = events.poll().await;
}

/// Publishes `from..=to` to `topic` with QoS 1 and waits for every PUBACK.
pub(super) async fn publish_range(port: u16, topic: &str, from: u64, to: u64) {
    let count = (to + 1 - from) as usize;
    let o = MqttOptions::new(format!("producer-{from}"), "127.0.0.1", port);
    // Room for every request: nothing polls the event loop while they are queued.
    let (p, mut events) = AsyncClient::new(o, count + 10);
    for n in from..=to {
        p.publish(topic, QoS::AtLeastOnce, false, n.to_string())
            .await
            .unwrap();
    }
    let mut acked = 0;
    while acked < count {
        if let Event::Incoming(Packet::PubAck(_)) = events.poll().await.unwrap() {
            acked += 1;
        }
    }
    p.disconnect().await.unwrap();
    let _ = events.poll().await;
}

/// The distinct numbers `client`'s persistent session holds, read until all of `want` came
/// (or 20 s passed).
async fn drain_session(port: u16, client: &str, want: &BTreeSet<u64>) -> BTreeSet<u64> {
    let mut o = MqttOptions::new(client, "127.0.0.1", port);
    o.set_clean_session(false);
    let (_c, mut events) = AsyncClient::new(o, 10);
    let mut got = BTreeSet::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while !want.is_subset(&got) {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.unwrap() {
                got.insert(std::str::from_utf8(&p.payload).unwrap().parse().unwrap());
            }
        }
    })
    .await;
    got
}

/// A broker restart mid-run: mosquitto is stopped gracefully (SIGTERM, on which it saves its
/// sessions and queued messages; on SIGKILL it saves nothing) and started again on the same
/// port and data while the topology runs, then the second half of the readings is published.
/// The spout and the sink reconnect promptly; readings from both halves reach the collector at
/// least once and the output topic (read afterwards from the checker's persistent session) at
/// least once: MQTT cannot de-duplicate.
#[test]
fn a_mosquitto_restarted_mid_run_loses_nothing() {
    let Some(mut server) = Server::mosquitto_persistent() else {
        return;
    };
    let rt = runtime();
    let _entered = rt.enter();
    let n = 10_000u64;
    rt.block_on(persistent_session(server.port, "restart-spout", "in"));
    rt.block_on(persistent_session(server.port, "restart-checker", "out"));
    rt.block_on(publish_range(server.port, "in", 1, n / 2));

    let input: Endpoint = server.url("in?client=restart-spout").parse().unwrap();
    let output: Endpoint = server.url("out").parse().unwrap();
    let spout = mqtt::spout::<u64>(&input)
        .unwrap()
        .with_idle_exit(Duration::from_secs(4));
    let sink = mqtt::sink::<u64>(&output).unwrap().with_max_batch(50);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(seen.clone());
    let mut b = TopologyBuilder::new("mqtt-restart");
    let numbers = b.set_spout("in", 1, move || spout.clone());
    b.set_bolt("out", 1, move || sink.clone())
        .shuffle_grouping(&numbers);
    b.set_bolt("seen", 1, move || collect.clone())
        .shuffle_grouping(&numbers);
    let topology = b.build().unwrap();
    let mut config = Config::default();
    config.guarantee = Guarantee::AtLeastOnce;
    let run = std::thread::spawn(move || LocalCluster::new(config).run(topology));

    super::wait_until(20, "the collector to see some readings", || {
        seen.lock().unwrap().len() >= 100
    });
    server.stop();
    server.restart();
    let restarted = Instant::now();
    rt.block_on(publish_range(server.port, "in", n / 2 + 1, n));
    let report = run.join().unwrap().unwrap();
    // The sink notices the lost connection and re-sends its batch: it does not wait out its
    // 30 s confirmation timeout for PUBACKs the restarted broker will never send.
    assert!(
        restarted.elapsed() < Duration::from_secs(20),
        "the run ended {:?} after the restart",
        restarted.elapsed()
    );
    assert_no_dead_letters(&report, "mosquitto restart");

    let want: BTreeSet<u64> = (1..=n).collect();
    let collected: BTreeSet<u64> = seen.lock().unwrap().iter().copied().collect();
    assert_same_values(&collected, &want, "every reading at the collector");
    let out = rt.block_on(drain_session(server.port, "restart-checker", &want));
    assert_same_values(&out, &want, "every reading in the output topic");
}
