//! Raw async-nats JetStream loops, no Squall: what one client and nats-server can do on this
//! machine, the ceiling the JetStream spout and sink are compared with.
//!
//! `jetstream_raw MODE [N=1000000] [W=4096]`, MODE one of
//! - `pub-ack`: publish with `Nats-Msg-Id`, at most W acknowledgements outstanding;
//! - `pub-core`: publish with `Nats-Msg-Id` and no reply subject (no acknowledgement, so
//!   nothing is confirmed: a bound, not a usable sink), checked by one acked publish at the end;
//! - `sub-explicit`: a pull consumer (batches of W), one ack per message;
//! - `sub-all`: a pull consumer with `AckPolicy::All`, one ack per W messages.
//!
//! Environment: `NOID=1` leaves out `Nats-Msg-Id` in `pub-core` (what de-duplication costs);
//! `MEM=1` uses memory storage. Prints `mode=M messages=N elapsed_s=X per_s=Y`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_nats::jetstream::{self, consumer, message::PublishMessage};
use futures_util::StreamExt;
use squall_tests::servers::Server;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_else(|| "pub-ack".into());
    let n: u64 = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let w: usize = args.get(2).map_or(Ok(4096), |s| s.parse())?;
    let server = Server::nats().context("nats-server is not installed")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let secs = rt.block_on(async {
        let client = async_nats::connect(format!("127.0.0.1:{}", server.port)).await?;
        let js = jetstream::new(client.clone());
        let stream = js
            .create_stream(jetstream::stream::Config {
                name: "RAW".into(),
                subjects: vec!["raw".into()],
                storage: if std::env::var_os("MEM").is_some() {
                    jetstream::stream::StorageType::Memory
                } else {
                    jetstream::stream::StorageType::File
                },
                ..Default::default()
            })
            .await?;
        if mode == "pub-ack" {
            let start = Instant::now();
            publish(&js, n, w).await?;
            return anyhow::Ok(start.elapsed().as_secs_f64());
        }
        if mode == "pub-core" {
            let start = Instant::now();
            for i in 0..n {
                let mut h = async_nats::HeaderMap::new();
                if std::env::var_os("NOID").is_none() {
                    h.insert("Nats-Msg-Id", i.to_string().as_str());
                }
                client
                    .publish_with_headers("raw", h, i.to_string().into())
                    .await?;
            }
            let last = js.publish("raw", "last".into()).await?.await?;
            let secs = start.elapsed().as_secs_f64();
            anyhow::ensure!(last.sequence == n + 1, "stored {}", last.sequence);
            return anyhow::Ok(secs);
        }
        publish(&js, n, 4096).await?;
        let all = mode == "sub-all";
        let c = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some("raw".into()),
                ack_policy: if all {
                    consumer::AckPolicy::All
                } else {
                    consumer::AckPolicy::Explicit
                },
                max_ack_pending: 100_000,
                ..Default::default()
            })
            .await?;
        let start = Instant::now();
        let mut messages = c.stream().max_messages_per_batch(w).messages().await?;
        let mut got = 0u64;
        while got < n {
            let m = messages
                .next()
                .await
                .context("end")?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            got += 1;
            if !all || got % w as u64 == 0 || got == n {
                m.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        client.flush().await?;
        let secs = start.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let info = c.clone().info().await?.clone();
        anyhow::ensure!(
            info.num_ack_pending == 0,
            "{} unacked",
            info.num_ack_pending
        );
        Ok(secs)
    })?;
    println!(
        "mode={mode} messages={n} elapsed_s={secs:.2} per_s={:.0}",
        n as f64 / secs
    );
    Ok(())
}

async fn publish(js: &jetstream::Context, n: u64, w: usize) -> anyhow::Result<()> {
    let mut acks = VecDeque::with_capacity(w);
    for i in 0..n {
        let m = PublishMessage::build()
            .payload(i.to_string().into())
            .message_id(i.to_string());
        acks.push_back(js.send_publish("raw", m).await?);
        if acks.len() >= w {
            if let Some(a) = acks.pop_front() {
                a.await?;
            }
        }
    }
    for a in acks {
        a.await?;
    }
    Ok(())
}
