//! What can go wrong talking to a broker.

/// An error of a broker spout or sink; every variant names the endpoint.
///
/// Connection losses are not errors of the run: clients reconnect with [`super::Backoff`] and
/// say so on stderr. What fails a task is a bad endpoint, a broker refusing what it is asked
/// (a missing permission, a table of the wrong shape), or a client thread that stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The endpoint URL does not parse or lacks something.
    #[error("invalid endpoint {url}: {reason}")]
    InvalidEndpoint {
        /// The URL as given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The connection failed or was lost; retried with backoff.
    #[error("{endpoint}: connection failed: {reason}")]
    Connection {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The broker refused a request; not retried.
    #[error("{endpoint}: {reason}")]
    Refused {
        /// The endpoint.
        endpoint: String,
        /// What was refused and why.
        reason: String,
    },
    /// A tuple could not be encoded in the endpoint's format.
    #[error("{endpoint}: cannot encode a tuple: {reason}")]
    Encode {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// A sink given a deadline to reach its broker ([`super::BrokerSink::with_connect_deadline`])
    /// never reached it in time; not retried.
    #[error("{endpoint}: never connected to {address} within {after_s} s")]
    NeverConnected {
        /// The endpoint.
        endpoint: String,
        /// `HOST:PORT` of the broker.
        address: String,
        /// The deadline, in seconds.
        after_s: f64,
    },
    /// The client thread could not start or has stopped.
    #[error("{endpoint}: client thread stopped: {reason}")]
    Stopped {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
}

impl BrokerError {
    /// A lost or failed connection (worth a retry).
    pub(crate) fn connection(endpoint: &impl ToString, reason: impl ToString) -> Self {
        BrokerError::Connection {
            endpoint: endpoint.to_string(),
            reason: reason.to_string(),
        }
    }

    /// A refusal (not worth a retry).
    #[allow(dead_code)] // not every broker feature refuses
    pub(crate) fn refused(endpoint: &impl ToString, reason: impl ToString) -> Self {
        BrokerError::Refused {
            endpoint: endpoint.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Whether retrying after a reconnect may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, BrokerError::Connection { .. })
    }
}
