//! Checkpointed state: what a stateful bolt or a replayable spout hands the runtime.
//!
//! State is encoded with MessagePack (rmp-serde), the wire format at every byte boundary, so a
//! snapshot can live in memory or in a file of the state backend alike. A bolt keeps whatever
//! serde type it likes: a whole-bolt struct, or keyed state (a map from the fields-grouping key
//! to a value), which is the same thing seen from one task.

use serde::{de::DeserializeOwned, Serialize};

use crate::transport::codec::{self, CodecError};

/// The encoded state of one task at one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State(Vec<u8>);

impl State {
    /// Encodes `value` as MessagePack.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let state = squall::State::encode(&vec![("cat".to_string(), 2u64)])?;
    /// let back: Vec<(String, u64)> = state.decode()?;
    /// assert_eq!(back, vec![("cat".to_string(), 2)]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn encode<T: Serialize>(value: &T) -> Result<State, CodecError> {
        codec::encode(value).map(State)
    }

    /// Decodes the value [`State::encode`] stored.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, CodecError> {
        codec::decode(&self.0)
    }

    /// Wraps bytes read back from a state backend.
    pub fn from_bytes(bytes: Vec<u8>) -> State {
        State(bytes)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Size of the encoding in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty encoding.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
