//! Redis streams spout (consumer group, pending entries after a crash) and sink; lookup bolt.

use std::sync::{Arc, Mutex};

use squall::{Config, LocalCluster, TopologyBuilder};
use squall_connectors::broker::Endpoint;
use squall_connectors::redis::RedisLookup;
use squall_connectors::{redis as live, Malformed};
use squall_tests::servers::Server;

use super::{Collect, VecSpout};

fn connect(server: &Server) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{}/", server.port))
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn the_spout_reads_what_a_crashed_consumer_left_pending_and_the_sink_writes_everything() {
    let Some(server) = Server::redis() else {
        return;
    };
    let mut c = connect(&server);
    for n in 1..=500u64 {
        let _: String = redis::cmd("XADD")
            .arg("in")
            .arg("*")
            .arg("payload")
            .arg(n.to_string())
            .query(&mut c)
            .unwrap();
        if n == 250 {
            let _: String = redis::cmd("XADD")
                .arg("in")
                .arg("*")
                .arg("other")
                .arg("x")
                .query(&mut c)
                .unwrap();
            let _: String = redis::cmd("XADD")
                .arg("in")
                .arg("*")
                .arg("payload")
                .arg("[")
                .query(&mut c)
                .unwrap();
        }
    }
    // A consumer of the same name read 40 entries and died before acking them.
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("in")
        .arg("squall")
        .arg("0")
        .query(&mut c)
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("squall")
        .arg("squall-0")
        .arg("COUNT")
        .arg(40)
        .arg("STREAMS")
        .arg("in")
        .arg(">")
        .query(&mut c)
        .unwrap();

    let input: Endpoint = server.url("in").parse().unwrap();
    let output: Endpoint = server.url("out").parse().unwrap();
    let malformed = Malformed::new();
    let spout = live::spout::<u64>(&input)
        .unwrap()
        .with_malformed(malformed.clone())
        .with_max_records(502);
    let sink = live::sink::<u64>(&output).unwrap().with_max_batch(64);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(seen.clone());
    let mut b = TopologyBuilder::new("redis");
    let numbers = b.set_spout("in", 1, move || spout.clone());
    b.set_bolt("out", 1, move || sink.clone())
        .shuffle_grouping(&numbers);
    b.set_bolt("seen", 1, move || collect.clone())
        .shuffle_grouping(&numbers);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();

    assert_eq!(*seen.lock().unwrap(), (1..=500).collect::<Vec<u64>>());
    assert_eq!(malformed.count(), 2);
    // Everything was acked: nothing pending for the group.
    let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg("in")
        .arg("squall")
        .query(&mut c)
        .unwrap();
    assert_eq!(pending.0, 0);
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg("out")
        .arg("-")
        .arg("+")
        .query(&mut c)
        .unwrap();
    let out: Vec<u64> = entries
        .ids
        .iter()
        .map(|e| {
            let p: String = redis::from_redis_value(e.map["payload"].clone()).unwrap();
            p.parse().unwrap()
        })
        .collect();
    assert_eq!(out, (1..=500).collect::<Vec<u64>>());
}

#[test]
fn the_lookup_bolt_joins_against_redis_keys() {
    let Some(server) = Server::redis() else {
        return;
    };
    let mut c = connect(&server);
    for (k, v) in [("user:1", "ada"), ("user:3", "grace")] {
        let _: () = redis::cmd("SET").arg(k).arg(v).query(&mut c).unwrap();
    }
    let endpoint: Endpoint = server.url("user:").parse().unwrap();
    let lookup = RedisLookup::new(
        &endpoint,
        |n: &u64| n.to_string(),
        |n: u64, name: Option<&str>| Some((n, name.map(str::to_string))),
    )
    .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(seen.clone());
    let mut b = TopologyBuilder::new("lookup");
    let ids = b.set_spout("ids", 1, || VecSpout(vec![1u64, 2, 3, 1, 3]));
    let joined = b
        .set_bolt("join", 1, move || lookup.clone())
        .shuffle_grouping(&ids)
        .stream();
    b.set_bolt("seen", 1, move || collect.clone())
        .shuffle_grouping(&joined);
    LocalCluster::new(Config::default())
        .run(b.build().unwrap())
        .unwrap();
    let name = |s: &str| Some(s.to_string());
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (1, name("ada")),
            (2, None),
            (3, name("grace")),
            (1, name("ada")),
            (3, name("grace"))
        ]
    );
}
