//! The UI over a library run: dead letters (component, task, attempts, error, the tuple) and
//! per-component counters reach `/api/v1/topology`, checked against what the test's own
//! bolt is known to fail.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use squall::{
    Bolt, BoltCollector, ComponentError, Config, Guarantee, LiveCounters, LocalCluster, MessageId,
    Spout, SpoutCollector, TopologyBuilder,
};
use squall_ui::{Ui, Watched};

const N: u64 = 200;
const ATTEMPTS: u32 = 3;

/// Emits 0..N with ids, replaying what fails.
struct Numbers {
    next: u64,
    again: Vec<u64>,
    open: usize,
}

impl Spout for Numbers {
    type Output = u64;
    fn next_tuple(&mut self, out: &mut SpoutCollector<'_, u64>) -> Result<(), ComponentError> {
        let n = match self.again.pop() {
            Some(n) => n,
            None if self.next < N => {
                self.next += 1;
                self.next - 1
            }
            None => return Ok(()),
        };
        self.open += 1;
        out.emit_with_id(n, n);
        Ok(())
    }
    fn ack(&mut self, _: MessageId) {
        self.open -= 1;
    }
    fn fail(&mut self, n: MessageId) {
        self.open -= 1;
        self.again.push(n);
    }
    fn is_finished(&self) -> bool {
        self.next >= N && self.open == 0 && self.again.is_empty()
    }
}

/// Fails every multiple of 7, always.
struct NoSevens;

impl Bolt for NoSevens {
    type Input = u64;
    type Output = ();
    fn execute(&mut self, n: u64, _: &mut BoltCollector<'_, ()>) -> Result<(), ComponentError> {
        if n % 7 == 0 {
            return Err(format!("{n} is a multiple of 7").into());
        }
        Ok(())
    }
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

#[test]
fn dead_letters_and_counters_reach_the_json() {
    let mut builder = TopologyBuilder::new("sevens");
    let numbers = builder.set_spout("numbers", 1, || Numbers {
        next: 0,
        again: Vec::new(),
        open: 0,
    });
    builder
        .set_bolt("no-sevens", 2, || NoSevens)
        .fields_grouping(&numbers, |n: &u64| *n);
    let topology = builder.build().unwrap();
    let live = Arc::new(LiveCounters::default());
    let mut config = Config::default();
    config.guarantee = Guarantee::AtLeastOnce;
    config.max_tuple_attempts = ATTEMPTS;
    config.live = Some(live.clone());
    let watched = Watched { live, job: None };
    let ui = Ui::serve("127.0.0.1:0".parse().unwrap(), watched).unwrap();
    let addr = ui.addr();
    let report = LocalCluster::new(config).run(topology).unwrap();

    // The oracle: every multiple of 7 below N is given up on after ATTEMPTS tries.
    let sevens: Vec<u64> = (0..N).filter(|n| n % 7 == 0).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let t: Value = loop {
        let (status, body) = get(addr, "/api/v1/topology");
        if status == 200 {
            let t: Value = serde_json::from_str(&body).unwrap();
            if t["dead_letters"].as_array().unwrap().len() == sevens.len() {
                break t;
            }
        }
        assert!(
            Instant::now() < deadline,
            "dead letters never all shown: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut shown: Vec<u64> = t["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["component"], "no-sevens");
            assert!(d["task"].as_u64().unwrap() < 2);
            assert_eq!(d["attempts"].as_u64().unwrap(), u64::from(ATTEMPTS));
            let n: u64 = d["tuple"].as_str().unwrap().parse().unwrap();
            assert_eq!(d["error"], format!("{n} is a multiple of 7"));
            n
        })
        .collect();
    shown.sort_unstable();
    assert_eq!(shown, sevens);
    assert_eq!(report.dead_letters.len(), sevens.len());

    let bolt = t["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "no-sevens")
        .unwrap();
    let failed = bolt["failed"].as_u64().unwrap();
    assert_eq!(failed, report.component("no-sevens").unwrap().failed);
    assert!(failed >= sevens.len() as u64 * u64::from(ATTEMPTS));
    let spout = &t["components"][0];
    assert_eq!(spout["kind"], "spout");
    // Every number was emitted once, and the failed ones again on each replay.
    assert_eq!(
        spout["emitted"].as_u64().unwrap(),
        report.component("numbers").unwrap().emitted
    );
    assert!(spout["replayed"].as_u64().unwrap() >= sevens.len() as u64 * u64::from(ATTEMPTS - 1));
    assert_eq!(t["guarantee"], "at-least-once");

    let page = ui.finish().unwrap();
    assert!(page.contains("\"state\":\"finished\""));
    assert!(
        TcpStream::connect(addr).is_err(),
        "the server stopped with the run"
    );
}
