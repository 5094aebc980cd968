//! The frames for this process's tasks: one pull consumer per local task (and one for the
//! leader's events), each message acknowledged only once the part says the frame was
//! processed, so unacknowledged data is bounded by [`MAX_ACK_PENDING`] (JetStream's flow
//! control) and a frame the process dies before processing is still in the stream.

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, consumer::DeliverPolicy};
use futures_util::StreamExt;
use squall::distributed::Route;

use crate::chunks::{self, Joined, Joiner};
use crate::error::ClusterError;
use crate::sequence::{self, Numbers, Order};
use crate::subjects;

/// Frames delivered and not yet acknowledged, per consumer.
pub const MAX_ACK_PENDING: i64 = 4096;
/// A frame not acknowledged this long is delivered again (and skipped as a duplicate: the
/// part has it already).
const ACK_WAIT: Duration = Duration::from_secs(60);
/// How long one pull request waits on the server for frames before the client asks again.
const PULL_EXPIRES: Duration = Duration::from_secs(2);

/// The server deletes a consumer nobody pulled from this long (its process died).
const INACTIVE: Duration = Duration::from_secs(60);

/// Hands a frame to the part: the route, the frame, and what to call once it was processed.
pub type Deliver = Arc<dyn Fn(Route, &[u8], Box<dyn FnOnce() + Send>) + Send + Sync>;

/// One consumer feeding a part.
pub struct Inbox {
    stream: String,
    name: String,
    task: tokio::task::JoinHandle<()>,
    /// Frames found missing (the consumer stopped at the first).
    gaps: Arc<AtomicU64>,
}

impl Inbox {
    /// Consumes every frame on `filter` of `deployment`'s stream from the start, under
    /// consumer name `name`, handing each to `deliver` in stream order.
    pub async fn start(
        js: &jetstream::Context,
        deployment: &str,
        filter: String,
        name: String,
        deliver: Deliver,
    ) -> Result<Inbox, ClusterError> {
        // The part created the stream before starting (`frame_stream::ensure`).
        let stream = js
            .get_stream(subjects::stream(deployment))
            .await
            .map_err(|e| {
                ClusterError::nats(&format!("cannot open the stream of {deployment}"), e)
            })?;
        let consumer = stream
            .get_or_create_consumer(
                &name,
                pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject: filter,
                    deliver_policy: DeliverPolicy::All,
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_ack_pending: MAX_ACK_PENDING,
                    inactive_threshold: INACTIVE,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ClusterError::nats(&format!("cannot create consumer {name}"), e))?;
        // A pull request the server ends early (at the ack-pending bound) can leave the client
        // counting on it until it expires: with the default 30 s expiry a consumer that hit
        // the bound could stall that long after its acks went out. Requests expire after
        // PULL_EXPIRES instead, so a stall lasts at most that.
        let mut messages = consumer
            .stream()
            .expires(PULL_EXPIRES)
            .heartbeat(PULL_EXPIRES / 4)
            .messages()
            .await
            .map_err(|e| ClusterError::nats(&format!("cannot consume {name}"), e))?;
        let runtime = tokio::runtime::Handle::current();
        let label = name.clone();
        let gaps = Arc::new(AtomicU64::new(0));
        let lost = gaps.clone();
        let task = tokio::spawn(async move {
            // Redeliveries (after ACK_WAIT) are recognised by their stream sequence: the part
            // got the frame already and acknowledges the first delivery when done.
            let mut last = 0u64;
            let mut said = false;
            let mut joiner = Joiner::default();
            let mut numbers = Numbers::default();
            // A lost frame stops this consumer before anything behind it is processed (so no
            // checkpoint completes without it), and the worker replaces the incarnation.
            let lose = |why: &str| {
                eprintln!("consumer {label}: {why}");
                lost.fetch_add(1, AtomicOrdering::Relaxed);
            };
            while let Some(message) = messages.next().await {
                let message = match message {
                    Ok(m) => m,
                    // The deployment ended and its leader removed the stream: this part is
                    // about to be stopped.
                    Err(e) if e.kind() == pull::MessagesErrorKind::ConsumerDeleted => break,
                    Err(e) => {
                        // Once: a lost server errs on every pull until it is back.
                        if !said {
                            eprintln!("consumer {label}: {e}");
                            said = true;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Ok(sequence) = message.info().map(|i| i.stream_sequence) else {
                    continue;
                };
                if sequence <= last {
                    continue;
                }
                last = sequence;
                let Some(route) = subjects::parse(message.subject.as_str()) else {
                    let _ = message.ack().await;
                    continue;
                };
                let header = |name: &str| {
                    message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(name))
                        .map(|v| v.as_str().to_string())
                };
                let (chunk, number) = (header(chunks::CHUNK), header(sequence::FRAME));
                let subject = message.subject.to_string();
                let (frame, settle) = match chunk {
                    None => (message.payload.clone(), vec![message]),
                    Some(chunk) => {
                        let payload = message.payload.clone();
                        match joiner.add(&chunk, &payload, message) {
                            Joined::Frame(frame, settle) => (frame.into(), settle),
                            Joined::Partial => continue,
                            Joined::Broken(why, _) => {
                                lose(&format!("{why}: a frame was lost"));
                                break;
                            }
                        }
                    }
                };
                if let Some((sender, n)) = number.as_deref().and_then(sequence::parse) {
                    match numbers.check(sender, &subject, n) {
                        Order::Next => {}
                        Order::Again => {
                            for m in settle {
                                let _ = m.ack().await;
                            }
                            continue;
                        }
                        Order::Gap { expected } => {
                            lose(&format!(
                                "frame {n} from {sender} on {subject} came where {expected} was due: a frame was lost"
                            ));
                            break;
                        }
                    }
                }
                let acker = runtime.clone();
                let done: Box<dyn FnOnce() + Send> = Box::new(move || {
                    acker.spawn(async move {
                        for m in settle {
                            let _ = m.ack().await;
                        }
                    });
                });
                deliver(route, &frame, done);
            }
        });
        Ok(Inbox {
            stream: subjects::stream(deployment),
            name,
            task,
            gaps,
        })
    }

    /// Frames found missing: the consumer stopped there, and the incarnation must be replaced.
    pub fn gaps(&self) -> u64 {
        self.gaps.load(AtomicOrdering::Relaxed)
    }

    /// Stops consuming and deletes the consumer.
    pub async fn close(self, js: &jetstream::Context) {
        self.task.abort();
        if let Ok(stream) = js.get_stream(&self.stream).await {
            let _ = stream.delete_consumer(&self.name).await;
        }
    }
}
