//! JSON records in key-value buckets, read with their revision and written with
//! compare-and-set, so that two processes never both believe they changed the same version.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use futures_util::TryStreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ClusterError;
use crate::patience::patiently;

/// Record `key` of `store` and its revision; `None` when absent or deleted. Like every
/// operation here, it is tried again while the broker answers with errors (see
/// [`crate::patience`]).
pub async fn read<T: DeserializeOwned>(
    store: &kv::Store,
    key: &str,
) -> Result<Option<(T, u64)>, ClusterError> {
    let entry = patiently(|| async {
        store
            .entry(key)
            .await
            .map_err(|e| ClusterError::nats(&format!("cannot read {key}"), e))
    })
    .await?;
    match entry {
        Some(e) if e.operation == Operation::Put => {
            let value = serde_json::from_slice(&e.value)
                .map_err(|err| ClusterError::Decode(format!("{key}: {err}")))?;
            Ok(Some((value, e.revision)))
        }
        _ => Ok(None),
    }
}

/// Every record of `store` by key, with its revision. A record that vanishes between the
/// listing and its reading is left out; one that does not decode is an error. A listing can
/// miss a key whose entry is being replaced: decide that a record is gone only by [`read`].
pub async fn read_all<T: DeserializeOwned>(
    store: &kv::Store,
) -> Result<BTreeMap<String, (T, u64)>, ClusterError> {
    let keys: Vec<String> = keys(store).await?;
    let mut all = BTreeMap::new();
    for key in keys {
        if let Some(record) = read(store, &key).await? {
            all.insert(key, record);
        }
    }
    Ok(all)
}

/// How long one listing of a bucket may take before it is started again.
const LISTING_TIMEOUT: Duration = Duration::from_secs(2);
/// Listings tried before [`keys`] gives up.
const LISTING_ATTEMPTS: u32 = 3;

/// The keys of `store` (not deleted ones), sorted.
///
/// The client library's listing reads as many entries as the server said were pending when
/// it began, and waits for the last: an entry that expires in between (a worker's lease) is
/// never delivered, and that listing never ends. So each listing is bounded, and started
/// again when it takes too long; the caller sees an error only after several.
pub async fn keys(store: &kv::Store) -> Result<Vec<String>, ClusterError> {
    for _ in 0..LISTING_ATTEMPTS {
        let listing = async {
            store
                .keys()
                .await
                .map_err(|e| ClusterError::nats("cannot list keys", e))?
                .try_collect::<Vec<String>>()
                .await
                .map_err(|e| ClusterError::nats("cannot list keys", e))
        };
        if let Ok(listed) = tokio::time::timeout(LISTING_TIMEOUT, listing).await {
            let mut keys = listed?;
            keys.sort();
            return Ok(keys);
        }
    }
    Err(ClusterError::nats(
        "cannot list keys",
        format!(
            "no listing of bucket {} ended within {} s, {LISTING_ATTEMPTS} times",
            store.name,
            LISTING_TIMEOUT.as_secs()
        ),
    ))
}

/// Writes `value` at `key` only if the key is still at `revision` (`None`: only if it does not
/// exist). `Ok(false)` when another writer got there first: re-read and decide again.
///
/// A write whose answer was lost and that is then tried again finds its own record in place
/// and returns `Ok(false)` too: a caller that re-reads sees what it wrote.
pub async fn write_cas<T: Serialize>(
    store: &kv::Store,
    key: &str,
    value: &T,
    revision: Option<u64>,
) -> Result<bool, ClusterError> {
    let bytes: bytes::Bytes = serde_json::to_vec(value)
        .map_err(|e| ClusterError::Decode(format!("{key}: {e}")))?
        .into();
    patiently(|| async {
        match revision {
            Some(r) => match store.update(key, bytes.clone(), r).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => Ok(false),
                Err(e) => Err(ClusterError::nats(&format!("cannot update {key}"), e)),
            },
            None => match store.create(key, bytes.clone()).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(ClusterError::nats(&format!("cannot create {key}"), e)),
            },
        }
    })
    .await
}

/// Deletes `key` (absent already is fine).
pub async fn delete(store: &kv::Store, key: &str) -> Result<(), ClusterError> {
    patiently(|| async {
        store
            .delete(key)
            .await
            .map_err(|e| ClusterError::nats(&format!("cannot delete {key}"), e))
    })
    .await
}

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
