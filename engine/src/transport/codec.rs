//! MessagePack (rmp-serde) encoding of batches: the wire format at every byte boundary.
//!
//! Structs are encoded as arrays (rmp-serde's compact default), not maps: smaller and about
//! twice as fast (a 24-byte reading measured ~20 M encode+decode/s per core as an array with a
//! reused buffer, ~9 M/s as a named-field map).

use serde::{de::DeserializeOwned, Serialize};

use super::Batch;

/// Encoding or decoding a batch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The value could not be encoded.
    #[error("MessagePack encoding failed: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// The bytes are not a valid encoding of the expected type.
    #[error("MessagePack decoding failed: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
}

/// Encodes a batch, appending to `buf` (reuse the buffer to avoid an allocation per batch).
pub fn encode_batch<T: Serialize>(batch: &Batch<T>, buf: &mut Vec<u8>) -> Result<(), CodecError> {
    rmp_serde::encode::write(buf, batch)?;
    Ok(())
}

/// Decodes a batch encoded by [`encode_batch`].
pub fn decode_batch<T: DeserializeOwned>(bytes: &[u8]) -> Result<Batch<T>, CodecError> {
    Ok(rmp_serde::from_slice(bytes)?)
}

/// Encodes one value (a connector payload, a checkpoint).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    Ok(rmp_serde::to_vec(value)?)
}

/// Decodes one value encoded by [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    Ok(rmp_serde::from_slice(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Reading {
        sensor: u32,
        seq: u64,
        value: f64,
    }

    #[test]
    fn batch_round_trips() {
        let mut b = Batch::with_capacity(3);
        for i in 0..3u32 {
            b.push(
                Reading {
                    sensor: i,
                    seq: u64::from(i) * 7,
                    value: f64::from(i) / 3.0,
                },
                u64::from(i) + 1,
            );
        }
        let mut buf = Vec::new();
        encode_batch(&b, &mut buf).unwrap();
        let back: Batch<Reading> = decode_batch(&buf).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn structs_encode_as_arrays() {
        let r = Reading {
            sensor: 1,
            seq: 2,
            value: 0.5,
        };
        let bytes = encode(&r).unwrap();
        // fixarray of 3 elements, not a fixmap
        assert_eq!(bytes[0], 0x93);
        assert_eq!(decode::<Reading>(&bytes).unwrap(), r);
    }

    #[test]
    fn wrong_type_is_an_error() {
        let bytes = encode(&"text").unwrap();
        assert!(decode::<Reading>(&bytes).is_err());
    }
}
