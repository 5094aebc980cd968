//! Connector throughput against servers started on free loopback ports.
//!
//! `connector_throughput jetstream-sink|jetstream-spout|postgres-sink [N=1000000] [BATCH=1024]`
//! prints one
//! line `what=W messages=N elapsed_s=X per_s=Y`. The sinks write u64s keyed on their value
//! (JetStream `Nats-Msg-Id`, PostgreSQL primary key) in batches of 1024 and count once the
//! broker has confirmed everything; the spout reads a stream filled beforehand, acking each
//! message.

use std::time::Instant;

use anyhow::Context;
use squall::TopologyBuilder;
use squall::{Bolt, BoltCollector, ComponentError, Config, LocalCluster, Spout, SpoutCollector};
use squall_connectors::broker::Endpoint;
use squall_connectors::{nats, postgres};
use squall_tests::servers::Server;

/// Emits `0..end`, 1024 per call.
struct Counter {
    next: u64,
    end: u64,
}

impl Spout for Counter {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let stop = (self.next + 1024).min(self.end);
        while self.next < stop {
            out.emit(self.next);
            self.next += 1;
        }
        Ok(())
    }
    fn is_finished(&self) -> bool {
        self.next >= self.end
    }
}

/// Counts what reaches it.
#[derive(Default)]
struct Count(u64);

impl Bolt for Count {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, _: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        self.0 += 1;
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("jetstream-sink");
    let n: u64 = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let batch: usize = args.get(2).map_or(Ok(1024), |s| s.parse())?;
    let mut b = TopologyBuilder::new("throughput");
    // Servers live until the end of main.
    let (_server, start) = match what {
        "jetstream-sink" | "postgres-sink" => {
            let (server, endpoint) = if what == "postgres-sink" {
                let s = Server::postgres().context("postgresql is not installed")?;
                let e: Endpoint = s.url("postgres?table=bench").parse()?;
                (s, e)
            } else {
                let s = Server::nats().context("nats-server is not installed")?;
                let e: Endpoint = s.url("bench?stream=BENCH").parse()?;
                (s, e)
            };
            let sink = if what == "postgres-sink" {
                postgres::sink::<u64>(&endpoint)?
            } else {
                nats::sink::<u64>(&endpoint)?
            }
            .with_key(|n: &u64| n.to_string())
            .with_max_batch(batch);
            let numbers = b.set_spout("numbers", 1, move || Counter { next: 0, end: n });
            b.set_bolt("sink", 1, move || sink.clone())
                .shuffle_grouping(&numbers);
            (server, Instant::now())
        }
        "jetstream-spout" => {
            let server = Server::nats().context("nats-server is not installed")?;
            fill(server.port, n)?;
            let endpoint: Endpoint = server.url("bench?stream=BENCH").parse()?;
            let spout = nats::spout::<u64>(&endpoint)?
                .with_max_records(n)
                .with_batch(1024);
            let numbers = b.set_spout("numbers", 1, move || spout.clone());
            b.set_bolt("count", 1, Count::default)
                .shuffle_grouping(&numbers);
            (server, Instant::now())
        }
        other => anyhow::bail!(
            "unknown benchmark {other}: jetstream-sink, jetstream-spout or postgres-sink"
        ),
    };
    let start = start.max(Instant::now());
    LocalCluster::new(Config::default()).run(b.build()?)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "what={what} messages={n} elapsed_s={secs:.2} per_s={:.0}",
        n as f64 / secs
    );
    Ok(())
}

/// Publishes `0..n` to stream BENCH, waiting for acknowledgements in windows.
fn fill(port: u16, n: u64) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = async_nats::connect(format!("127.0.0.1:{port}")).await?;
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "BENCH".into(),
            subjects: vec!["bench".into()],
            ..Default::default()
        })
        .await?;
        let mut acks = Vec::with_capacity(1000);
        for i in 0..n {
            acks.push(js.publish("bench", i.to_string().into()).await?);
            if acks.len() == 1000 {
                for a in acks.drain(..) {
                    a.await?;
                }
            }
        }
        for a in acks {
            a.await?;
        }
        anyhow::Ok(())
    })
}
