//! MQTT spout and sink: QoS 1, a persistent session that keeps what a stopped spout left.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use squall::{Config, LocalCluster, TopologyBuilder};
use squall_connectors::broker::Endpoint;
use squall_connectors::{mqtt, Malformed};
use squall_tests::servers::Server;

use super::{runtime, Collect};

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
