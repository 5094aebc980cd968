//! PostgreSQL sink: batched, idempotent on the tuple's identity, JSON and MessagePack.

use serde::{Deserialize, Serialize};
use squall::{Config, LocalCluster, TopologyBuilder};
use squall_connectors::broker::{Endpoint, Format};
use squall_connectors::postgres;
use squall_tests::servers::Server;

use super::{runtime, VecSpout};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Alarm {
    sensor: u32,
    seq: u64,
}

fn query(server: &Server, sql: &str) -> Vec<tokio_postgres::Row> {
    let rt = runtime();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(
            &format!(
                "host=127.0.0.1 port={} user=squall dbname=postgres",
                server.port
            ),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        client.query(sql, &[]).await.unwrap()
    })
}

#[test]
fn replayed_tuples_leave_one_row_each_in_json_and_msgpack() {
    let Some(server) = Server::postgres() else {
        return;
    };
    let alarms: Vec<Alarm> = (0..3000u64)
        .map(|i| Alarm {
            sensor: (i % 7) as u32,
            seq: i,
        })
        .collect();
    for format in ["json", "msgpack"] {
        let endpoint: Endpoint = server
            .url(&format!("postgres?table=alarms_{format}&format={format}"))
            .parse()
            .unwrap();
        // Every alarm twice, the second time in a later batch: a replay.
        let twice: Vec<Alarm> = alarms.iter().chain(alarms.iter()).cloned().collect();
        let sink = postgres::sink::<Alarm>(&endpoint)
            .unwrap()
            .with_key(|a: &Alarm| format!("{}:{}", a.sensor, a.seq))
            .with_max_batch(500);
        let mut b = TopologyBuilder::new("pg");
        let input = b.set_spout("alarms", 1, move || VecSpout(twice.clone()));
        b.set_bolt("out", 1, move || sink.clone())
            .shuffle_grouping(&input);
        LocalCluster::new(Config::default())
            .run(b.build().unwrap())
            .unwrap();
    }
    let json = query(
        &server,
        "SELECT payload::text FROM alarms_json ORDER BY (payload->>'seq')::bigint",
    );
    let got: Vec<Alarm> = json
        .iter()
        .map(|r| serde_json::from_str(r.get(0)).unwrap())
        .collect();
    assert_eq!(got, alarms);
    let packed = query(&server, "SELECT id, payload FROM alarms_msgpack");
    let mut got: Vec<Alarm> = packed
        .iter()
        .map(|r| Format::MsgPack.decode(r.get::<_, &[u8]>(1)).unwrap())
        .collect();
    got.sort_by_key(|a| a.seq);
    assert_eq!(got, alarms);
}

#[test]
fn a_bad_table_name_is_refused_before_anything_runs() {
    let e = postgres::sink::<u64>(&"postgres://u@h/db?table=x;drop".parse().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("table `x;drop`"), "{e}");
}
