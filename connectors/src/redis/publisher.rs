//! The Redis sink's client: one pipeline of XADDs per batch.

use redis::Connection;

use super::{client, error};
use crate::broker::{BrokerError, ConnectionState, Endpoint, Publisher, Record};

/// Appends records to a Redis stream (fields `id` and `payload`).
#[derive(Debug, Clone)]
pub(crate) struct RedisPublisher {
    endpoint: Endpoint,
}

impl RedisPublisher {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        RedisPublisher { endpoint }
    }
}

impl Publisher for RedisPublisher {
    type Conn = Connection;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn connect(&self, _: &ConnectionState) -> Result<Connection, BrokerError> {
        client(&self.endpoint)?
            .get_connection_with_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| error(&self.endpoint, e))
    }

    async fn publish(&self, conn: &mut Connection, batch: &[Record]) -> Result<(), BrokerError> {
        let mut pipe = redis::pipe();
        for r in batch {
            pipe.cmd("XADD")
                .arg(&self.endpoint.target)
                .arg("*")
                .arg("id")
                .arg(&r.key)
                .arg("payload")
                .arg(&r.payload)
                .ignore();
        }
        pipe.query::<()>(conn).map_err(|e| error(&self.endpoint, e))
    }
}
