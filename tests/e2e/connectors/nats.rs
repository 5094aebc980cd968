//! NATS core and JetStream spouts and sinks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use squall::{Config, LocalCluster, TopologyBuilder};
use squall_connectors::broker::{Endpoint, Format};
use squall_connectors::{nats, Malformed};
use squall_tests::servers::Server;

use super::{runtime, wait_until, Collect};

/// Every message in JetStream stream `stream` (from the start), as payloads, read with a fresh
/// ephemeral consumer.
pub(super) async fn stream_contents(client: &async_nats::Client, stream: &str) -> Vec<Bytes> {
    let js = async_nats::jetstream::new(client.clone());
    let mut s = js.get_stream(stream).await.unwrap();
    let total = s.info().await.unwrap().state.messages as usize;
    let consumer = s
        .create_consumer(async_nats::jetstream::consumer::pull::Config::default())
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut messages = consumer.messages().await.unwrap();
    while got.len() < total {
        let m = messages.next().await.unwrap().unwrap();
        got.push(m.payload.clone());
        m.ack().await.unwrap();
    }
    got
}

#[test]
fn core_spout_to_core_sink_skips_malformed_payloads() {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let client = rt
        .block_on(async_nats::connect(format!("127.0.0.1:{}", server.port)))
        .unwrap();
    let mut out = rt.block_on(client.subscribe("out")).unwrap();
    rt.block_on(client.flush()).unwrap();

    let input: Endpoint = server.url("in").parse().unwrap();
    let output: Endpoint = server.url("out").parse().unwrap();
    let malformed = Malformed::new();
    let spout = nats::spout::<u64>(&input)
        .unwrap()
        .with_malformed(malformed.clone())
        .with_idle_exit(Duration::from_millis(700));
    let sink = nats::sink::<u64>(&output).unwrap();
    let mut b = TopologyBuilder::new("nats-core");
    let numbers = b.set_spout("in", 1, move || spout.clone());
    b.set_bolt("out", 1, move || sink.clone())
        .shuffle_grouping(&numbers);
    let topology = b.build().unwrap();
    let run = std::thread::spawn(move || LocalCluster::new(Config::default()).run(topology));

    // Core NATS keeps nothing for absent subscribers: probe with malformed payloads until the
    // spout has seen one, so the real ones are not published into the void.
    wait_until(20, "the spout to subscribe", || {
        rt.block_on(client.publish("in", "probe".into())).unwrap();
        rt.block_on(client.flush()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        malformed.count() > 0
    });
    let probes = malformed.count();
    for n in 1..=500u64 {
        rt.block_on(client.publish("in", n.to_string().into()))
            .unwrap();
    }
    rt.block_on(client.publish("in", "{\"not\":\"a number\"}".into()))
        .unwrap();
    rt.block_on(client.flush()).unwrap();
    let mut got = Vec::new();
    rt.block_on(async {
        while got.len() < 500 {
            let m = tokio::time::timeout(Duration::from_secs(20), out.next())
                .await
                .expect("the sink's messages")
                .unwrap();
            got.push(String::from_utf8(m.payload.to_vec()).unwrap());
        }
    });
    run.join().unwrap().unwrap();
    let want: Vec<String> = (1..=500u64).map(|n| n.to_string()).collect();
    assert_eq!(got, want);
    // Late probes (published before the spout was seen) may still arrive: at least one more
    // malformed message (the object) was counted.
    assert!(
        malformed.count() > probes,
        "{} <= {probes}",
        malformed.count()
    );
}

#[test]
fn jetstream_spout_to_jetstream_sink_in_msgpack_writes_each_once_even_when_run_twice() {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let client = rt
        .block_on(async_nats::connect(format!("127.0.0.1:{}", server.port)))
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    rt.block_on(js.create_stream(async_nats::jetstream::stream::Config {
        name: "IN".into(),
        subjects: vec!["readings".into()],
        ..Default::default()
    }))
    .unwrap();
    let n = 2000u64;
    rt.block_on(async {
        let mut acks = Vec::new();
        for i in 1..=n {
            let payload = Bytes::from(rmp_serde_like(i));
            acks.push(js.publish("readings", payload).await.unwrap());
            if i % 500 == 0 {
                acks.push(
                    js.publish("readings", Bytes::from_static(b"\xc1"))
                        .await
                        .unwrap(),
                );
            }
        }
        for a in acks {
            a.await.unwrap();
        }
    });

    let output: Endpoint = server
        .url("alarms?stream=OUT&format=msgpack")
        .parse()
        .unwrap();
    for consumer in ["first", "second"] {
        let input: Endpoint = server
            .url(&format!(
                "readings?stream=IN&consumer={consumer}&format=msgpack"
            ))
            .parse()
            .unwrap();
        let malformed = Malformed::new();
        let spout = nats::spout::<u64>(&input)
            .unwrap()
            .with_malformed(malformed.clone())
            .with_max_records(n + 4);
        let sink = nats::sink::<u64>(&output)
            .unwrap()
            .with_key(|v: &u64| format!("v{v}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let collect = Collect(seen.clone());
        let mut b = TopologyBuilder::new("jetstream");
        let numbers = b.set_spout("in", 1, move || spout.clone());
        b.set_bolt("out", 1, move || sink.clone())
            .shuffle_grouping(&numbers);
        b.set_bolt("seen", 1, move || collect.clone())
            .shuffle_grouping(&numbers);
        LocalCluster::new(Config::default())
            .run(b.build().unwrap())
            .unwrap();
        assert_eq!(malformed.count(), 4, "{consumer}");
        assert_eq!(
            *seen.lock().unwrap(),
            (1..=n).collect::<Vec<_>>(),
            "{consumer}"
        );
    }
    // Both runs published every value, with the same message ids: the stream kept one of each.
    let mut got: Vec<u64> = rt
        .block_on(stream_contents(&client, "OUT"))
        .iter()
        .map(|p| Format::MsgPack.decode(p).unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, (1..=n).collect::<Vec<_>>());
}

/// A u64 as MessagePack, encoded by hand (not by the code under test).
fn rmp_serde_like(v: u64) -> Vec<u8> {
    let mut b = vec![0xcf];
    b.extend_from_slice(&v.to_be_bytes());
    b
}

#[test]
fn a_jetstream_server_killed_and_restarted_mid_run_loses_nothing() {
    // Cumulative acks: nats-server 2.9 redelivers, after a restart, messages a later
    // cumulative ack covered; the spout must see that and recreate its consumer.
    killed_and_restarted("all");
}

#[test]
fn a_jetstream_server_killed_and_restarted_mid_run_loses_nothing_with_explicit_acks() {
    killed_and_restarted("explicit");
}

fn killed_and_restarted(ack: &str) {
    let Some(mut server) = Server::nats() else {
        return;
    };
    let rt = runtime();
    let _entered = rt.enter();
    let publish = |rt: &tokio::runtime::Runtime, port: u16, from: u64, to: u64| {
        rt.block_on(async {
            let client = async_nats::connect(format!("127.0.0.1:{port}"))
                .await
                .unwrap();
            let js = async_nats::jetstream::new(client.clone());
            js.get_or_create_stream(async_nats::jetstream::stream::Config {
                name: "IN".into(),
                subjects: vec!["in".into()],
                ..Default::default()
            })
            .await
            .unwrap();
            for i in from..=to {
                js.publish("in", i.to_string().into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
        })
    };
    let n = 3000u64;
    publish(&rt, server.port, 1, n / 2);

    let input: Endpoint = server
        .url(&format!("in?stream=IN&ack={ack}"))
        .parse()
        .unwrap();
    let output: Endpoint = server.url("out?stream=OUT").parse().unwrap();
    let spout = nats::jetstream_spout::<u64>(&input, Duration::from_secs(2))
        .unwrap()
        .with_idle_exit(Duration::from_secs(4));
    let sink = nats::sink::<u64>(&output)
        .unwrap()
        .with_key(|v: &u64| v.to_string())
        .with_max_batch(50);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(seen.clone());
    let mut b = TopologyBuilder::new("jetstream-restart");
    let numbers = b.set_spout("in", 1, move || spout.clone());
    b.set_bolt("out", 1, move || sink.clone())
        .shuffle_grouping(&numbers);
    b.set_bolt("seen", 1, move || collect.clone())
        .shuffle_grouping(&numbers);
    let topology = b.build().unwrap();
    let run = std::thread::spawn(move || LocalCluster::new(Config::default()).run(topology));

    // Kill the server once the sink has stored part of the first half: the sink (and the
    // spout, unless it has read the whole first half) loses its connection mid-stream.
    let checker = rt
        .block_on(async_nats::connect(format!("127.0.0.1:{}", server.port)))
        .unwrap();
    let js = async_nats::jetstream::new(checker);
    let stored = || {
        rt.block_on(async {
            match js.get_stream("OUT").await {
                Ok(mut s) => s.info().await.map_or(0, |i| i.state.messages),
                Err(_) => 0,
            }
        })
    };
    wait_until(20, "the sink to store some readings", || stored() >= 100);
    assert!(stored() < n / 2, "the sink is still writing the first half");
    server.kill();
    server.restart();
    publish(&rt, server.port, n / 2 + 1, n);
    run.join().unwrap().unwrap();

    let got = stored_numbers(&rt, server.port, "OUT");
    assert_eq!(
        got,
        (1..=n).collect::<Vec<_>>(),
        "every reading once in OUT"
    );
}

#[test]
fn a_jetstream_sink_writes_batches_larger_than_the_clients_ack_window() {
    // async-nats refuses more than 5000 unconfirmed publishes per context by default; a sink
    // with two 6000-record batches in flight must stay under its own window instead.
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let n = 24_000u64;
    let output: Endpoint = server.url("big?stream=BIG").parse().unwrap();
    let sink = nats::sink::<u64>(&output)
        .unwrap()
        .with_key(|v: &u64| v.to_string())
        .with_max_batch(20_000)
        .with_capacity(30_000);
    let mut b = TopologyBuilder::new("jetstream-big-batches");
    let numbers = b.set_spout("in", 1, move || super::VecSpout((1..=n).collect()));
    b.set_bolt("out", 1, move || sink.clone())
        .shuffle_grouping(&numbers);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    let got = stored_numbers(&rt, server.port, "BIG");
    assert_eq!(got, (1..=n).collect::<Vec<_>>());
}

/// The text numbers stored in JetStream stream `stream`, sorted.
fn stored_numbers(rt: &tokio::runtime::Runtime, port: u16, stream: &str) -> Vec<u64> {
    let client = rt
        .block_on(async_nats::connect(format!("127.0.0.1:{port}")))
        .unwrap();
    let mut got: Vec<u64> = rt
        .block_on(stream_contents(&client, stream))
        .iter()
        .map(|p| std::str::from_utf8(p).unwrap().parse().unwrap())
        .collect();
    got.sort_unstable();
    got
}
