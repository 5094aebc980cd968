//! PostgreSQL with tokio-postgres: an idempotent batched sink.
//!
//! An endpoint `postgres://USER@HOST:PORT/DB?table=NAME` (optionally `&password=`) names a table,
//! created when missing as
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS NAME (
//!     id          TEXT PRIMARY KEY,          -- the record's key: the tuple's identity
//!     payload     JSONB NOT NULL,            -- BYTEA with ?format=msgpack
//!     inserted_at TIMESTAMPTZ NOT NULL DEFAULT now())
//! ```
//!
//! Each batch is one `INSERT ... SELECT FROM unnest($1, $2) ON CONFLICT (id) DO NOTHING`, so a
//! replayed tuple, or a batch re-sent after a lost connection, leaves one row per identity.
//! Query it as `SELECT payload->>'sensor' FROM NAME`.

mod publisher;

use squall::Tuple;

use crate::broker::{BrokerError, BrokerSink, Endpoint, Scheme};

/// A sink to a `postgres://` endpoint; give it the tuple's identity with
/// [`BrokerSink::with_key`] (otherwise a hash of the payload is the key).
///
/// ```no_run
/// let sink = squall_connectors::postgres::sink::<u64>(
///     &"postgres://squall@127.0.0.1:5432/db?table=numbers".parse()?,
/// )?
/// .with_key(|n: &u64| n.to_string());
/// # Ok::<(), squall_connectors::broker::BrokerError>(())
/// ```
pub fn sink<T: Tuple>(endpoint: &Endpoint) -> Result<BrokerSink<T>, BrokerError> {
    if endpoint.scheme != Scheme::Postgres {
        return Err(BrokerError::InvalidEndpoint {
            url: endpoint.to_string(),
            reason: "not a postgres:// endpoint".into(),
        });
    }
    Ok(BrokerSink::from_publisher(
        publisher::PostgresPublisher::new(endpoint.clone())?,
    ))
}
