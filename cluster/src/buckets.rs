//! The JetStream buckets the cluster keeps its state in, created on first use by whichever
//! process comes first (creating a bucket with the same configuration twice is a no-op).

use std::time::Duration;

use async_nats::jetstream::{self, kv, object_store, stream};

use crate::error::ClusterError;
use crate::patience::patiently;

/// Live workers, one entry per worker, renewed by its heartbeat.
pub const WORKERS: &str = "squall-workers";
/// Deployments by name.
pub const DEPLOYMENTS: &str = "squall-deployments";
/// The current assignment of each deployment.
pub const ASSIGNMENTS: &str = "squall-assignments";
/// The complete checkpoints of each deployment (objects: they can exceed a message).
pub const CHECKPOINTS: &str = "squall-checkpoints";
/// Per deployment and incarnation, the checkpoint every part of that incarnation restores:
/// written once (create), by the first part to start.
pub const RESTORES: &str = "squall-restores";

/// A worker's lease: its entry expires this long after its last heartbeat, and the others
/// then consider it gone. It outlasts a NATS cluster's failover: when the server leading the
/// workers' bucket dies, renewals fail until the others elect a new leader, which took up to
/// 5 s in a cluster of three on one machine; with a lease of 3 s every worker lost its lease
/// then, and every deployment was reassigned. A dead worker's tasks move within 10 s.
pub const LEASE_TTL: Duration = Duration::from_secs(10);
/// How often a worker renews its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// A connection to the cluster's NATS server and its buckets.
#[derive(Clone)]
pub struct Cluster {
    /// The NATS client.
    pub client: async_nats::Client,
    /// The JetStream context for the cluster's state (leases, records, checkpoints).
    pub js: jetstream::Context,
    /// The JetStream context for frames: in a worker, on a connection of its own, so that a
    /// flood of frames never delays a heartbeat past its lease.
    pub frames: jetstream::Context,
    /// [`WORKERS`].
    pub workers: kv::Store,
    /// [`DEPLOYMENTS`].
    pub deployments: kv::Store,
    /// [`ASSIGNMENTS`].
    pub assignments: kv::Store,
    /// [`CHECKPOINTS`].
    pub checkpoints: object_store::ObjectStore,
    /// [`RESTORES`].
    pub restores: kv::Store,
    /// Copies JetStream keeps of every bucket and stream asked for: 3 on a clustered server
    /// (so one server may fail), 1 on a lone one.
    pub replicas: usize,
}

/// How many copies of its state to ask for on the server behind `client`: 3 on a clustered
/// server (a server may then fail without losing anything; see [`replicated`] for a cluster of
/// two), 1 on a lone one. Not from the servers the cluster advertises: right after a cluster
/// starts, a server may not know all of its peers yet, and a bucket created then with fewer
/// copies never survives a server's loss.
fn replicas(client: &async_nats::Client) -> usize {
    if client.server_info().cluster.is_none() {
        1
    } else {
        3
    }
}

/// Runs `create` with `replicas` copies, and with fewer while the cluster answers that it has
/// too few servers for them.
pub async fn replicated<T, F, Fut>(replicas: usize, mut create: F) -> Result<T, ClusterError>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, ClusterError>>,
{
    let mut copies = replicas;
    loop {
        match create(copies).await {
            Err(ClusterError::Nats(e)) if copies > 1 && e.contains("insufficient resources") => {
                copies -= 1;
            }
            done => return done,
        }
    }
}

impl Cluster {
    /// Connects to the NATS server at `url` and opens (or creates) the buckets; frames share
    /// the connection (for the client commands, which send none).
    pub async fn connect(url: &str) -> Result<Cluster, ClusterError> {
        let client = dial(url).await?;
        let js = jetstream::new(client.clone());
        let replicas = replicas(&client);
        // A cluster that has just started elects JetStream's leaders first.
        let bucket = |name, max_age| {
            let js = &js;
            patiently(move || replicated(replicas, move |r| key_value(js, name, max_age, r)))
        };
        let workers = bucket(WORKERS, LEASE_TTL).await?;
        let deployments = bucket(DEPLOYMENTS, Duration::ZERO).await?;
        let assignments = bucket(ASSIGNMENTS, Duration::ZERO).await?;
        let restores = bucket(RESTORES, Duration::ZERO).await?;
        let checkpoints = patiently(|| replicated(replicas, |r| object_store(&js, r))).await?;
        Ok(Cluster {
            client,
            frames: js.clone(),
            js,
            workers,
            deployments,
            assignments,
            checkpoints,
            restores,
            replicas,
        })
    }
}

impl Cluster {
    /// As [`Cluster::connect`], with a second connection for frames (a worker's): its
    /// publications wait up to [`FRAME_ACK_TIMEOUT`] for JetStream's acknowledgement and at
    /// most [`FRAMES_IN_FLIGHT`] wait at once, so a busy server slows the senders down
    /// rather than failing frames.
    pub async fn connect_worker(url: &str) -> Result<Cluster, ClusterError> {
        let mut cluster = Cluster::connect(url).await?;
        let client = dial(url).await?;
        cluster.frames = jetstream::ContextBuilder::new()
            .timeout(FRAME_ACK_TIMEOUT)
            .max_ack_inflight(FRAMES_IN_FLIGHT)
            .backpressure_on_inflight(true)
            .build(client);
        Ok(cluster)
    }
}

/// How long a frame's publication waits for JetStream to store it before it counts as lost.
pub const FRAME_ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Frames published and not yet acknowledged by JetStream, at most, per worker.
pub const FRAMES_IN_FLIGHT: usize = 1024;

/// Connects to the server at `url`, or to any of a comma-separated list of a NATS cluster's
/// servers (the client moves to another one when its server goes away).
async fn dial(url: &str) -> Result<async_nats::Client, ClusterError> {
    let servers = url
        .split(',')
        .map(|u| u.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClusterError::nats(&format!("cannot read the server list {url}"), e))?;
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(servers)
        .await
        .map_err(|e| ClusterError::nats(&format!("cannot connect to {url}"), e))
}

/// Opens bucket `name`, creating it (history 1, entries expiring after `max_age`, zero: never)
/// when it does not exist yet. The bucket's stream is created here, as the client library's
/// `create_key_value` does, because that one first asks for the account's information, which
/// it cannot parse from nats-server 2.9.
async fn key_value(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<kv::Store, ClusterError> {
    if let Ok(store) = js.get_key_value(name).await {
        return Ok(store);
    }
    let created = js
        .create_stream(stream::Config {
            name: format!("KV_{name}"),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_age,
            discard: stream::DiscardPolicy::New,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            num_replicas: replicas,
            ..Default::default()
        })
        .await;
    let opened = js.get_key_value(name).await;
    match (created, opened) {
        (_, Ok(store)) => Ok(store),
        (Err(e), Err(_)) => Err(ClusterError::nats(
            &format!("cannot create bucket {name}"),
            e,
        )),
        (Ok(_), Err(e)) => Err(ClusterError::nats(&format!("cannot open bucket {name}"), e)),
    }
}

/// Opens the checkpoints' object store, creating it when it does not exist yet.
async fn object_store(
    js: &jetstream::Context,
    replicas: usize,
) -> Result<object_store::ObjectStore, ClusterError> {
    match js.get_object_store(CHECKPOINTS).await {
        Ok(store) => Ok(store),
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: CHECKPOINTS.to_string(),
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| ClusterError::nats("cannot create the checkpoint store", e)),
    }
}
