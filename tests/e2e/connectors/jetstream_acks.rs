//! How the JetStream spout acks: cumulatively (`AckPolicy::All`) with one task, explicitly with
//! several, and what a new session does with messages an earlier one left unacked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use squall::{Config, LocalCluster, TopologyBuilder};
use squall_connectors::broker::Endpoint;
use squall_connectors::nats;
use squall_tests::servers::Server;

use super::{consumer_info, jetstream_filled, runtime, Collect};

/// Runs `in -> seen` with a JetStream spout of `tasks` tasks on `consumer`; returns what the
/// collector saw, sorted, or the run's error.
fn run(server: &Server, consumer: &str, tasks: usize) -> Result<Vec<u64>, String> {
    let input: Endpoint = server
        .url(&format!("in?stream=IN&consumer={consumer}"))
        .parse()
        .unwrap();
    let spout = nats::jetstream_spout::<u64>(&input, Duration::from_secs(30))
        .unwrap()
        .with_idle_exit(Duration::from_millis(1500));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(seen.clone());
    let mut b = TopologyBuilder::new("jetstream-acks");
    let numbers = b.set_spout("in", tasks, move || spout.clone());
    b.set_bolt("seen", 1, move || collect.clone())
        .shuffle_grouping(&numbers);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .map_err(|e| e.to_string())?;
    let mut got = seen.lock().unwrap().clone();
    got.sort_unstable();
    Ok(got)
}

#[test]
fn a_one_task_spout_acks_cumulatively_and_picks_up_what_a_crashed_session_left_unacked() {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let n = 1000u64;
    let js = jetstream_filled(&rt, server.port, "IN", "in", 1..=n);
    let client = js.client();
    // A session that read 300 messages, acked the first 100 cumulatively and died: 101..=300
    // stay delivered and unacked until the 30 s ack wait runs out.
    rt.block_on(async {
        let stream = js.get_stream("IN").await.unwrap();
        let c = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some("squall".into()),
                ack_policy: consumer::AckPolicy::All,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut batch = c.fetch().max_messages(300).messages().await.unwrap();
        let mut read = 0;
        while let Some(m) = batch.next().await {
            let m = m.unwrap();
            read += 1;
            if read == 100 {
                m.ack().await.unwrap();
            }
        }
        assert_eq!(read, 300);
        client.flush().await.unwrap();
    });
    assert_eq!(consumer_info(&rt, &js, "IN", "squall").num_ack_pending, 200);

    // The new session stops after 1.5 s without input, long before the ack wait: only
    // recreating the consumer at its floor brings 101..=300 back in time, and an ack of a later
    // message must not have covered them.
    let got = run(&server, "squall", 1).unwrap();
    assert_eq!(
        got,
        (101..=n).collect::<Vec<_>>(),
        "each unacked message once"
    );
    let after = consumer_info(&rt, &js, "IN", "squall");
    assert_eq!(after.config.ack_policy, consumer::AckPolicy::All);
    assert_eq!(after.num_ack_pending, 0, "everything acked");
    assert_eq!(after.num_pending, 0);
    assert_eq!(after.ack_floor.stream_sequence, n);
}

#[test]
fn a_spout_of_several_tasks_acks_each_message_and_refuses_a_cumulative_consumer() {
    let Some(server) = Server::nats() else { return };
    let rt = runtime();
    let _entered = rt.enter();
    let n = 3000u64;
    let js = jetstream_filled(&rt, server.port, "IN", "in", 1..=n);
    let got = run(&server, "pair", 2).unwrap();
    assert_eq!(got, (1..=n).collect::<Vec<_>>(), "each message once");
    let pair = consumer_info(&rt, &js, "IN", "pair");
    assert_eq!(pair.config.ack_policy, consumer::AckPolicy::Explicit);
    assert_eq!((pair.num_ack_pending, pair.num_pending), (0, 0));

    // One task makes a cumulative consumer; two tasks must not share it (one task's ack
    // would cover the other's messages in flight).
    assert_eq!(run(&server, "single", 1).unwrap().len() as u64, n);
    let err = run(&server, "single", 2).unwrap_err();
    assert!(
        err.contains("cumulative acks need exactly one task"),
        "{err}"
    );
}
