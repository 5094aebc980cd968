//! The spout core against a scripted subscriber: what is emitted, settled, and reported.

use std::sync::{Arc, Mutex};

use super::*;
use crate::file::testing::collect;

/// Delivers its payloads (ids from 1), then records every verdict until the spout closes.
struct Script {
    endpoint: Endpoint,
    payloads: Vec<&'static str>,
    settled: Arc<Mutex<Vec<Settle>>>,
    refuse: bool,
}

impl Subscriber for Script {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn replay(&self) -> Replay {
        Replay::Local
    }

    fn run(&self, _: usize, _: usize, mut link: ClientLink) -> Result<(), BrokerError> {
        if self.refuse {
            return Err(BrokerError::Refused {
                endpoint: self.endpoint.to_string(),
                reason: "not authorised".into(),
            });
        }
        for (i, p) in self.payloads.iter().enumerate() {
            let d = Delivery {
                id: i as u64 + 1,
                payload: p.as_bytes().to_vec(),
            };
            if link.deliveries.blocking_send(d).is_err() {
                return Ok(());
            }
        }
        while let Some(s) = link.settles.blocking_recv() {
            self.settled.lock().unwrap().push(s);
        }
        Ok(())
    }
}

fn script(payloads: Vec<&'static str>, refuse: bool) -> (Script, Arc<Mutex<Vec<Settle>>>) {
    let settled = Arc::new(Mutex::new(Vec::new()));
    let s = Script {
        endpoint: "nats://127.0.0.1:1/in".parse().unwrap(),
        payloads,
        settled: settled.clone(),
        refuse,
    };
    (s, settled)
}

#[test]
fn emits_decoded_values_skips_malformed_and_acks_everything_it_took() {
    let (s, settled) = script(vec!["1", "x", "2", "{}", "3", "4"], false);
    let malformed = Malformed::new();
    let spout = BrokerSpout::<u64>::new(s)
        .with_malformed(malformed.clone())
        .with_max_records(5)
        .with_batch(2);
    assert_eq!(collect(spout, 1).unwrap(), [1, 2, 3]);
    assert_eq!(malformed.count(), 2);
    let mut settled = settled.lock().unwrap().clone();
    settled.sort_by_key(|s| match s {
        Settle::Ack(id) | Settle::Nak(id) => *id,
    });
    // The sixth message was never taken: it stays with the broker.
    assert_eq!(settled, (1..=5).map(Settle::Ack).collect::<Vec<_>>());
}

#[test]
fn an_idle_spout_finishes() {
    let (s, _) = script(vec!["7"], false);
    let spout = BrokerSpout::<u64>::new(s).with_idle_exit(std::time::Duration::from_millis(50));
    assert_eq!(collect(spout, 1).unwrap(), [7]);
}

#[test]
fn a_client_that_gives_up_fails_the_task_with_its_reason() {
    let (s, _) = script(vec![], true);
    let e = collect(BrokerSpout::<u64>::new(s), 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not authorised"), "{e}");
}
