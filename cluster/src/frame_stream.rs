//! The stream that carries one deployment's frames: created by the first part to start, and
//! reachable from this process's connection before any frame is published on it.

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind};

use crate::error::ClusterError;
use crate::patience::patiently;
use crate::subjects;

/// Creates (or finds) `deployment`'s stream of frames, then waits until a publication on it
/// from `js`'s connection reaches it.
///
/// A stream just created on a NATS cluster is known to the server this process is connected
/// to only a moment later; a frame published before that is answered "no stream found" and is
/// lost, which costs the whole incarnation (seen in a three-server cluster).
pub async fn ensure(
    js: &jetstream::Context,
    deployment: &str,
    replicas: usize,
) -> Result<(), ClusterError> {
    patiently(|| crate::buckets::replicated(replicas, |r| create(js, deployment, r))).await?;
    patiently(|| probe(js, deployment)).await
}

async fn create(
    js: &jetstream::Context,
    deployment: &str,
    replicas: usize,
) -> Result<(), ClusterError> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: subjects::stream(deployment),
        subjects: vec![subjects::stream_subjects(deployment)],
        // Each frame has exactly one consumer (the filters are disjoint: one per task and
        // incarnation, one for the leader's events), so a frame is removed once acknowledged
        // and the stream holds only what is in flight.
        retention: jetstream::stream::RetentionPolicy::WorkQueue,
        // Frames matter only while their incarnation lives; this bounds what a forgotten
        // deployment keeps.
        max_age: Duration::from_secs(3600),
        num_replicas: replicas,
        ..Default::default()
    })
    .await
    .map(drop)
    .map_err(|e| ClusterError::nats(&format!("cannot create the stream of {deployment}"), e))
}

/// One publication the stream must refuse (it expects a last sequence no stream reaches), so
/// nothing is stored: the stream's refusal proves it is reachable, "no stream found" that it
/// is not yet.
async fn probe(js: &jetstream::Context, deployment: &str) -> Result<(), ClusterError> {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Expected-Last-Sequence", u64::MAX.to_string().as_str());
    let subject = subjects::probe(deployment);
    let refused =
        |e| ClusterError::nats(&format!("the stream of {deployment} is not reachable"), e);
    let ack = js
        .publish_with_headers(subject, headers, bytes::Bytes::new())
        .await
        .map_err(refused)?;
    match ack.await {
        Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Ok(()),
        Err(e) => Err(refused(e)),
        Ok(_) => Err(ClusterError::Refused(format!(
            "the stream of {deployment} stored a probe it should have refused"
        ))),
    }
}
