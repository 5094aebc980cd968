//! Redis streams spout (consumer group, pending entries after a crash) and sink, across a
//! server restart; lookup bolt.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use squall::{Config, Guarantee, LocalCluster, TopologyBuilder};
use squall_connectors::broker::Endpoint;
use squall_connectors::redis::RedisLookup;
use squall_connectors::{redis as live, Malformed};
use squall_tests::servers::Server;

use super::{assert_no_dead_letters, assert_same_values, wait_until, Collect, VecSpout};

pub(super) fn connect(server: &Server) -> redis::Connection {
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

/// XADDs `from..=to` to stream `key` in one pipeline, on a fresh connection.
pub(super) fn add_range(server: &Server, key: &str, from: u64, to: u64) {
    let mut pipe = redis::pipe();
    for n in from..=to {
        pipe.cmd("XADD")
            .arg(key)
            .arg("*")
            .arg("payload")
            .arg(n.to_string())
            .ignore();
    }
    let _: () = pipe.query(&mut connect(server)).unwrap();
}

/// A broker restart mid-run: redis-server, with every write fsynced to its append-only file,
/// is killed (SIGKILL) while the sink writes the first half of the readings, and started again
/// on the same port and data; then the second half is published. The spout and the sink
/// reconnect; every reading reaches the collector and the output stream at least once (Redis
/// streams cannot de-duplicate), and the group has nothing pending afterwards.
#[test]
fn a_redis_server_killed_and_restarted_mid_run_loses_nothing() {
    let Some(mut server) = Server::redis_persistent() else {
        return;
    };
    let n = 20_000u64;
    add_range(&server, "in", 1, n / 2);

    let input: Endpoint = server.url("in").parse().unwrap();
    let output: Endpoint = server.url("out").parse().unwrap();
    let spout = live::spout::<u64>(&input)
        .unwrap()
        .with_idle_exit(Duration::from_secs(4));
    let sink = live::sink::<u64>(&output).unwrap().with_max_batch(50);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect(seen.clone());
    let mut b = TopologyBuilder::new("redis-restart");
    let numbers = b.set_spout("in", 1, move || spout.clone());
    b.set_bolt("out", 1, move || sink.clone())
        .shuffle_grouping(&numbers);
    b.set_bolt("seen", 1, move || collect.clone())
        .shuffle_grouping(&numbers);
    let topology = b.build().unwrap();
    let mut config = Config::default();
    config.guarantee = Guarantee::AtLeastOnce;
    let run = std::thread::spawn(move || LocalCluster::new(config).run(topology));

    // Kill the server once the sink has stored part of the first half: the sink and the spout
    // lose their connections mid-stream.
    let stored = || -> u64 {
        redis::cmd("XLEN")
            .arg("out")
            .query(&mut connect(&server))
            .unwrap()
    };
    wait_until(20, "the sink to store some readings", || stored() >= 100);
    assert!(stored() < n / 2, "the sink is still writing the first half");
    server.kill();
    server.restart();
    // It listens before it has loaded its data, answering LOADING until then (the spout and
    // the sink must retry that too).
    wait_until(20, "redis to load its data", || {
        redis::cmd("XLEN")
            .arg("in")
            .query::<u64>(&mut connect(&server))
            .is_ok()
    });
    add_range(&server, "in", n / 2 + 1, n);
    let report = run.join().unwrap().unwrap();
    assert_no_dead_letters(&report, "redis restart");

    let want: BTreeSet<u64> = (1..=n).collect();
    let collected: BTreeSet<u64> = seen.lock().unwrap().iter().copied().collect();
    assert_same_values(&collected, &want, "every reading at the collector");
    let mut c = connect(&server);
    let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg("in")
        .arg("squall")
        .query(&mut c)
        .unwrap();
    assert_eq!(pending.0, 0, "entries pending in group squall");
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg("out")
        .arg("-")
        .arg("+")
        .query(&mut c)
        .unwrap();
    let out: BTreeSet<u64> = entries
        .ids
        .iter()
        .map(|e| {
            let p: String = redis::from_redis_value(e.map["payload"].clone()).unwrap();
            p.parse().unwrap()
        })
        .collect();
    assert_same_values(&out, &want, "every reading in the output stream");
}
