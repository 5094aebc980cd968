//! What can go wrong talking to the cluster.

/// An error of a cluster operation: one sentence for the user.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The NATS server could not be reached or refused an operation.
    #[error("NATS: {0}")]
    Nats(String),
    /// A stored record did not decode.
    #[error("a stored record does not decode: {0}")]
    Decode(String),
    /// A request that cannot be carried out (a name already running, an unknown deployment...).
    #[error("{0}")]
    Refused(String),
}

impl ClusterError {
    /// Wraps a NATS client error, saying what was being done.
    pub fn nats(doing: &str, e: impl std::fmt::Display) -> Self {
        ClusterError::Nats(format!("{doing}: {e}"))
    }
}
