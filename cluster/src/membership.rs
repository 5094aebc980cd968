//! Workers' leases: each live worker has an entry in [`crate::buckets::WORKERS`], renewed
//! every [`HEARTBEAT`]; the bucket's entries expire [`LEASE_TTL`] after they were written, so
//! a worker that stopped heartbeating (killed, frozen, cut off) is gone from the listing
//! within the TTL with nobody deleting anything.

use serde::{Deserialize, Serialize};

use crate::buckets::{Cluster, HEARTBEAT, LEASE_TTL};
use crate::error::ClusterError;
use crate::records;

/// A worker's entry (JSON), key = its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerEntry {
    /// Its name, unique in the cluster.
    pub name: String,
    /// The machine it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it last renewed its lease (Unix ms, its own clock).
    pub heartbeat_ms: u64,
}

impl WorkerEntry {
    /// The entry of this process, named `name`, heartbeat now.
    pub fn this_process(name: &str) -> WorkerEntry {
        WorkerEntry {
            name: name.to_string(),
            host: hostname(),
            pid: std::process::id(),
            heartbeat_ms: records::now_ms(),
        }
    }
}

/// This machine's host name (`localhost` when it cannot be read).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The default worker name: host name and process id, which no other live process shares.
pub fn default_name() -> String {
    let host: String = hostname()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{host}-{}", std::process::id())
}

/// Fails unless `name` can name a worker (it becomes a key and part of consumer names).
pub fn check_name(name: &str) -> Result<(), ClusterError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ClusterError::Refused(format!(
            "worker name {name:?} must be 1 to 64 letters, digits, - or _"
        )))
    }
}

/// Writes (renews) `entry`'s lease with a heartbeat of now.
pub async fn heartbeat(cluster: &Cluster, entry: &WorkerEntry) -> Result<(), ClusterError> {
    let mut entry = entry.clone();
    entry.heartbeat_ms = records::now_ms();
    let bytes = serde_json::to_vec(&entry).map_err(|e| ClusterError::Decode(e.to_string()))?;
    cluster
        .workers
        .put(&entry.name, bytes.into())
        .await
        .map(drop)
        .map_err(|e| ClusterError::nats("cannot renew the lease", e))
}

/// Ends `name`'s lease now, so that the others reassign its tasks at once.
pub async fn leave(cluster: &Cluster, name: &str) -> Result<(), ClusterError> {
    records::delete(&cluster.workers, name).await
}

/// The live workers' entries, sorted by name.
pub async fn live(cluster: &Cluster) -> Result<Vec<WorkerEntry>, ClusterError> {
    live_among(cluster, &[]).await
}

/// The live workers' entries, sorted by name, looking at `known` names besides the listed
/// ones. A listing can miss a key whose entry is replaced while it runs (a heartbeat deletes
/// the entry before), so each name is confirmed by reading its entry, which is atomic, and
/// callers pass the names they saw live before: a heartbeat never makes a worker vanish.
pub async fn live_among(
    cluster: &Cluster,
    known: &[String],
) -> Result<Vec<WorkerEntry>, ClusterError> {
    let mut names = records::keys(&cluster.workers).await?;
    names.extend(known.iter().cloned());
    names.sort();
    names.dedup();
    let mut live = Vec::new();
    for name in names {
        if let Some((w, _)) = records::read::<WorkerEntry>(&cluster.workers, &name).await? {
            live.push(w);
        }
    }
    Ok(live)
}

/// Renews `entry`'s lease every [`HEARTBEAT`] until the task is aborted. A failed renewal is
/// said on stderr and retried at the next beat (the lease survives two missed beats).
pub async fn heartbeats(cluster: Cluster, entry: WorkerEntry) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = heartbeat(&cluster, &entry).await {
            eprintln!(
                "worker {}: {e} (the lease lasts {} s)",
                entry.name,
                LEASE_TTL.as_secs()
            );
        }
    }
}
