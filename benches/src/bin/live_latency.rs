//! MQTT -> sensor-alarm -> NATS at a fixed rate: end-to-end latency from the *intended* publish
//! time of the reading that raised an alarm to the alarm's arrival at a NATS subscriber.
//!
//! `live_latency [RATE=20000] [SECS=10] [SENSORS=16]`: starts its own mosquitto and nats-server
//! on free loopback ports, runs the pipeline in-process (MQTT QoS 1 spout, core NATS sink), and
//! publishes readings open-loop (a reading late to be sent is sent at once and charged from
//! when it was due: no coordinated omission). Prints one line:
//! `rate=R achieved=A readings=N alarms=M p50_ms= p90_ms= p99_ms= p999_ms= max_ms=`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use squall::{Config, LocalCluster};
use squall_connectors::broker::Endpoint;
use squall_connectors::{mqtt, nats};
use squall_tests::servers::Server;
use squall_topologies::sensor::{
    EventCounts, EventOutput, EventRecord, ReadingSource, SensorAlarm,
};

fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context("usage: live_latency [RATE] [SECS] [SENSORS]")?;
    let rate = args.first().copied().unwrap_or(20_000);
    let secs = args.get(1).copied().unwrap_or(10);
    let sensors = args.get(2).copied().unwrap_or(16) as u32;
    let total = rate * secs;
    let mqtt_server = Server::mosquitto().context("mosquitto is not installed")?;
    let nats_server = Server::nats().context("nats-server is not installed")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let _entered = rt.enter();

    // The pipeline's persistent session first, so no reading is published into the void.
    let client_id = "squall-bench";
    rt.block_on(async {
        let mut o = MqttOptions::new(client_id, "127.0.0.1", mqtt_server.port);
        o.set_clean_session(false);
        let (c, mut events) = AsyncClient::new(o, 10);
        c.subscribe("readings", QoS::AtLeastOnce).await?;
        while !matches!(events.poll().await?, Event::Incoming(Packet::SubAck(_))) {}
        c.disconnect().await?;
        let _ = events.poll().await;
        anyhow::Ok(())
    })?;

    // Alarm receiver: latency from the intended send time of the reading that raised it.
    // A second's lead for the pipeline to start and connect before the first reading is due.
    let start = Instant::now() + Duration::from_secs(1);
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let nats_client = rt.block_on(async_nats::connect(format!(
        "127.0.0.1:{}",
        nats_server.port
    )))?;
    let mut alarms = rt.block_on(nats_client.subscribe("alarms"))?;
    rt.block_on(nats_client.flush())?;
    let h = histogram.clone();
    // The worst latency and when (seconds into the run) its reading was due: hiccups at the
    // start (connections warming up) read differently from hiccups in steady state.
    let worst = Arc::new(Mutex::new((0u64, 0.0f64)));
    let w = worst.clone();
    let sensors_n = u64::from(sensors);
    rt.spawn(async move {
        while let Some(m) = alarms.next().await {
            let now = Instant::now();
            if let Ok(EventRecord::SensorAlarm { sensor, seq, .. }) =
                serde_json::from_slice(&m.payload)
            {
                let i = seq * sensors_n + u64::from(sensor);
                let intended = start + interval.mul_f64(i as f64);
                let us = now.saturating_duration_since(intended).as_micros() as u64;
                let _ = h.lock().map(|mut h| h.record(us.max(1)));
                if let Ok(mut w) = w.lock() {
                    if us > w.0 {
                        *w = (us, (intended - start).as_secs_f64());
                    }
                }
            }
        }
    });

    let input: Endpoint = mqtt_server
        .url(&format!("readings?client={client_id}"))
        .parse()?;
    let output: Endpoint = nats_server.url("alarms").parse()?;
    let spout = mqtt::spout(&input)?.with_idle_exit(Duration::from_secs(2));
    let sink = nats::sink::<EventRecord>(&output)?.with_key(EventRecord::identity);
    let pipeline = SensorAlarm {
        source: ReadingSource::Live(spout),
        sensors,
        threshold: 3,
        level: 1.0,
        parallelism: 2,
        output: EventOutput::Live(sink),
    };
    let counts = Arc::new(EventCounts::default());
    let topology = pipeline.topology(counts.clone())?;
    let run = std::thread::spawn(move || LocalCluster::new(Config::default()).run(topology));

    // Open-loop publisher: reading i is due at start + i / rate.
    let (publisher, mut events) = AsyncClient::new(
        MqttOptions::new("bench-producer", "127.0.0.1", mqtt_server.port),
        10_000,
    );
    let mut no_delay = rumqttc::NetworkOptions::new();
    no_delay.set_tcp_nodelay(true);
    events.set_network_options(no_delay);
    rt.spawn(async move { while events.poll().await.is_ok() {} });
    let sent_at = rt.block_on(async {
        let mut rng = SmallRng::seed_from_u64(42);
        for i in 0..total {
            let due = start + interval.mul_f64(i as f64);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            let (seq, sensor) = (i / sensors_n, i % sensors_n);
            let value = if rng.gen_bool(0.5) { 1.5 } else { 0.5 };
            let payload = format!(r#"{{"sensor":{sensor},"seq":{seq},"value":{value}}}"#);
            publisher
                .publish("readings", QoS::AtLeastOnce, false, payload)
                .await?;
        }
        anyhow::Ok(Instant::now())
    })?;
    let report = run
        .join()
        .map_err(|_| anyhow::anyhow!("the pipeline panicked"))??;
    let achieved = total as f64 / sent_at.duration_since(start).as_secs_f64();
    let h = histogram
        .lock()
        .map_err(|_| anyhow::anyhow!("histogram lock"))?;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "rate={rate} achieved={achieved:.0} readings={} alarms={} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2} worst_at_s={:.3}",
        report.component("alarm").map_or(0, |c| c.executed),
        h.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0,
        worst.lock().map_or(0.0, |w| w.1)
    );
    Ok(())
}
