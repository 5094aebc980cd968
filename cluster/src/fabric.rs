//! [`Fabric`] on JetStream: frames go into a channel (so `send` never blocks a task's thread)
//! drained by one publishing task per part, which publishes them in the order sent and
//! awaits their acknowledgements in a second task, so publishing is pipelined while the
//! order on every subject holds (one connection, one publisher).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_nats::jetstream::{self, context::PublishAckFuture};
use squall::distributed::{Fabric, Route};
use tokio::sync::mpsc;

use crate::{chunks, sequence, subjects};

/// Publish acknowledgements awaited at once; past this the publisher waits for the oldest.
const ACKS_IN_FLIGHT: usize = 4096;

/// The frames of one part of one incarnation, published on JetStream.
pub struct JetStreamFabric {
    deployment: String,
    incarnation: u64,
    frames: mpsc::UnboundedSender<(String, Vec<u8>)>,
    /// Frames whose publication failed (lost: the incarnation stalls and is replaced).
    failed: Arc<AtomicU64>,
}

impl JetStreamFabric {
    /// A fabric for `deployment`'s `incarnation`, publishing with `js` from tasks spawned on
    /// `runtime`. They end once the fabric is dropped and every frame was published.
    pub fn start(
        js: jetstream::Context,
        runtime: &tokio::runtime::Handle,
        deployment: &str,
        incarnation: u64,
    ) -> JetStreamFabric {
        let (frames, mut queue) = mpsc::unbounded_channel::<(String, Vec<u8>)>();
        let (acks, mut pending) = mpsc::channel::<PublishAckFuture>(ACKS_IN_FLIGHT);
        let failed = Arc::new(AtomicU64::new(0));
        let statistics = js.client().statistics();
        let connects = statistics.connects.load(Ordering::Relaxed);
        let lost = failed.clone();
        // Frames over the server's largest message go as chunks (see `chunks`), marked with
        // this fabric's own name so a consumer joins them per sender.
        let size = chunks::chunk_size(js.client().server_info().max_payload);
        let sender = format!(
            "{}.{deployment}.{incarnation}.{}",
            std::process::id(),
            started()
        );
        runtime.spawn(async move {
            // Each subject's frames are numbered from 0 (see `sequence`).
            let mut numbers: HashMap<String, u64> = HashMap::new();
            'frames: while let Some((subject, frame)) = queue.recv().await {
                let n = numbers.entry(subject.clone()).or_insert(0);
                let number = sequence::header(&sender, *n);
                *n += 1;
                for (chunk, piece) in chunks::split(&sender, frame, size) {
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert(sequence::FRAME, number.as_str());
                    if let Some(value) = chunk {
                        headers.insert(chunks::CHUNK, value.as_str());
                    }
                    let published = js
                        .publish_with_headers(subject.clone(), headers, piece.into())
                        .await;
                    match published {
                        Ok(ack) => {
                            if acks.send(ack).await.is_err() {
                                break 'frames;
                            }
                        }
                        Err(e) => {
                            lost.fetch_add(1, Ordering::Relaxed);
                            eprintln!("fabric: a frame for {subject} was not published: {e}");
                            break;
                        }
                    }
                }
            }
        });
        let lost = failed.clone();
        runtime.spawn(async move {
            let (mut slow_said, mut lost_said) = (false, false);
            while let Some(ack) = pending.recv().await {
                let Err(e) = ack.await else { continue };
                // An acknowledgement that did not come in time over a connection never lost
                // says the server is slow, not that the frame is gone: counting it lost would
                // replace a healthy incarnation, and on a busy server the next one, forever
                // (seen in the cluster benchmark). Once the connection was lost, a frame
                // written to the old one may never have been stored: it counts as lost, and
                // the incarnation is replaced from the last checkpoint.
                let reconnected = statistics.connects.load(Ordering::Relaxed) != connects;
                if e.kind() == jetstream::context::PublishErrorKind::TimedOut && !reconnected {
                    if !slow_said {
                        slow_said = true;
                        eprintln!("fabric: JetStream acknowledges frames late ({e})");
                    }
                    continue;
                }
                lost.fetch_add(1, Ordering::Relaxed);
                if !lost_said {
                    lost_said = true;
                    eprintln!("fabric: a frame may not be stored by JetStream: {e} (reconnected since the start: {reconnected})");
                }
            }
        });
        JetStreamFabric {
            deployment: deployment.to_string(),
            incarnation,
            frames,
            failed,
        }
    }

    /// Frames lost so far (publication or storage failed).
    pub fn lost(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

impl Fabric for JetStreamFabric {
    fn send(&self, route: Route, frame: Vec<u8>) {
        let subject = subjects::route(&self.deployment, self.incarnation, route);
        // Fails only once the runtime shut down, when the part is being stopped anyway.
        let _ = self.frames.send((subject, frame));
    }
}

/// Nanoseconds since the epoch when called: with the process id, a name no other fabric has.
fn started() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}
