//! The PostgreSQL sink's client: create the table, insert batches idempotently.

use tokio_postgres::{Client, NoTls, Statement};

use crate::broker::{BrokerError, ConnectionState, Endpoint, Format, Publisher, Record};

/// Inserts records into a table keyed on the record's key.
#[derive(Debug, Clone)]
pub(crate) struct PostgresPublisher {
    endpoint: Endpoint,
    table: String,
}

/// An open connection and its prepared insert.
pub(crate) struct Conn {
    client: Client,
    insert: Statement,
}

impl PostgresPublisher {
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, BrokerError> {
        let table = endpoint.param("table").unwrap_or_default().to_string();
        let valid = table.split('.').count() <= 2
            && table.split('.').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !valid {
            return Err(BrokerError::InvalidEndpoint {
                url: endpoint.to_string(),
                reason: format!(
                    "table `{table}` is not a plain SQL name ([schema.]name of letters, digits, _)"
                ),
            });
        }
        Ok(PostgresPublisher { endpoint, table })
    }

    fn error(&self, what: &str, e: tokio_postgres::Error) -> BrokerError {
        // SQLSTATE classes 08 (connection) and 57 (operator intervention: shutdown, starting
        // up) are worth a retry; no SQLSTATE at all means the connection itself failed.
        let transient = e.is_closed()
            || e.as_db_error().is_none_or(|db| {
                let code = db.code().code();
                code.starts_with("08") || code.starts_with("57")
            });
        let reason = format!(
            "{what}: {}",
            e.as_db_error().map_or(e.to_string(), |d| d.to_string())
        );
        if transient {
            BrokerError::connection(&self.endpoint, reason)
        } else {
            BrokerError::refused(&self.endpoint, reason)
        }
    }
}

impl Publisher for PostgresPublisher {
    type Conn = Conn;

    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn connect(&self, _: &ConnectionState) -> Result<Conn, BrokerError> {
        let e = &self.endpoint;
        let mut config = tokio_postgres::Config::new();
        config
            .host(&e.host)
            .port(e.port)
            .dbname(&e.target)
            .user(e.user.as_deref().unwrap_or("postgres"))
            .connect_timeout(std::time::Duration::from_secs(5));
        if let Some(p) = e.param("password") {
            config.password(p);
        }
        let (client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|err| self.error("cannot connect", err))?;
        // The connection object does the I/O; it ends when the client is dropped.
        tokio::spawn(connection);
        let (payload_type, cast) = match e.format {
            Format::MsgPack => ("BYTEA", "bytea[]"),
            _ => ("JSONB", "text[]"),
        };
        let table = &self.table;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, payload {payload_type} NOT NULL, \
                 inserted_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            ))
            .await
            .map_err(|err| self.error(&format!("cannot create table {table}"), err))?;
        let insert = client
            .prepare(&format!(
                "INSERT INTO {table} (id, payload) SELECT k, p::{} FROM unnest($1::text[], $2::{cast}) AS u(k, p) \
                 ON CONFLICT (id) DO NOTHING",
                payload_type.to_lowercase()
            ))
            .await
            .map_err(|err| self.error(&format!("cannot prepare the insert into {table}"), err))?;
        Ok(Conn { client, insert })
    }

    async fn publish(&self, conn: &mut Conn, batch: &[Record]) -> Result<(), BrokerError> {
        let keys: Vec<&str> = batch.iter().map(|r| r.key.as_str()).collect();
        let result = match self.endpoint.format {
            Format::MsgPack => {
                let payloads: Vec<&[u8]> = batch.iter().map(|r| r.payload.as_slice()).collect();
                conn.client.execute(&conn.insert, &[&keys, &payloads]).await
            }
            _ => {
                let payloads = batch
                    .iter()
                    .map(|r| std::str::from_utf8(&r.payload))
                    .collect::<Result<Vec<&str>, _>>()
                    .map_err(|e| BrokerError::Encode {
                        endpoint: self.endpoint.to_string(),
                        reason: e.to_string(),
                    })?;
                conn.client.execute(&conn.insert, &[&keys, &payloads]).await
            }
        };
        result
            .map(|_| ())
            .map_err(|e| self.error(&format!("cannot insert into {}", self.table), e))
    }
}
