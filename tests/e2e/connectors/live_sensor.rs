//! `squall run sensor-alarm` with live inputs and outputs, against the sequential oracle of
//! `e2e/sensor.rs`: MQTT in, NATS JetStream out; NATS JetStream in, PostgreSQL out.

use std::process::ExitCode;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use squall_tests::servers::Server;
use squall_topologies::sensor::Reading;

use super::runtime;
use crate::sensor::{oracle, scenario, sorted};

const SENSORS: u32 = 8;
const K: u32 = 3;

fn readings() -> Vec<Reading> {
    scenario(7, SENSORS, 800, K, 1.0)
}

fn json(r: &Reading) -> String {
    format!(
        r#"{{"sensor":{},"seq":{},"value":{}}}"#,
        r.sensor, r.seq, r.value
    )
}

fn squall(args: &[&str]) -> ExitCode {
    let mut all = vec!["squall".to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    squall_topologies::cli::main_with(all)
}

/// Polls an MQTT event loop until `done` says so (or 20 s pass).
async fn drive(events: &mut rumqttc::EventLoop, mut done: impl FnMut(&Event) -> bool) {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let e = events.poll().await.expect("mqtt test client");
            if done(&e) {
                return;
            }
        }
    })
    .await
    .expect("mqtt test client progress");
}

#[test]
fn mqtt_in_nats_jetstream_out_matches_the_oracle() {
    let Some(mqtt) = Server::mosquitto() else {
        return;
    };
    let Some(nats) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let readings = readings();
    eprintln!("{} readings", readings.len());
    // Open the pipeline's persistent session first, so the broker keeps every reading for it.
    rt.block_on(async {
        let mut o = MqttOptions::new("squall-live-test", "127.0.0.1", mqtt.port);
        o.set_clean_session(false);
        let (c, mut events) = AsyncClient::new(o, 10);
        c.subscribe("readings", QoS::AtLeastOnce).await.unwrap();
        drive(&mut events, |e| {
            matches!(e, Event::Incoming(Packet::SubAck(_)))
        })
        .await;
        c.disconnect().await.unwrap();
        let _ = events.poll().await;

        let (p, mut events) =
            AsyncClient::new(MqttOptions::new("producer", "127.0.0.1", mqtt.port), 100);
        let payloads: Vec<String> = readings
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                let bad = (i % 97 == 0).then(|| r#"{"sensor":"x"}"#.to_string());
                bad.into_iter().chain(std::iter::once(json(r)))
            })
            .collect();
        let total = payloads.len();
        let sender = tokio::spawn(async move {
            for m in payloads {
                p.publish("readings", QoS::AtLeastOnce, false, m)
                    .await
                    .unwrap();
            }
        });
        let mut acked = 0;
        drive(&mut events, |e| {
            acked += usize::from(matches!(e, Event::Incoming(Packet::PubAck(_))));
            acked == total
        })
        .await;
        sender.await.unwrap();
    });

    let input = mqtt.url("readings?client=squall-live-test");
    let output = nats.url("alarms?stream=ALARMS");
    let code = squall(&[
        "run",
        "sensor-alarm",
        "--input",
        &input,
        "--output",
        &output,
        "--sensors",
        "8",
        "--idle-exit",
        "1.5",
    ]);
    assert_eq!(code, ExitCode::SUCCESS);

    let client = rt
        .block_on(async_nats::connect(format!("127.0.0.1:{}", nats.port)))
        .unwrap();
    let got: Vec<Value> = rt
        .block_on(super::nats::stream_contents(&client, "ALARMS"))
        .iter()
        .map(|p| serde_json::from_slice(p).unwrap())
        .collect();
    let want = oracle(&readings, SENSORS, K, 1.0);
    assert!(want.len() >= 4, "the scenario has alarms and leaks");
    assert_same(sorted(got), want);
}

/// Equal, or a short message naming what is missing and what is extra.
fn assert_same(got: Vec<Value>, want: Vec<Value>) {
    let missing: Vec<_> = want.iter().filter(|e| !got.contains(e)).take(5).collect();
    let extra: Vec<_> = got.iter().filter(|e| !want.contains(e)).take(5).collect();
    assert!(
        got == want,
        "got {} events, want {}; missing {missing:?}; extra {extra:?}",
        got.len(),
        want.len()
    );
}

#[test]
fn nats_jetstream_in_postgres_out_matches_the_oracle_even_when_replayed() {
    let Some(nats) = Server::nats() else { return };
    let Some(pg) = Server::postgres() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let readings = readings();
    rt.block_on(async {
        let client = async_nats::connect(format!("127.0.0.1:{}", nats.port))
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "READINGS".into(),
            subjects: vec!["readings".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let mut acks = Vec::new();
        for (i, r) in readings.iter().enumerate() {
            if i == 10 {
                acks.push(js.publish("readings", "not json".into()).await.unwrap());
            }
            acks.push(js.publish("readings", json(r).into()).await.unwrap());
            // The client holds a bounded number of unacknowledged publishes.
            if acks.len() >= 500 {
                for a in acks.drain(..) {
                    a.await.unwrap();
                }
            }
        }
        for a in acks {
            a.await.unwrap();
        }
    });
    let total = (readings.len() + 1).to_string();
    let output = pg.url("postgres?table=alarms");
    // The second run reads everything again through a new consumer, as a replay would: the
    // table keeps one row per event.
    for consumer in ["first", "second"] {
        let input = nats.url(&format!("readings?stream=READINGS&consumer={consumer}"));
        let code = squall(&[
            "run",
            "sensor-alarm",
            "--input",
            &input,
            "--output",
            &output,
            "--sensors",
            "8",
            "--max-records",
            &total,
        ]);
        assert_eq!(code, ExitCode::SUCCESS, "{consumer}");
    }
    let rows: Vec<Value> = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(
            &format!(
                "host=127.0.0.1 port={} user=squall dbname=postgres",
                pg.port
            ),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        client
            .query("SELECT payload::text FROM alarms", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap())
            .collect()
    });
    assert_same(sorted(rows), oracle(&readings, SENSORS, K, 1.0));
}
