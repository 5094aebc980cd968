//! The cluster's pieces against a real nats-server (JetStream, its own port and store):
//! compare-and-set, leases, and the fabric's order, completeness and acknowledgements.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use squall::distributed::{Fabric, Route};
use squall_cluster::assignment::{self, Assignment};
use squall_cluster::fabric::JetStreamFabric;
use squall_cluster::inbox::{Inbox, MAX_ACK_PENDING};
use squall_cluster::membership::{self, WorkerEntry};
use squall_cluster::{records, subjects, Cluster};
use squall_tests::servers::Server;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn url(server: &Server) -> String {
    format!("nats://127.0.0.1:{}", server.port)
}

/// Polls `check` every 20 ms until it holds; panics with `what` after 20 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn of_two_writers_of_one_revision_exactly_one_wins() {
    let Some(server) = Server::nats() else { return };
    runtime().block_on(async {
        let cluster = Cluster::connect(&url(&server)).await.unwrap();
        let kv = &cluster.assignments;
        assert!(records::write_cas(kv, "k", &1u32, None).await.unwrap());
        // A second create of the same key loses.
        assert!(!records::write_cas(kv, "k", &2u32, None).await.unwrap());
        let (_, revision) = records::read::<u32>(kv, "k").await.unwrap().unwrap();
        let (a, b) = tokio::join!(
            records::write_cas(kv, "k", &10u32, Some(revision)),
            records::write_cas(kv, "k", &20u32, Some(revision)),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a ^ b, "exactly one writer wins: {a} {b}");
        let (stored, _) = records::read::<u32>(kv, "k").await.unwrap().unwrap();
        assert_eq!(stored, if a { 10 } else { 20 });
    });
}

#[test]
fn workers_reconciling_at_once_store_one_incarnation() {
    let Some(server) = Server::nats() else { return };
    runtime().block_on(async {
        let cluster = Cluster::connect(&url(&server)).await.unwrap();
        let live: Vec<String> = vec!["w-a".into(), "w-b".into(), "w-c".into()];
        let runs = (0..3).map(|_| assignment::reconcile(&cluster, "dep", 7, &live, 12));
        let results = futures_util::future::join_all(runs).await;
        let stored: Assignment = records::read(&cluster.assignments, "dep")
            .await
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(stored.incarnation, 1, "one write for one membership");
        for r in results {
            assert_eq!(r.unwrap().unwrap(), stored);
        }
        // One worker leaves: the next incarnation, with none of its tasks left to it.
        let rest = &live[..2];
        let next = assignment::reconcile(&cluster, "dep", 7, rest, 12)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.incarnation, 2);
        assert!(next.tasks.iter().all(|w| w != "w-c"));
        for (before, after) in stored.tasks.iter().zip(&next.tasks) {
            if before != "w-c" {
                assert_eq!(before, after);
            }
        }
        // Recomputing the same thing writes nothing.
        let same = assignment::reconcile(&cluster, "dep", 7, rest, 12)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(same.incarnation, 2);
    });
}

#[test]
fn a_worker_whose_heartbeats_stop_is_gone_after_the_lease() {
    let Some(server) = Server::nats() else { return };
    runtime().block_on(async {
        let cluster = Cluster::connect(&url(&server)).await.unwrap();
        let steady = WorkerEntry::this_process("steady");
        let beats = tokio::spawn(membership::heartbeats(cluster.clone(), steady));
        let silent = WorkerEntry::this_process("silent");
        membership::heartbeat(&cluster, &silent).await.unwrap();
        let names = async || -> Vec<String> {
            membership::live(&cluster)
                .await
                .unwrap()
                .into_iter()
                .map(|w| w.name)
                .collect()
        };
        eventually("both live", async || names().await == ["silent", "steady"]).await;
        let since = Instant::now();
        eventually("the silent one gone", async || names().await == ["steady"]).await;
        // Gone by expiry, not earlier than the lease allows (minus the time it took to see
        // it live), and the heartbeating one stayed.
        assert!(since.elapsed() >= Duration::from_secs(1));
        beats.abort();
    });
}

type Delivered = Arc<Mutex<Vec<(Route, Vec<u8>, Option<Box<dyn FnOnce() + Send>>)>>>;

/// Creates `deployment`'s stream and an inbox for task `task` of its incarnation 1 that
/// collects what it gets; each frame's `done` is called at once when `settle` holds, and kept
/// for the test otherwise.
async fn collecting_inbox(
    cluster: &Cluster,
    deployment: &str,
    task: u32,
    consumer: &str,
    settle: bool,
) -> (Inbox, Delivered) {
    // The stream is the deployment's: the first part to start creates it, an inbox only opens it.
    squall_cluster::frame_stream::ensure(&cluster.js, deployment, 1)
        .await
        .unwrap();
    let delivered: Delivered = Arc::default();
    let sink = delivered.clone();
    let inbox = Inbox::start(
        &cluster.js,
        deployment,
        subjects::task_filter(deployment, 1, task),
        consumer.into(),
        Arc::new(move |route, frame: &[u8], done: Box<dyn FnOnce() + Send>| {
            let done = if settle {
                done();
                None
            } else {
                Some(done)
            };
            sink.lock().unwrap().push((route, frame.to_vec(), done));
        }),
    )
    .await
    .unwrap();
    (inbox, delivered)
}

async fn ack_pending(cluster: &Cluster, deployment: &str, consumer: &str) -> (u64, usize) {
    let mut stream = cluster
        .js
        .get_stream(subjects::stream(deployment))
        .await
        .unwrap();
    let _ = stream.info().await.unwrap();
    let mut c: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer(consumer).await.unwrap();
    let info = c.info().await.unwrap();
    (info.delivered.stream_sequence, info.num_ack_pending)
}

#[test]
fn frames_of_a_route_arrive_in_order_all_of_them_acked_only_when_done() {
    let Some(server) = Server::nats() else { return };
    runtime().block_on(async {
        let cluster = Cluster::connect(&url(&server)).await.unwrap();
        let (inbox, delivered) = collecting_inbox(&cluster, "fab", 3, "test_1_3", false).await;
        let fabric = JetStreamFabric::start(
            cluster.js.clone(),
            &tokio::runtime::Handle::current(),
            "fab",
            1,
        );
        let frames = MAX_ACK_PENDING as u32 + 1000;
        for i in 0..frames {
            fabric.send(Route::Data { to: 3 }, i.to_le_bytes().to_vec());
            // Another task's frames, which this consumer must not see.
            if i % 100 == 0 {
                fabric.send(Route::Data { to: 4 }, vec![0xff]);
            }
        }
        fabric.send(Route::Credit { to: 3 }, b"credit".to_vec());
        // Nothing done yet: delivery stops at the ack-pending bound.
        let count = || delivered.lock().unwrap().len();
        eventually("the bound reached", async || {
            count() == MAX_ACK_PENDING as usize
        })
        .await;
        let (_, pending) = ack_pending(&cluster, "fab", "test_1_3").await;
        assert_eq!(
            pending, MAX_ACK_PENDING as usize,
            "nothing acked before done"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            count(),
            MAX_ACK_PENDING as usize,
            "no delivery past the bound"
        );
        // Done for the first half: exactly that many are acknowledged, more arrive.
        let half: Vec<_> = delivered.lock().unwrap()[..2000]
            .iter_mut()
            .map(|d| d.2.take().unwrap())
            .collect();
        for done in half {
            done();
        }
        eventually("the rest delivered", async || {
            count() == frames as usize + 1
        })
        .await;
        eventually("half acked", async || {
            ack_pending(&cluster, "fab", "test_1_3").await.1 == frames as usize + 1 - 2000
        })
        .await;
        {
            let got = delivered.lock().unwrap();
            for (i, (route, frame, _)) in got[..frames as usize].iter().enumerate() {
                assert_eq!(*route, Route::Data { to: 3 });
                assert_eq!(
                    frame[..],
                    (i as u32).to_le_bytes(),
                    "frame {i} out of order"
                );
            }
            assert_eq!(got[frames as usize].0, Route::Credit { to: 3 });
        }
        assert_eq!(fabric.lost(), 0);
        inbox.close(&cluster.js).await;
    });
}

#[test]
fn listing_keys_while_their_entries_expire_always_ends() {
    // The client's listing reads the entries it was told are pending; an entry that expires
    // (the workers bucket's lease) before it is delivered left the listing waiting forever,
    // and a worker stuck there never saw its stop signal.
    let Some(server) = Server::nats() else { return };
    runtime().block_on(async {
        let cluster = Cluster::connect(&url(&server)).await.unwrap();
        let kv = cluster.workers.clone();
        let deadline = Instant::now() + Duration::from_secs(12);
        let mut round = 0;
        while Instant::now() < deadline {
            round += 1;
            // A burst of entries, which all expire together after the bucket's max age.
            for i in 0..50 {
                kv.put(format!("r{round}k{i}"), "x".into()).await.unwrap();
            }
            let written = Instant::now();
            // List again and again around their expiry.
            while written.elapsed() < Duration::from_secs(5) {
                let listed = tokio::time::timeout(Duration::from_secs(8), records::keys(&kv)).await;
                assert!(listed.is_ok(), "a listing did not end within 8 s");
            }
        }
    });
}

#[test]
fn frames_over_the_servers_largest_message_arrive_whole_from_two_senders_at_once() {
    let Some(server) = Server::nats() else { return };
    runtime().block_on(async {
        let cluster = Cluster::connect(&url(&server)).await.unwrap();
        let max = cluster.js.client().server_info().max_payload;
        let (inbox, delivered) = collecting_inbox(&cluster, "big", 0, "test_big", true).await;
        let handle = tokio::runtime::Handle::current();
        let fabrics = [
            JetStreamFabric::start(cluster.js.clone(), &handle, "big", 1),
            JetStreamFabric::start(cluster.js.clone(), &handle, "big", 1),
        ];
        // Each sender's frames: small ones and ones of 1 to 3.5 times the largest message,
        // sent by both senders in turn so their chunks interleave on the subject.
        let frame = |sender: u8, i: usize| -> Vec<u8> {
            let len = if i % 2 == 0 {
                100
            } else {
                max * (i + 1) / 2 + 17
            };
            (0..len).map(|k| (k as u8) ^ sender ^ (i as u8)).collect()
        };
        let per_sender = 6;
        for i in 0..per_sender {
            for (s, fabric) in fabrics.iter().enumerate() {
                fabric.send(Route::Data { to: 0 }, frame(s as u8, i));
            }
        }
        let count = || delivered.lock().unwrap().len();
        eventually("every frame delivered", async || count() == 2 * per_sender).await;
        let got: Vec<Vec<u8>> = delivered
            .lock()
            .unwrap()
            .iter()
            .map(|(_, f, _)| f.clone())
            .collect();
        for s in 0..2u8 {
            let mine: Vec<&Vec<u8>> = got
                .iter()
                .filter(|f| (0..per_sender).any(|i| **f == frame(s, i)))
                .collect();
            let want: Vec<Vec<u8>> = (0..per_sender).map(|i| frame(s, i)).collect();
            assert_eq!(
                mine.len(),
                per_sender,
                "sender {s}: some frames came back changed"
            );
            assert!(
                mine.iter().zip(&want).all(|(a, b)| *a == b),
                "sender {s}: frames out of order"
            );
        }
        assert_eq!(fabrics[0].lost() + fabrics[1].lost(), 0);
        eventually("every chunk acknowledged", async || {
            ack_pending(&cluster, "big", "test_big").await.1 == 0
        })
        .await;
        inbox.close(&cluster.js).await;
    });
}
