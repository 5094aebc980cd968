//! [`CheckpointStore`] on a JetStream object store, and the restore point of each incarnation.
//!
//! Every complete checkpoint is an object of its own, named by deployment, submission,
//! incarnation and id, never overwritten: the leader of an incarnation that was just replaced
//! may still complete a checkpoint while the parts of the next one start, and if it replaced
//! a shared object the new parts could restore different checkpoints (a part restored past
//! its neighbour stalls or double-counts). Instead the first part of an incarnation to start
//! picks the latest checkpoint of the earlier incarnations and pins it in [`RESTORES`] with a
//! create (which only one writer wins); every other part of that incarnation restores the
//! pinned one. The latest checkpoint of each incarnation is also named in [`RESTORES`] (key
//! `DEPLOYMENT.SUBMITTED.latest.INCARNATION`), so nothing ever lists the object store (a listing
//! of an empty bucket waits for an entry that never comes). Objects are chunked, so a
//! checkpoint can exceed a message's size limit; an incarnation keeps its last two.
//!
//! [`RESTORES`]: crate::buckets::RESTORES

use async_nats::jetstream::kv;
use async_nats::jetstream::object_store::ObjectStore;
use squall::distributed::CheckpointStore;
use tokio::io::AsyncReadExt;

use crate::error::ClusterError;
use crate::patience::patiently;

/// The checkpoints one incarnation of a deployment submission saves.
pub struct JetStreamCheckpoints {
    store: ObjectStore,
    restores: kv::Store,
    prefix: String,
    incarnation: u64,
    runtime: tokio::runtime::Handle,
}

impl JetStreamCheckpoints {
    /// The store of incarnation `incarnation` of `deployment` submitted at `submitted_ms`,
    /// saving through `runtime`.
    pub fn new(
        store: ObjectStore,
        restores: kv::Store,
        deployment: &str,
        submitted_ms: u64,
        incarnation: u64,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        JetStreamCheckpoints {
            store,
            restores,
            prefix: prefix(deployment, submitted_ms),
            incarnation,
            runtime,
        }
    }
}

/// What every object of a submission's name starts with.
fn prefix(deployment: &str, submitted_ms: u64) -> String {
    format!("{deployment}.{submitted_ms}.")
}

/// An object's name: the prefix, then the incarnation and the id.
fn object(prefix: &str, incarnation: u64, id: u64) -> String {
    format!("{prefix}{incarnation}.{id}")
}

/// The key naming the latest checkpoint incarnation `incarnation` stored.
fn latest_key(prefix: &str, incarnation: u64) -> String {
    format!("{prefix}latest.{incarnation}")
}

impl CheckpointStore for JetStreamCheckpoints {
    fn save(&self, id: u64, blob: Vec<u8>) -> Result<(), String> {
        let store = self.store.clone();
        let restores = self.restores.clone();
        let name = object(&self.prefix, self.incarnation, id);
        let latest = latest_key(&self.prefix, self.incarnation);
        let older = id
            .checked_sub(2)
            .map(|old| object(&self.prefix, self.incarnation, old));
        let (tx, rx) = std::sync::mpsc::channel();
        // Called from the controller's thread, never a runtime thread: wait for the put there.
        self.runtime.spawn(async move {
            let result = async {
                store
                    .put(name.as_str(), &mut blob.as_slice())
                    .await
                    .map_err(|e| format!("cannot store checkpoint {name}: {e}"))?;
                restores
                    .put(latest.as_str(), id.to_string().into())
                    .await
                    .map_err(|e| format!("cannot record checkpoint {name}: {e}"))?;
                // The one before stays for a part of the next incarnation that read the
                // pointer just before it moved.
                if let Some(older) = older {
                    let _ = store.delete(older.as_str()).await;
                }
                Ok(())
            }
            .await;
            let _ = tx.send(result);
        });
        rx.recv()
            .map_err(|_| "the checkpoint store stopped".to_string())?
    }
}

/// The checkpoint incarnation `incarnation` of `deployment`'s submission `submitted_ms`
/// restores: the one pinned for it, or the latest of the earlier incarnations, pinned now.
/// `None` when there is none (the run starts from the beginning). Tried again while the
/// broker answers with errors: a record that could not be read is never taken for an absent
/// one (that would restart the run from the beginning).
pub async fn load(
    store: &ObjectStore,
    restores: &kv::Store,
    deployment: &str,
    submitted_ms: u64,
    incarnation: u64,
) -> Result<Option<(u64, Vec<u8>)>, ClusterError> {
    let prefix = prefix(deployment, submitted_ms);
    patiently(|| load_once(store, restores, &prefix, incarnation)).await
}

async fn load_once(
    store: &ObjectStore,
    restores: &kv::Store,
    prefix: &str,
    incarnation: u64,
) -> Result<Option<(u64, Vec<u8>)>, ClusterError> {
    let key = format!("{prefix}{incarnation}");
    let pinned = match get(restores, &key).await? {
        Some(value) => decode_pin(&value),
        None => {
            let latest = latest(restores, prefix, incarnation).await?;
            match restores.create(&key, encode_pin(latest).into()).await {
                Ok(_) => latest,
                // Another part pinned first (or this one, and the answer was lost): restore
                // what is pinned.
                Err(_) => match get(restores, &key).await? {
                    Some(value) => decode_pin(&value),
                    None => {
                        return Err(ClusterError::Nats(format!(
                            "the restore point {key} could be neither written nor read"
                        )))
                    }
                },
            }
        }
    };
    let Some((from, id)) = pinned else {
        return Ok(None);
    };
    let name = object(prefix, from, id);
    // The client library's object reader panics when the broker times out (a server of a
    // cluster going away): read in a task of its own, so that is an error to try again.
    let read = {
        let (store, name) = (store.clone(), name.clone());
        tokio::spawn(async move {
            let mut object = store.get(name.as_str()).await.map_err(|e| e.to_string())?;
            let mut bytes = Vec::new();
            object
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(bytes)
        })
    };
    let bytes = read
        .await
        .unwrap_or_else(|panicked| Err(panicked.to_string()))
        .map_err(|e| ClusterError::nats(&format!("cannot read checkpoint {name}"), e))?;
    Ok(Some((id, bytes)))
}

/// Entry `key` of `restores`; `None` when absent.
async fn get(restores: &kv::Store, key: &str) -> Result<Option<bytes::Bytes>, ClusterError> {
    restores
        .get(key)
        .await
        .map_err(|e| ClusterError::nats(&format!("cannot read {key}"), e))
}

/// The latest (incarnation, id) stored by an incarnation before `before`.
async fn latest(
    restores: &kv::Store,
    prefix: &str,
    before: u64,
) -> Result<Option<(u64, u64)>, ClusterError> {
    for incarnation in (1..before).rev() {
        if let Some(value) = get(restores, &latest_key(prefix, incarnation)).await? {
            if let Some(id) = std::str::from_utf8(&value)
                .ok()
                .and_then(|v| v.parse().ok())
            {
                return Ok(Some((incarnation, id)));
            }
        }
    }
    Ok(None)
}

fn encode_pin(pin: Option<(u64, u64)>) -> String {
    match pin {
        Some((incarnation, id)) => format!("{incarnation}.{id}"),
        None => "none".to_string(),
    }
}

fn decode_pin(value: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(value).ok()?;
    let (incarnation, id) = text.split_once('.')?;
    Some((incarnation.parse().ok()?, id.parse().ok()?))
}

/// Deletes the checkpoints and restore points of `deployment`'s submission `submitted_ms`,
/// incarnations 1 to `last` (absent ones are fine).
pub async fn remove(
    store: &ObjectStore,
    restores: &kv::Store,
    deployment: &str,
    submitted_ms: u64,
    last: u64,
) {
    let prefix = prefix(deployment, submitted_ms);
    for incarnation in 1..=last {
        let key = latest_key(&prefix, incarnation);
        if let Ok(Some(value)) = restores.get(&key).await {
            if let Some(id) = std::str::from_utf8(&value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
            {
                for old in [id, id.saturating_sub(1)] {
                    let _ = store
                        .delete(object(&prefix, incarnation, old).as_str())
                        .await;
                }
            }
        }
        let _ = restores.purge(&key).await;
        let _ = restores.purge(format!("{prefix}{incarnation}")).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_pins_read_back() {
        let p = prefix("wc", 17);
        assert_eq!(object(&p, 3, 12), "wc.17.3.12");
        assert_eq!(latest_key(&p, 3), "wc.17.latest.3");
        assert_eq!(
            decode_pin(encode_pin(Some((2, 9))).as_bytes()),
            Some((2, 9))
        );
        assert_eq!(decode_pin(encode_pin(None).as_bytes()), None);
    }
}
